package org.gpulrp.fuzz;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * Structural mutations of a protobuf message (an ONNX file): the wire format is parsed into a tree without a schema
 * (a length-delimited field that parses as a message is treated as one), a few fields are changed, removed,
 * duplicated or moved, and the tree is written back with every length prefix recomputed, so the mutant stays
 * well-formed protobuf and reaches the importer's semantic checks (tensor dims, data lengths, attributes) rather
 * than stopping at the wire level.
 */
final class ProtoMutator {
    private static final int MAX_DEPTH = 12;

    /** One field; {@code children} is non-null when a length-delimited payload parsed as a message. */
    private static final class Field {
        int number;
        int wire;
        long value; // varint
        byte[] bytes; // fixed32, fixed64 or length-delimited payload
        List<Field> children;

        Field copy() {
            Field f = new Field();
            f.number = number;
            f.wire = wire;
            f.value = value;
            f.bytes = bytes == null ? null : bytes.clone();
            if (children != null) {
                f.children = new ArrayList<>();
                for (Field c : children) {
                    f.children.add(c.copy());
                }
            }
            return f;
        }
    }

    private ProtoMutator() {
    }

    /** Mutates {@code proto} structurally; falls back to a byte-level mutation when it does not parse. */
    static byte[] mutate(Random r, byte[] proto, List<byte[]> others) {
        List<Field> root = parse(proto, 0, proto.length, 0);
        if (root == null) {
            return Mutator.havoc(r, proto, others, 3);
        }
        List<List<Field>> messages = new ArrayList<>();
        List<Field> all = new ArrayList<>();
        collect(root, messages, all);
        int rounds = 1 + r.nextInt(3);
        for (int k = 0; k < rounds && !all.isEmpty(); k++) {
            Field f = all.get(r.nextInt(all.size()));
            List<Field> parent = parentOf(messages, f);
            switch (r.nextInt(10)) {
                case 0, 1, 2 -> value(r, f);
                case 3 -> parent.remove(f);
                case 4 -> parent.add(parent.indexOf(f) + 1, f.copy());
                case 5 -> { // move a field into another message
                    List<Field> target = messages.get(r.nextInt(messages.size()));
                    target.add(r.nextInt(target.size() + 1), f.copy());
                }
                case 6 -> f.number = r.nextBoolean() ? 1 + r.nextInt(20) : f.number + 1;
                case 7 -> { // swap with a sibling
                    int i = parent.indexOf(f);
                    int j = r.nextInt(parent.size());
                    parent.set(i, parent.get(j));
                    parent.set(j, f);
                }
                case 8 -> { // payload bytes mutated in place (strings, raw_data, packed arrays)
                    if (f.wire == 2) {
                        byte[] payload = f.children != null ? serialize(f.children) : f.bytes;
                        f.bytes = Mutator.havoc(r, payload == null ? new byte[0] : payload, others, 2);
                        f.children = null;
                    } else {
                        value(r, f);
                    }
                }
                default -> { // the same field with a different wire type
                    f.wire = new int[] {0, 1, 2, 5}[r.nextInt(4)];
                    if (f.wire == 1 || f.wire == 5) {
                        f.bytes = new byte[f.wire == 1 ? 8 : 4];
                    } else if (f.wire == 2 && f.bytes == null && f.children == null) {
                        f.bytes = new byte[0];
                    }
                }
            }
            all.clear();
            messages.clear();
            collect(root, messages, all);
        }
        return serialize(root);
    }

    /**
     * Sets the first field reached by {@code path} (field numbers from the top message down, first occurrence at
     * each level) to the varint {@code value}, and writes the message again with its lengths recomputed.
     */
    static byte[] setVarint(byte[] proto, long value, int... path) {
        List<Field> msg = parse(proto, 0, proto.length, 0);
        if (msg == null) {
            throw new IllegalArgumentException("not a protobuf message");
        }
        List<Field> root = msg;
        for (int k = 0; k < path.length; k++) {
            int number = path[k];
            Field f = msg.stream().filter(x -> x.number == number).findFirst()
                    .orElseThrow(() -> new IllegalArgumentException("no field " + number));
            if (k == path.length - 1) {
                f.wire = 0;
                f.value = value;
                f.bytes = null;
                f.children = null;
            } else {
                msg = f.children;
                if (msg == null) {
                    throw new IllegalArgumentException("field " + number + " is not a message");
                }
            }
        }
        return serialize(root);
    }

    /**
     * An ONNX model whose first initializer keeps its data in an external file: its {@code raw_data} is returned as
     * {@code data[0]} and replaced by {@code external_data} entries (location, offset 0, length) and
     * {@code data_location = EXTERNAL}. The caller writes {@code data[0]} to {@code location} beside the model.
     */
    static byte[] externalize(byte[] model, String location, byte[][] data) {
        List<Field> root = parse(model, 0, model.length, 0);
        Field graph = root.stream().filter(f -> f.number == 7 && f.children != null).findFirst().orElseThrow();
        Field init = graph.children.stream().filter(f -> f.number == 5 && f.children != null).findFirst()
                .orElseThrow();
        Field raw = init.children.stream().filter(f -> f.number == 9).findFirst().orElseThrow();
        data[0] = raw.children != null ? serialize(raw.children) : raw.bytes;
        init.children.remove(raw);
        String[][] entries = {{"location", location}, {"offset", "0"}, {"length", String.valueOf(data[0].length)}};
        for (String[] kv : entries) {
            Field e = new Field();
            e.number = 13;
            e.wire = 2;
            e.children = new ArrayList<>(List.of(text(1, kv[0]), text(2, kv[1])));
            init.children.add(e);
        }
        Field loc = new Field();
        loc.number = 14;
        loc.value = 1;
        init.children.add(loc);
        return serialize(root);
    }

    private static Field text(int number, String s) {
        Field f = new Field();
        f.number = number;
        f.wire = 2;
        f.bytes = s.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        return f;
    }

    private static void value(Random r, Field f) {
        switch (f.wire) {
            case 0 -> f.value = r.nextInt(4) == 0 ? f.value + r.nextInt(5) - 2
                    : Mutator.LONGS[r.nextInt(Mutator.LONGS.length)];
            case 1, 5 -> {
                float[] special = {Float.NaN, Float.POSITIVE_INFINITY, -0f, 1e30f, -1e30f, Float.MIN_VALUE, 0f};
                if (f.bytes.length == 4) {
                    Mutator.putInt(f.bytes, 0, Float.floatToRawIntBits(special[r.nextInt(special.length)]), 4, true);
                } else {
                    Mutator.putInt(f.bytes, 0, Mutator.LONGS[r.nextInt(Mutator.LONGS.length)], 8, true);
                }
            }
            default -> {
                if (f.children != null && r.nextBoolean()) {
                    f.children.clear();
                } else {
                    byte[] payload = f.children != null ? serialize(f.children) : f.bytes;
                    f.children = null;
                    f.bytes = switch (r.nextInt(3)) {
                        case 0 -> Arrays.copyOf(payload, payload.length == 0 ? 0 : r.nextInt(payload.length));
                        case 1 -> Arrays.copyOf(payload, payload.length + 1 + r.nextInt(64));
                        default -> new byte[0];
                    };
                }
            }
        }
    }

    private static List<Field> parentOf(List<List<Field>> messages, Field f) {
        for (List<Field> m : messages) {
            for (Field c : m) {
                if (c == f) {
                    return m;
                }
            }
        }
        throw new IllegalStateException("field without parent");
    }

    private static void collect(List<Field> msg, List<List<Field>> messages, List<Field> all) {
        messages.add(msg);
        for (Field f : msg) {
            all.add(f);
            if (f.children != null) {
                collect(f.children, messages, all);
            }
        }
    }

    /** The fields of {@code b[from, to)}, or null when it is not a well-formed message. */
    private static List<Field> parse(byte[] b, int from, int to, int depth) {
        List<Field> out = new ArrayList<>();
        int[] pos = {from};
        while (pos[0] < to) {
            long tag = readVarint(b, pos, to);
            if (tag < 8 || tag > Integer.MAX_VALUE) {
                return null;
            }
            Field f = new Field();
            f.number = (int) (tag >>> 3);
            f.wire = (int) (tag & 7);
            switch (f.wire) {
                case 0 -> {
                    f.value = readVarint(b, pos, to);
                    if (pos[0] < 0) {
                        return null;
                    }
                }
                case 1, 5 -> {
                    int n = f.wire == 1 ? 8 : 4;
                    if (to - pos[0] < n) {
                        return null;
                    }
                    f.bytes = Arrays.copyOfRange(b, pos[0], pos[0] + n);
                    pos[0] += n;
                }
                case 2 -> {
                    long len = readVarint(b, pos, to);
                    if (pos[0] < 0 || len < 0 || len > to - pos[0]) {
                        return null;
                    }
                    int start = pos[0];
                    int end = start + (int) len;
                    f.children = len > 0 && depth < MAX_DEPTH ? parse(b, start, end, depth + 1) : null;
                    if (f.children == null) {
                        f.bytes = Arrays.copyOfRange(b, start, end);
                    }
                    pos[0] = end;
                }
                default -> {
                    return null;
                }
            }
            if (pos[0] < 0) {
                return null;
            }
            out.add(f);
        }
        return out;
    }

    /** Reads a varint at {@code pos[0]}; sets {@code pos[0]} to -1 when it runs past {@code to}. */
    private static long readVarint(byte[] b, int[] pos, int to) {
        long v = 0;
        for (int shift = 0; shift < 70; shift += 7) {
            if (pos[0] < 0 || pos[0] >= to) {
                pos[0] = -1;
                return -1;
            }
            int c = b[pos[0]++] & 0xff;
            v |= (long) (c & 0x7f) << shift;
            if ((c & 0x80) == 0) {
                return v;
            }
        }
        pos[0] = -1;
        return -1;
    }

    private static byte[] serialize(List<Field> msg) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (Field f : msg) {
            out.writeBytes(Mutator.varint((long) f.number << 3 | f.wire));
            out.writeBytes(write(f));
        }
        return out.toByteArray();
    }

    /** The field's encoded value (for length-delimited fields: length prefix plus payload). */
    private static byte[] write(Field f) {
        return switch (f.wire) {
            case 0 -> Mutator.varint(f.value);
            case 1, 5 -> f.bytes == null ? new byte[f.wire == 1 ? 8 : 4] : f.bytes;
            default -> {
                byte[] payload = f.children != null ? serialize(f.children) : f.bytes == null ? new byte[0] : f.bytes;
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                out.writeBytes(Mutator.varint(payload.length));
                out.writeBytes(payload);
                yield out.toByteArray();
            }
        };
    }
}
