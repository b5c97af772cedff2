package org.gpulrp.cli;

import com.google.protobuf.CodedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * Writes tiny ONNX models with protobuf's wire-format writer (field numbers from onnx.proto): input {@code x [N, 3]},
 * a Gemm with weights {@code W [2, 3]} (transB) and a bias, then one node of any op type; for testing what the CLI
 * says about models it cannot load.
 */
final class TinyOnnx {
    private TinyOnnx() {
    }

    /** A model whose last node is {@code opType} named {@code nodeName}. */
    static byte[] withLastOp(String opType, String nodeName) {
        byte[] w = tensor("W", new long[] {2, 3}, new float[] {1, -2, 3, -4, 5, -6});
        byte[] b = tensor("b", new long[] {2}, new float[] {0.5f, -0.5f});
        byte[] gemm = node("Gemm", "gemm", new String[] {"x", "W", "b"}, "h", attrInt("transB", 1));
        byte[] last = node(opType, nodeName, new String[] {"h"}, "y", null);
        byte[] graph = message(o -> {
            o.writeByteArray(1, gemm);
            o.writeByteArray(1, last);
            o.writeString(2, "tiny");
            o.writeByteArray(5, w);
            o.writeByteArray(5, b);
            o.writeByteArray(11, valueInfo("x", 3));
            o.writeByteArray(12, valueInfo("y", 2));
        });
        return message(o -> {
            o.writeInt64(1, 8); // ir_version
            o.writeString(2, "gpulrp-test");
            o.writeByteArray(7, graph);
            o.writeByteArray(8, message(s -> {
                s.writeString(1, "");
                s.writeInt64(2, 17);
            }));
        });
    }

    private static byte[] node(String op, String name, String[] inputs, String output, byte[] attr) {
        return message(o -> {
            for (String i : inputs) {
                o.writeString(1, i);
            }
            o.writeString(2, output);
            o.writeString(3, name);
            o.writeString(4, op);
            if (attr != null) {
                o.writeByteArray(5, attr);
            }
        });
    }

    private static byte[] attrInt(String name, long v) {
        return message(o -> {
            o.writeString(1, name);
            o.writeInt64(3, v);
            o.writeInt32(20, 2); // AttributeProto.INT
        });
    }

    private static byte[] tensor(String name, long[] dims, float[] values) {
        return message(o -> {
            for (long d : dims) {
                o.writeInt64(1, d);
            }
            o.writeInt32(2, 1); // FLOAT
            for (float v : values) {
                o.writeFloat(4, v);
            }
            o.writeString(8, name);
        });
    }

    /** A float tensor value [batch, features] with a symbolic batch. */
    private static byte[] valueInfo(String name, long features) {
        byte[] shape = message(s -> {
            s.writeByteArray(1, message(d -> d.writeString(2, "batch")));
            s.writeByteArray(1, message(d -> d.writeInt64(1, features)));
        });
        byte[] tensorType = message(t -> {
            t.writeInt32(1, 1);
            t.writeByteArray(2, shape);
        });
        return message(o -> {
            o.writeString(1, name);
            o.writeByteArray(2, message(t -> t.writeByteArray(1, tensorType)));
        });
    }

    private interface Writer {
        void write(CodedOutputStream out) throws IOException;
    }

    private static byte[] message(Writer w) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        CodedOutputStream out = CodedOutputStream.newInstance(bytes);
        try {
            w.write(out);
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }
}
