package org.gpulrp.io.torch;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.gpulrp.io.ModelFormatException;
import org.gpulrp.io.torch.Pickled.Global;
import org.gpulrp.io.torch.Pickled.StorageRef;
import org.gpulrp.io.torch.Pickled.TensorRef;
import org.gpulrp.io.torch.Pickled.Tuple;

/**
 * A pickle interpreter that understands only what a PyTorch state dict contains. It never calls anything: the few
 * allowed globals (ordered dict, tensor rebuild, storage types) are interpreted by name, and any other global stops
 * the load when it is named, before any REDUCE could use it.
 */
final class Unpickler {
    private static final Set<String> ALLOWED = Set.of("collections.OrderedDict", "torch._utils._rebuild_tensor_v2",
            "torch._utils._rebuild_parameter", "torch.FloatStorage", "torch.DoubleStorage", "torch.HalfStorage",
            "torch.BFloat16Storage", "torch.IntStorage", "torch.LongStorage");
    private static final int MAX_MEMO = 1 << 22;
    /**
     * Items on the stack (and open MARKs) at once. A state dict needs a few thousand (pickle batches SETITEMS by
     * 1000); without a limit, a 64 MB pickle of one-byte EMPTY_DICT opcodes (a 60 KB deflated zip) would make
     * billions of bytes of objects.
     */
    private static final int MAX_STACK = 1 << 20;

    private final byte[] data;
    private final String source;
    private int pos;
    private final List<Object> stack = new ArrayList<>();
    private final List<Integer> marks = new ArrayList<>();
    private final Map<Long, Object> memo = new HashMap<>();

    private Unpickler(byte[] data, String source) {
        this.data = data;
        this.source = source;
    }

    /** Runs the pickle in {@code data}; {@code source} names it in errors (file and entry). */
    static Object load(byte[] data, String source) {
        return new Unpickler(data, source).run();
    }

    private ModelFormatException fail(String message) {
        return new ModelFormatException(source + ": " + message);
    }

    private ModelFormatException fail(int at, String message) {
        return new ModelFormatException(source + ": at byte " + at + ": " + message);
    }

    private Object run() {
        while (true) {
            int at = pos;
            int op = u8();
            switch (op) {
                case 0x80 -> { // PROTO
                    int v = u8();
                    if (v < 2 || v > 5) {
                        throw fail(at, "pickle protocol " + v + " is not supported (state dicts use 2)");
                    }
                }
                case 0x95 -> skip(8); // FRAME: a length hint only
                case 0x7d -> push(new LinkedHashMap<Object, Object>()); // EMPTY_DICT
                case 0x5d -> push(new ArrayList<Object>()); // EMPTY_LIST
                case 0x29 -> push(new Tuple(List.of())); // EMPTY_TUPLE
                case 0x28 -> { // MARK
                    if (marks.size() >= MAX_STACK) {
                        throw fail(at, "more than " + MAX_STACK + " open MARKs; not a state dict");
                    }
                    marks.add(stack.size());
                }
                case 0x58 -> push(string(u32(), at)); // BINUNICODE
                case 0x8c -> push(string(u8(), at)); // SHORT_BINUNICODE
                case 0x8d -> push(string(u64(at), at)); // BINUNICODE8
                case 0x4a -> push((long) ByteBuffer.wrap(take(4)).order(ByteOrder.LITTLE_ENDIAN).getInt()); // BININT
                case 0x4b -> push((long) u8()); // BININT1
                case 0x4d -> push((long) (u8() | u8() << 8)); // BININT2
                case 0x8a -> push(long1(at)); // LONG1
                case 0x47 -> push(ByteBuffer.wrap(take(8)).getDouble()); // BINFLOAT, big-endian
                case 0x89 -> push(Boolean.FALSE);
                case 0x88 -> push(Boolean.TRUE);
                case 0x4e -> push(null); // NONE
                case 0x74 -> push(new Tuple(Collections.unmodifiableList(popMark(at)))); // TUPLE
                case 0x85 -> push(tuple(1, at));
                case 0x86 -> push(tuple(2, at));
                case 0x87 -> push(tuple(3, at));
                case 0x73 -> { // SETITEM
                    Object value = pop(at);
                    Object key = pop(at);
                    dict(peek(at), at).put(key(key, at), value);
                }
                case 0x75 -> { // SETITEMS
                    List<Object> items = popMark(at);
                    if (items.size() % 2 != 0) {
                        throw fail(at, "SETITEMS with an odd number of items");
                    }
                    Map<Object, Object> d = dict(peek(at), at);
                    for (int k = 0; k < items.size(); k += 2) {
                        d.put(key(items.get(k), at), items.get(k + 1));
                    }
                }
                case 0x61 -> { // APPEND
                    Object v = pop(at);
                    list(peek(at), at).add(v);
                }
                case 0x65 -> { // APPENDS
                    List<Object> items = popMark(at);
                    list(peek(at), at).addAll(items);
                }
                case 0x71 -> put(u8(), at); // BINPUT
                case 0x72 -> put(u32(), at); // LONG_BINPUT
                case 0x94 -> put(memo.size(), at); // MEMOIZE
                case 0x68 -> push(get(u8(), at)); // BINGET
                case 0x6a -> push(get(u32(), at)); // LONG_BINGET
                case 0x63 -> push(global(line(at), line(at), at)); // GLOBAL
                case 0x93 -> { // STACK_GLOBAL
                    Object name = pop(at);
                    Object module = pop(at);
                    if (!(module instanceof String m) || !(name instanceof String n)) {
                        throw fail(at, "STACK_GLOBAL needs two strings");
                    }
                    push(global(m, n, at));
                }
                case 0x52 -> { // REDUCE
                    Object args = pop(at);
                    Object callable = pop(at);
                    push(call(callable, args, at));
                }
                case 0x81 -> { // NEWOBJ: cls.__new__(cls, *args); only an ordered dict makes sense here
                    Object args = pop(at);
                    Object cls = pop(at);
                    if (!(cls instanceof Global g) || !g.qualified().equals("collections.OrderedDict")) {
                        throw fail(at, "NEWOBJ of " + Pickled.typeName(cls) + " is not part of a state dict");
                    }
                    push(call(cls, args, at));
                }
                case 0x62 -> { // BUILD: sets attributes; an ordered dict's _metadata is ignored
                    Object state = pop(at);
                    Object target = peek(at);
                    if (!(target instanceof Map) && !(target instanceof TensorRef)) {
                        throw fail(at, "BUILD on " + Pickled.typeName(target) + " is not part of a state dict");
                    }
                    if (state != null && !(state instanceof Map) && !(state instanceof Tuple)) {
                        throw fail(at, "BUILD with a " + Pickled.typeName(state) + " state");
                    }
                }
                case 0x51 -> push(persistent(pop(at), at)); // BINPERSID
                case 0x2e -> { // STOP
                    return pop(at);
                }
                default -> throw fail(at, String.format("pickle opcode 0x%02x is not supported in a state dict", op));
            }
        }
    }

    private int u8() {
        if (pos >= data.length) {
            throw fail("truncated pickle (no STOP opcode)");
        }
        return data[pos++] & 0xff;
    }

    private byte[] take(long n) {
        if (n < 0 || n > data.length - pos) {
            throw fail(pos, "truncated pickle: needs " + n + " more bytes, " + (data.length - pos) + " remain");
        }
        byte[] b = new byte[(int) n];
        System.arraycopy(data, pos, b, 0, (int) n);
        pos += (int) n;
        return b;
    }

    private void skip(int n) {
        take(n);
    }

    private long u32() {
        byte[] b = take(4);
        return (b[0] & 0xffL) | (b[1] & 0xffL) << 8 | (b[2] & 0xffL) << 16 | (b[3] & 0xffL) << 24;
    }

    private long u64(int at) {
        byte[] b = take(8);
        long v = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getLong();
        if (v < 0) {
            throw fail(at, "string length " + Long.toUnsignedString(v) + " exceeds the pickle");
        }
        return v;
    }

    private long long1(int at) {
        int n = u8();
        if (n > 8) {
            throw fail(at, "integer of " + n + " bytes does not fit 64 bits");
        }
        byte[] b = take(n);
        long v = 0;
        for (int k = n - 1; k >= 0; k--) {
            v = v << 8 | (b[k] & 0xff);
        }
        if (n > 0 && n < 8 && (b[n - 1] & 0x80) != 0) {
            v -= 1L << (8 * n); // two's complement sign
        }
        return v;
    }

    private String string(long length, int at) {
        byte[] b = take(length);
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(b)).toString();
        } catch (CharacterCodingException e) {
            throw fail(at, "string is not valid UTF-8");
        }
    }

    private String line(int at) {
        int start = pos;
        while (pos < data.length && data[pos] != '\n') {
            pos++;
        }
        if (pos >= data.length) {
            throw fail(at, "truncated GLOBAL opcode");
        }
        String s = new String(data, start, pos - start, StandardCharsets.UTF_8);
        pos++;
        return s;
    }

    private void push(Object o) {
        if (stack.size() >= MAX_STACK) {
            throw fail("the pickle stack holds more than " + MAX_STACK + " items; not a state dict");
        }
        stack.add(o);
    }

    private Object pop(int at) {
        int floor = marks.isEmpty() ? 0 : marks.get(marks.size() - 1);
        if (stack.size() <= floor) {
            throw fail(at, "pickle stack underflow");
        }
        return stack.remove(stack.size() - 1);
    }

    private Object peek(int at) {
        int floor = marks.isEmpty() ? 0 : marks.get(marks.size() - 1);
        if (stack.size() <= floor) {
            throw fail(at, "pickle stack underflow");
        }
        return stack.get(stack.size() - 1);
    }

    private List<Object> popMark(int at) {
        if (marks.isEmpty()) {
            throw fail(at, "opcode needs a MARK and there is none");
        }
        int m = marks.remove(marks.size() - 1);
        List<Object> top = stack.subList(m, stack.size());
        List<Object> items = new ArrayList<>(top);
        top.clear();
        return items;
    }

    private Tuple tuple(int n, int at) {
        Object[] items = new Object[n];
        for (int k = n - 1; k >= 0; k--) {
            items[k] = pop(at);
        }
        return new Tuple(Collections.unmodifiableList(Arrays.asList(items)));
    }

    private void put(long index, int at) {
        if (memo.size() >= MAX_MEMO && !memo.containsKey(index)) {
            throw fail(at, "pickle memo exceeds " + MAX_MEMO + " entries");
        }
        memo.put(index, peek(at));
    }

    private Object get(long index, int at) {
        if (!memo.containsKey(index)) {
            throw fail(at, "pickle memo has no entry " + index);
        }
        return memo.get(index);
    }

    @SuppressWarnings("unchecked")
    private Map<Object, Object> dict(Object o, int at) {
        if (!(o instanceof Map)) {
            throw fail(at, "SETITEM on a " + Pickled.typeName(o) + ", not a dict");
        }
        return (Map<Object, Object>) o;
    }

    @SuppressWarnings("unchecked")
    private List<Object> list(Object o, int at) {
        if (!(o instanceof ArrayList)) {
            throw fail(at, "APPEND on a " + Pickled.typeName(o) + ", not a list");
        }
        return (List<Object>) o;
    }

    /** Only immutable scalars as keys: a mutable or nested key could hash forever. */
    private Object key(Object k, int at) {
        if (k == null || k instanceof String || k instanceof Long || k instanceof Double || k instanceof Boolean) {
            return k;
        }
        throw fail(at, "a dict key of type " + Pickled.typeName(k) + " is not part of a state dict");
    }

    private Global global(String module, String name, int at) {
        String q = module + "." + name;
        if (!ALLOWED.contains(q)) {
            if (module.equals("torch") && name.endsWith("Storage")) {
                throw fail(at, "tensor storage type '" + q + "' is not supported; supported: float32, float64, "
                        + "float16, bfloat16, int32, int64 (convert with .float() before saving)");
            }
            throw fail(at, "refusing to load: the pickle asks for global '" + q + "', which a state dict never "
                    + "needs");
        }
        return new Global(module, name);
    }

    private Object call(Object callable, Object argsObj, int at) {
        if (!(callable instanceof Global g)) {
            throw fail(at, "REDUCE calls a " + Pickled.typeName(callable) + ", not a global");
        }
        if (!(argsObj instanceof Tuple args)) {
            throw fail(at, "REDUCE arguments are a " + Pickled.typeName(argsObj) + ", not a tuple");
        }
        switch (g.qualified()) {
            case "collections.OrderedDict" -> {
                if (args.size() != 0) {
                    throw fail(at, "OrderedDict with constructor arguments is not part of a state dict");
                }
                return new LinkedHashMap<Object, Object>();
            }
            case "torch._utils._rebuild_tensor_v2" -> {
                return rebuildTensor(args, at);
            }
            case "torch._utils._rebuild_parameter" -> {
                if (args.size() < 1 || !(args.get(0) instanceof TensorRef t)) {
                    throw fail(at, "_rebuild_parameter needs a tensor as its first argument");
                }
                return t;
            }
            default -> throw fail(at, "'" + g.qualified() + "' cannot be called");
        }
    }

    private TensorRef rebuildTensor(Tuple args, int at) {
        // (storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
        if (args.size() < 4 || args.size() > 7) {
            throw fail(at, "_rebuild_tensor_v2 with " + args.size() + " arguments");
        }
        if (!(args.get(0) instanceof StorageRef storage)) {
            throw fail(at, "_rebuild_tensor_v2: the storage is a " + Pickled.typeName(args.get(0)));
        }
        if (!(args.get(1) instanceof Long offset) || offset < 0) {
            throw fail(at, "_rebuild_tensor_v2: bad storage offset");
        }
        long[] size = longs(args.get(2), "size", at);
        long[] stride = longs(args.get(3), "stride", at);
        if (size.length != stride.length) {
            throw fail(at, "_rebuild_tensor_v2: size has " + size.length + " dimensions, stride " + stride.length);
        }
        for (long s : size) {
            if (s < 0) {
                throw fail(at, "_rebuild_tensor_v2: negative dimension " + s);
            }
        }
        return new TensorRef(storage, offset, size, stride);
    }

    private long[] longs(Object o, String what, int at) {
        if (!(o instanceof Tuple t)) {
            throw fail(at, "_rebuild_tensor_v2: " + what + " is a " + Pickled.typeName(o) + ", not a tuple");
        }
        long[] out = new long[t.size()];
        for (int k = 0; k < out.length; k++) {
            if (!(t.get(k) instanceof Long v)) {
                throw fail(at, "_rebuild_tensor_v2: " + what + " holds a " + Pickled.typeName(t.get(k)));
            }
            out[k] = v;
        }
        return out;
    }

    private StorageRef persistent(Object pid, int at) {
        if (!(pid instanceof Tuple t) || t.size() != 5 || !"storage".equals(t.get(0))) {
            throw fail(at, "persistent id is not ('storage', type, key, location, numel)");
        }
        if (!(t.get(1) instanceof Global g) || DType.ofTorchStorage(g.qualified()) == null) {
            throw fail(at, "persistent id names storage type " + Pickled.typeName(t.get(1)));
        }
        if (!(t.get(2) instanceof String key) || !(t.get(3) instanceof String location)
                || !(t.get(4) instanceof Long numel) || numel < 0) {
            throw fail(at, "persistent id needs a string key, a string location and a count >= 0");
        }
        return new StorageRef(DType.ofTorchStorage(g.qualified()), key, location, numel);
    }
}
