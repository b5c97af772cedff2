package org.gpulrp.io.onnx;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.gpulrp.io.onnx.OnnxModel.TensorDef;

/**
 * Turns an ONNX TensorProto into Java values: float weights from FLOAT, DOUBLE or FLOAT16, integer shapes from
 * INT32 or INT64; stored as {@code raw_data} (little-endian), as typed fields, or in an external file beside the
 * model. The element count claimed by {@code dims} is checked against the data actually present before allocating.
 */
final class TensorData {
    /** Largest array a JVM reliably allocates. */
    private static final long MAX_ELEMENTS = Integer.MAX_VALUE - 8;

    private TensorData() {
    }

    /** Element count from {@code dims} (1 for a scalar), checked for negative dims and overflow. */
    static int count(TensorDef t, Where w) {
        long n = 1;
        for (long d : t.dims()) {
            if (d < 0) {
                throw w.fail("initializer '" + t.name() + "' has a negative dimension " + d);
            }
            if (d != 0 && n > MAX_ELEMENTS / d) {
                throw w.fail("initializer '" + t.name() + "' claims more than " + MAX_ELEMENTS + " elements");
            }
            n *= d;
        }
        return (int) n;
    }

    /** The tensor as float32 (FLOAT is copied bit for bit; DOUBLE and FLOAT16 are converted). */
    static float[] floats(TensorDef t, Where w, Path baseDir) {
        int type = t.dataType();
        if (type != OnnxModel.FLOAT && type != OnnxModel.DOUBLE && type != OnnxModel.FLOAT16) {
            throw w.fail("initializer '" + t.name() + "' has data type " + OnnxModel.typeName(type)
                    + "; weights must be FLOAT, DOUBLE or FLOAT16 (convert the model's weights to float32)");
        }
        int n = count(t, w);
        ByteBuffer bytes = bytes(t, w, baseDir, n); // checks the byte count before anything is allocated
        if (bytes != null) {
            float[] out = new float[n];
            for (int k = 0; k < n; k++) {
                out[k] = switch (type) {
                    case OnnxModel.FLOAT -> bytes.getFloat();
                    case OnnxModel.DOUBLE -> (float) bytes.getDouble();
                    default -> halfToFloat(bytes.getShort());
                };
            }
            return out;
        }
        switch (type) {
            case OnnxModel.FLOAT -> {
                checkTyped(t, w, "float_data", t.floatData().length, n);
                return t.floatData().clone();
            }
            case OnnxModel.DOUBLE -> {
                checkTyped(t, w, "double_data", t.doubleData().length, n);
                float[] out = new float[n];
                for (int k = 0; k < n; k++) {
                    out[k] = (float) t.doubleData()[k];
                }
                return out;
            }
            default -> {
                checkTyped(t, w, "int32_data", t.int32Data().length, n);
                float[] out = new float[n];
                for (int k = 0; k < n; k++) {
                    out[k] = halfToFloat((short) t.int32Data()[k]);
                }
                return out;
            }
        }
    }

    /** The tensor as integers (INT64 or INT32), for constant shapes. */
    static long[] longs(TensorDef t, Where w, Path baseDir) {
        int type = t.dataType();
        if (type != OnnxModel.INT64 && type != OnnxModel.INT32) {
            throw w.fail("constant '" + t.name() + "' has data type " + OnnxModel.typeName(type)
                    + "; a shape must be INT64 (or INT32)");
        }
        int n = count(t, w);
        ByteBuffer bytes = bytes(t, w, baseDir, n);
        if (bytes != null) {
            long[] out = new long[n];
            for (int k = 0; k < n; k++) {
                out[k] = type == OnnxModel.INT64 ? bytes.getLong() : bytes.getInt();
            }
            return out;
        }
        long[] typed = type == OnnxModel.INT64 ? t.int64Data() : t.int32Data();
        checkTyped(t, w, type == OnnxModel.INT64 ? "int64_data" : "int32_data", typed.length, n);
        return typed.clone();
    }

    /** Whether a small flag tensor (BOOL or integer, e.g. Dropout's training_mode) holds only zeros. */
    static boolean allZero(TensorDef t, Where w) {
        if (t.isExternal()) {
            throw w.fail("flag '" + t.name() + "' is stored as external data; expected an inline constant");
        }
        if (t.rawData() != null) {
            for (byte b : t.rawData()) {
                if (b != 0) {
                    return false;
                }
            }
            return true;
        }
        for (long v : t.int32Data()) {
            if (v != 0) {
                return false;
            }
        }
        for (long v : t.int64Data()) {
            if (v != 0) {
                return false;
            }
        }
        return true;
    }

    /** IEEE 754 binary16 bits to float (exact: every half value is a float). */
    static float halfToFloat(short h) {
        int bits = h & 0xffff;
        int sign = (bits & 0x8000) << 16;
        int exp = (bits >>> 10) & 0x1f;
        int mant = bits & 0x3ff;
        if (exp == 0x1f) {
            return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13));
        }
        if (exp == 0) {
            float v = mant * 0x1p-24f; // subnormal (or zero): mant * 2^-24, exact in float
            return sign != 0 ? -v : v;
        }
        return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
    }

    private static int elementSize(int type) {
        return switch (type) {
            case OnnxModel.FLOAT, OnnxModel.INT32 -> 4;
            case OnnxModel.FLOAT16 -> 2;
            default -> 8;
        };
    }

    private static void checkTyped(TensorDef t, Where w, String field, int actual, int expected) {
        if (actual != expected) {
            throw w.fail("initializer '" + t.name() + "' has dims " + java.util.Arrays.toString(t.dims()) + " ("
                    + expected + " values) but its " + field + " holds " + actual + " values");
        }
    }

    /** Little-endian bytes from raw_data or the external file; null when the data is in a typed field. */
    private static ByteBuffer bytes(TensorDef t, Where w, Path baseDir, int n) {
        long expected = (long) n * elementSize(t.dataType());
        if (expected > MAX_ELEMENTS) {
            throw w.fail("initializer '" + t.name() + "' claims " + expected + " bytes; gpulrp reads tensors of "
                    + "up to 2 GB each");
        }
        if (t.isExternal()) {
            return external(t, w, baseDir, expected);
        }
        if (t.rawData() == null) {
            return null;
        }
        if (t.rawData().length != expected) {
            throw w.fail("initializer '" + t.name() + "' has dims " + java.util.Arrays.toString(t.dims()) + " ("
                    + n + " x " + elementSize(t.dataType()) + " = " + expected + " bytes) but its raw_data holds "
                    + t.rawData().length + " bytes");
        }
        return ByteBuffer.wrap(t.rawData()).order(ByteOrder.LITTLE_ENDIAN);
    }

    private static ByteBuffer external(TensorDef t, Where w, Path baseDir, long expected) {
        String what = "initializer '" + t.name() + "'";
        String location = t.external().get("location");
        if (location == null || location.isEmpty()) {
            throw w.fail(what + " is marked as external data but names no 'location'");
        }
        if (baseDir == null) {
            throw w.fail(what + " keeps its data in the external file '" + location + "', but the model was "
                    + "given as bytes without a folder; load it with OnnxImporter.load(Path)");
        }
        Path base = baseDir.toAbsolutePath().normalize();
        Path file;
        try {
            Path rel = Path.of(location);
            file = base.resolve(rel).normalize();
            if (rel.isAbsolute() || !file.startsWith(base)) {
                throw w.fail(what + ": external data location '" + location
                        + "' must be a relative path inside the model's folder " + base);
            }
        } catch (InvalidPathException e) {
            throw w.fail(what + ": external data location '" + location + "' is not a valid path");
        }
        if (!Files.isRegularFile(file)) {
            throw w.fail(what + ": external data file " + file + " does not exist; keep it beside the model");
        }
        long offset = number(t, w, "offset", 0);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long fileSize = ch.size();
            long length = number(t, w, "length", Math.max(0, fileSize - offset));
            if (offset > fileSize || length > fileSize - offset) {
                throw w.fail(what + ": external data range [" + offset + ", " + (offset + length) + ") lies outside "
                        + file.getFileName() + " (" + fileSize + " bytes); the data file is truncated or not the "
                        + "one written with this model");
            }
            if (length != expected) {
                throw w.fail(what + " has dims " + java.util.Arrays.toString(t.dims()) + " (" + expected
                        + " bytes) but its external data length is " + length + " bytes");
            }
            ByteBuffer buf = ByteBuffer.allocate((int) expected).order(ByteOrder.LITTLE_ENDIAN);
            long pos = offset;
            while (buf.hasRemaining()) {
                int r = ch.read(buf, pos);
                if (r < 0) {
                    throw w.fail(what + ": external data file " + file.getFileName() + " ended early");
                }
                pos += r;
            }
            return buf.flip();
        } catch (IOException e) {
            throw w.fail(what + ": cannot read external data file " + file + ": " + e.getMessage());
        }
    }

    private static long number(TensorDef t, Where w, String key, long absent) {
        String v = t.external().get(key);
        if (v == null || v.isEmpty()) {
            return absent;
        }
        try {
            long x = Long.parseLong(v.trim());
            if (x < 0) {
                throw new NumberFormatException();
            }
            return x;
        } catch (NumberFormatException e) {
            throw w.fail("initializer '" + t.name() + "': external data " + key + " '" + v
                    + "' is not a non-negative integer");
        }
    }
}
