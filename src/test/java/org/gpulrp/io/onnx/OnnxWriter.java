package org.gpulrp.io.onnx;

import com.google.protobuf.CodedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/** Test-side writer of small ONNX models in protobuf wire format (field numbers as in onnx.proto). */
final class OnnxWriter {
    /** How an initializer stores its values. */
    enum Enc { RAW, PACKED, UNPACKED }

    private final List<byte[]> nodes = new ArrayList<>();
    private final List<byte[]> inits = new ArrayList<>();
    private final List<byte[]> inputs = new ArrayList<>();
    private final List<byte[]> outputs = new ArrayList<>();
    private long opset = 17;
    private long irVersion = 8;

    OnnxWriter opset(long v) {
        opset = v;
        return this;
    }

    /** Graph input; dims are Integer (dim_value) or String (dim_param); no dims at all means no shape. */
    OnnxWriter input(String name, Object... dims) {
        inputs.add(valueInfo(name, 1, dims));
        return this;
    }

    /** Graph input of a TensorProto element type ({@code OnnxModel.INT64} for token ids). */
    OnnxWriter typedInput(String name, int elemType, Object... dims) {
        inputs.add(valueInfo(name, elemType, dims));
        return this;
    }

    OnnxWriter output(String name) {
        outputs.add(valueInfo(name, 1, (Object[]) null));
        return this;
    }

    OnnxWriter node(String op, String name, List<String> in, List<String> out, byte[]... attrs) {
        return node(op, name, "", in, out, attrs);
    }

    OnnxWriter node(String op, String name, String domain, List<String> in, List<String> out, byte[]... attrs) {
        Msg m = new Msg();
        in.forEach(s -> m.string(1, s));
        out.forEach(s -> m.string(2, s));
        if (name != null) {
            m.string(3, name);
        }
        m.string(4, op);
        for (byte[] a : attrs) {
            m.message(5, a);
        }
        if (!domain.isEmpty()) {
            m.string(7, domain);
        }
        nodes.add(m.bytes());
        return this;
    }

    OnnxWriter init(byte[] tensor) {
        inits.add(tensor);
        return this;
    }

    OnnxWriter floats(String name, long[] dims, float[] v, Enc enc) {
        return init(floatTensor(name, dims, v, enc));
    }

    byte[] build() {
        Msg g = new Msg();
        nodes.forEach(n -> g.message(1, n));
        g.string(2, "test_graph");
        inits.forEach(t -> g.message(5, t));
        inputs.forEach(v -> g.message(11, v));
        outputs.forEach(v -> g.message(12, v));
        Msg op = new Msg().varint(2, opset);
        return new Msg().varint(1, irVersion).string(2, "gpulrp-test").message(7, g.bytes())
                .message(8, op.bytes()).bytes();
    }

    // ---- pieces ----

    static byte[] attrInt(String name, long v) {
        return new Msg().string(1, name).varint(3, v).varint(20, 2).bytes();
    }

    static byte[] attrInts(String name, long... v) {
        Msg m = new Msg().string(1, name);
        for (long x : v) {
            m.varint(8, x);
        }
        return m.varint(20, 7).bytes();
    }

    static byte[] attrString(String name, String v) {
        return new Msg().string(1, name).string(4, v).varint(20, 3).bytes();
    }

    static byte[] attrFloat(String name, float v) {
        return new Msg().string(1, name).fixed32(2, v).varint(20, 1).bytes();
    }

    static byte[] attrTensor(String name, byte[] tensor) {
        return new Msg().string(1, name).message(5, tensor).varint(20, 4).bytes();
    }

    static byte[] floatTensor(String name, long[] dims, float[] v, Enc enc) {
        Msg t = dims(new Msg(), dims, false).varint(2, 1);
        switch (enc) {
            case RAW -> {
                ByteBuffer b = le(4 * v.length);
                for (float f : v) {
                    b.putFloat(f);
                }
                t.bytes(9, b.array());
            }
            case PACKED -> {
                ByteBuffer b = le(4 * v.length);
                for (float f : v) {
                    b.putFloat(f);
                }
                t.bytes(4, b.array()); // packed fixed32 is the same bytes as raw little-endian
            }
            default -> {
                for (float f : v) {
                    t.fixed32(4, f);
                }
            }
        }
        return t.string(8, name).bytes();
    }

    static byte[] doubleTensor(String name, long[] dims, double[] v, boolean raw) {
        Msg t = dims(new Msg(), dims, true).varint(2, 11).string(8, name);
        ByteBuffer b = le(8 * v.length);
        for (double d : v) {
            b.putDouble(d);
        }
        return (raw ? t.bytes(9, b.array()) : t.bytes(10, b.array())).bytes();
    }

    static byte[] halfTensor(String name, long[] dims, short[] bits, boolean raw) {
        Msg t = dims(new Msg(), dims, false).varint(2, 10).string(8, name);
        if (raw) {
            ByteBuffer b = le(2 * bits.length);
            for (short s : bits) {
                b.putShort(s);
            }
            return t.bytes(9, b.array()).bytes();
        }
        for (short s : bits) {
            t.varint(5, s & 0xffff); // int32_data, unpacked
        }
        return t.bytes();
    }

    static byte[] longTensor(String name, long[] v, boolean raw) {
        Msg t = dims(new Msg(), new long[] {v.length}, false).varint(2, 7).string(8, name);
        if (raw) {
            ByteBuffer b = le(8 * v.length);
            for (long x : v) {
                b.putLong(x);
            }
            return t.bytes(9, b.array()).bytes();
        }
        Msg packed = new Msg();
        for (long x : v) {
            packed.varintNoTag(x);
        }
        return t.bytes(7, packed.bytes()).bytes();
    }

    /** A rank-0 INT64 tensor (a scalar, as torch's exporter writes Gather indices). */
    /** A BOOL scalar in raw_data. */
    static byte[] boolScalar(String name, boolean v) {
        return new Msg().varint(2, 9).string(8, name).bytes(9, new byte[] {(byte) (v ? 1 : 0)}).bytes();
    }

    static byte[] longScalar(String name, long v) {
        ByteBuffer b = le(8);
        b.putLong(v);
        return new Msg().varint(2, 7).string(8, name).bytes(9, b.array()).bytes();
    }

    /** A tensor whose data lives in an external file; offset/length null to leave the key out. */
    static byte[] externalTensor(String name, long[] dims, int dataType, String location, Long offset, Long length) {
        Msg t = dims(new Msg(), dims, false).varint(2, dataType).string(8, name);
        t.message(13, new Msg().string(1, "location").string(2, location).bytes());
        if (offset != null) {
            t.message(13, new Msg().string(1, "offset").string(2, offset.toString()).bytes());
        }
        if (length != null) {
            t.message(13, new Msg().string(1, "length").string(2, length.toString()).bytes());
        }
        return t.varint(14, 1).bytes();
    }

    static ByteBuffer le(int n) {
        return ByteBuffer.allocate(n).order(ByteOrder.LITTLE_ENDIAN);
    }

    private static Msg dims(Msg t, long[] dims, boolean packed) {
        if (packed) {
            Msg p = new Msg();
            for (long d : dims) {
                p.varintNoTag(d);
            }
            return t.bytes(1, p.bytes());
        }
        for (long d : dims) {
            t.varint(1, d);
        }
        return t;
    }

    private static byte[] valueInfo(String name, int elemType, Object[] dims) {
        Msg v = new Msg().string(1, name);
        Msg tensorType = new Msg().varint(1, elemType);
        if (dims != null && dims.length > 0) {
            Msg shape = new Msg();
            for (Object d : dims) {
                Msg dim = d instanceof String s ? new Msg().string(2, s) : new Msg().varint(1, (Integer) d);
                shape.message(1, dim.bytes());
            }
            tensorType.message(2, shape.bytes());
        }
        return v.message(2, new Msg().message(1, tensorType.bytes()).bytes()).bytes();
    }

    /** One protobuf message being written. */
    static final class Msg {
        private final ByteArrayOutputStream buf = new ByteArrayOutputStream();
        private final CodedOutputStream out = CodedOutputStream.newInstance(buf);

        Msg varint(int field, long v) {
            try {
                out.writeInt64(field, v);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return this;
        }

        Msg varintNoTag(long v) {
            try {
                out.writeInt64NoTag(v);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return this;
        }

        Msg fixed32(int field, float v) {
            try {
                out.writeFloat(field, v);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return this;
        }

        Msg string(int field, String s) {
            try {
                out.writeString(field, s);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return this;
        }

        Msg bytes(int field, byte[] b) {
            try {
                out.writeByteArray(field, b);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return this;
        }

        Msg message(int field, byte[] b) {
            return bytes(field, b);
        }

        Msg tag(int field, int wireType) {
            try {
                out.writeTag(field, wireType);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return this;
        }

        byte[] bytes() {
            try {
                out.flush();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return buf.toByteArray();
        }
    }
}
