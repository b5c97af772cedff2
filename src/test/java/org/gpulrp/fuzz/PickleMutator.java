package org.gpulrp.fuzz;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * Opcode-aware mutations of a pickle (a state dict's data.pkl): the stream is cut into opcodes (with the argument
 * lengths of protocol 2-5), then integer arguments (storage sizes, offsets, shapes, strides, memo indices) are set
 * to boundary values, strings (storage types, keys, globals) are swapped for other plausible ones, and opcodes are
 * deleted, duplicated, swapped or inserted. Unknown opcodes end the parse; the rest is kept as one raw chunk.
 */
final class PickleMutator {
    private static final String[] GLOBALS = {"collections\nOrderedDict\n", "torch._utils\n_rebuild_tensor_v2\n",
        "torch._utils\n_rebuild_parameter\n", "torch\nFloatStorage\n", "torch\nHalfStorage\n", "torch\nLongStorage\n",
        "torch\nByteStorage\n", "os\nsystem\n", "builtins\neval\n", "subprocess\nPopen\n", "builtins\ngetattr\n",
        "torch\nload\n", "collections\nOrderedDict"};
    private static final String[] STRINGS = {"storage", "0", "1", "99", "cpu", "cuda:0", "weight", "", "../x",
        "_metadata", "\u00ff"};
    /** Single-byte opcodes worth inserting: MARK, TUPLE, TUPLE1-3, REDUCE, BUILD, SETITEM(S), APPEND(S), STOP... */
    private static final byte[] BARE = {'(', 't', (byte) 0x85, (byte) 0x86, (byte) 0x87, 'R', 'b', 's', 'u', 'a',
        'e', '.', '}', ']', ')', 'N', (byte) 0x88, (byte) 0x94, 'Q', (byte) 0x81, (byte) 0x93, '0', '1', '2'};

    private PickleMutator() {
    }

    static byte[] mutate(Random r, byte[] pickle, List<byte[]> others) {
        List<byte[]> ops = split(pickle);
        if (ops.isEmpty() || r.nextInt(4) == 0) {
            return Mutator.havoc(r, pickle, others, 4);
        }
        int rounds = 1 + r.nextInt(3);
        for (int k = 0; k < rounds && !ops.isEmpty(); k++) {
            int at = r.nextInt(ops.size());
            byte[] op = ops.get(at);
            switch (r.nextInt(8)) {
                case 0, 1, 2 -> ops.set(at, integerOrString(r, op));
                case 3 -> ops.remove(at);
                case 4 -> ops.add(at, op.clone());
                case 5 -> {
                    int j = r.nextInt(ops.size());
                    ops.set(at, ops.get(j));
                    ops.set(j, op);
                }
                case 6 -> ops.add(at, new byte[] {BARE[r.nextInt(BARE.length)]});
                default -> ops.add(at, r.nextBoolean() ? global(GLOBALS[r.nextInt(GLOBALS.length)])
                        : new byte[] {'h', (byte) r.nextInt(8)}); // BINGET of a low memo index
            }
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ops.forEach(out::writeBytes);
        return out.toByteArray();
    }

    private static byte[] global(String g) {
        return ("c" + g).getBytes(StandardCharsets.ISO_8859_1);
    }

    /** Integer opcodes get a boundary value in a random integer encoding; strings get another string. */
    private static byte[] integerOrString(Random r, byte[] op) {
        int code = op[0] & 0xff;
        if (code == 'K' || code == 'J' || code == 'M' || code == 0x8a) {
            long v = Mutator.LONGS[r.nextInt(Mutator.LONGS.length)];
            return switch (r.nextInt(4)) {
                case 0 -> new byte[] {'K', (byte) v};
                case 1 -> new byte[] {'M', (byte) v, (byte) (v >>> 8)};
                case 2 -> {
                    byte[] b = {'J', 0, 0, 0, 0};
                    Mutator.putInt(b, 1, v, 4, true);
                    yield b;
                }
                default -> {
                    byte[] b = new byte[10];
                    b[0] = (byte) 0x8a;
                    b[1] = 8;
                    Mutator.putInt(b, 2, v, 8, true);
                    yield b;
                }
            };
        }
        if (code == 'X' || code == 0x8c) {
            byte[] s = STRINGS[r.nextInt(STRINGS.length)].getBytes(StandardCharsets.UTF_8);
            byte[] b = new byte[2 + s.length];
            b[0] = (byte) 0x8c;
            b[1] = (byte) s.length;
            System.arraycopy(s, 0, b, 2, s.length);
            return b;
        }
        if (code == 'c') {
            return global(GLOBALS[r.nextInt(GLOBALS.length)]);
        }
        if (code == 'q' || code == 'h') {
            return new byte[] {(byte) code, (byte) r.nextInt(256)};
        }
        return Mutator.once(r, op, List.of(op));
    }

    /** The opcodes of {@code p} with their arguments; an unknown opcode ends the split (the rest is one chunk). */
    static List<byte[]> split(byte[] p) {
        List<byte[]> ops = new ArrayList<>();
        int pos = 0;
        while (pos < p.length) {
            int n = length(p, pos);
            if (n <= 0 || pos + n > p.length) {
                ops.add(Arrays.copyOfRange(p, pos, p.length));
                break;
            }
            ops.add(Arrays.copyOfRange(p, pos, pos + n));
            pos += n;
        }
        return ops;
    }

    /** Length of the opcode at {@code pos} with its argument, or -1 when unknown or truncated. */
    private static int length(byte[] p, int pos) {
        int code = p[pos] & 0xff;
        int rest = p.length - pos - 1;
        return switch (code) {
            case 0x80, 'K', 'q', 'h' -> 2;
            case 'M' -> 3;
            case 'J', 'r', 'j' -> 5;
            case 0x95, 'G' -> 9;
            case 0x8c -> rest < 1 ? -1 : 2 + (p[pos + 1] & 0xff);
            case 'X' -> rest < 4 ? -1 : (int) Math.min(Integer.MAX_VALUE / 2, 5 + u32(p, pos + 1));
            case 0x8a -> rest < 1 ? -1 : 2 + (p[pos + 1] & 0xff);
            case 'c' -> {
                int nl1 = indexOf(p, pos + 1);
                int nl2 = nl1 < 0 ? -1 : indexOf(p, nl1 + 1);
                yield nl2 < 0 ? -1 : nl2 + 1 - pos;
            }
            case '(', 't', 0x85, 0x86, 0x87, 'R', 'b', 's', 'u', 'a', 'e', '.', '}', ']', ')', 'N', 0x88, 0x89,
                    0x94, 'Q', 0x81, 0x93, '0', '1', '2' -> 1;
            default -> -1;
        };
    }

    private static long u32(byte[] p, int at) {
        return (p[at] & 0xffL) | (p[at + 1] & 0xffL) << 8 | (p[at + 2] & 0xffL) << 16 | (p[at + 3] & 0xffL) << 24;
    }

    private static int indexOf(byte[] p, int from) {
        for (int k = from; k < p.length; k++) {
            if (p[k] == '\n') {
                return k;
            }
        }
        return -1;
    }
}
