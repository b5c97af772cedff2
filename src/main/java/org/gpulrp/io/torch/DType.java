package org.gpulrp.io.torch;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** Element types a state dict may store, with their byte widths and conversion to float32. */
enum DType {
    F32(4, "torch.FloatStorage", "F32"),
    F64(8, "torch.DoubleStorage", "F64"),
    F16(2, "torch.HalfStorage", "F16"),
    BF16(2, "torch.BFloat16Storage", "BF16"),
    I32(4, "torch.IntStorage", "I32"),
    I64(8, "torch.LongStorage", "I64");

    /** Bytes per element. */
    final int width;
    /** The pickle global naming this storage type in a state dict. */
    final String torchStorage;
    /** The safetensors {@code dtype} string. */
    final String safetensors;

    DType(int width, String torchStorage, String safetensors) {
        this.width = width;
        this.torchStorage = torchStorage;
        this.safetensors = safetensors;
    }

    static DType ofTorchStorage(String global) {
        for (DType t : values()) {
            if (t.torchStorage.equals(global)) {
                return t;
            }
        }
        return null;
    }

    static DType ofSafetensors(String name) {
        for (DType t : values()) {
            if (t.safetensors.equals(name)) {
                return t;
            }
        }
        return null;
    }

    static String supportedSafetensors() {
        return "F32, F64, F16, BF16, I32, I64";
    }

    /** Converts {@code count} elements starting at byte {@code offset} of {@code raw}; the caller checked bounds. */
    float[] toFloats(byte[] raw, int offset, int count, ByteOrder order) {
        ByteBuffer bb = ByteBuffer.wrap(raw, offset, count * width).order(order);
        float[] out = new float[count];
        for (int k = 0; k < count; k++) {
            out[k] = switch (this) {
                case F32 -> bb.getFloat();
                case F64 -> (float) bb.getDouble();
                case F16 -> halfToFloat(bb.getShort());
                case BF16 -> Float.intBitsToFloat((bb.getShort() & 0xffff) << 16);
                case I32 -> bb.getInt();
                case I64 -> bb.getLong();
            };
        }
        return out;
    }

    /** IEEE 754 binary16 to float32, exact (Java 17 has no Float.float16ToFloat). */
    static float halfToFloat(short bits) {
        int h = bits & 0xffff;
        int sign = h >>> 15;
        int exp = (h >>> 10) & 0x1f;
        int mant = h & 0x3ff;
        if (exp == 0) {
            float v = Math.scalb((float) mant, -24);
            return sign == 0 ? v : -v;
        }
        if (exp == 0x1f) {
            return Float.intBitsToFloat(sign << 31 | 0x7f800000 | mant << 13);
        }
        return Float.intBitsToFloat(sign << 31 | (exp - 15 + 127) << 23 | mant << 13);
    }
}
