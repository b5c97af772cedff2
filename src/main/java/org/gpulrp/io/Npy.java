package org.gpulrp.io;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * NumPy {@code .npy} files (format versions 1-3, C order), read into float32: {@code <f4}, {@code <f8}, {@code <i4},
 * {@code <i8} (and big-endian variants) are converted; anything else is refused with the reason.
 */
public final class Npy {
    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'([^']*)'");
    private static final Pattern FORTRAN = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
    private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");
    /** Refuse arrays claiming more elements than a Java array can hold. */
    private static final long MAX_ELEMENTS = Integer.MAX_VALUE - 8;

    /** A float32 array with its shape. */
    public record Array(float[] data, int[] shape) {
    }

    private Npy() {
    }

    /** Integers beyond 2^24 do not survive the float32 conversion; refuse them instead of rounding. */
    private static float exact(long v, int k, String name) {
        if (Math.abs(v) > 1L << 24) {
            throw new FormatException(name + ": integer " + v + " at index " + k + " cannot be held exactly as "
                    + "float32 (|v| > 2^24)");
        }
        return v;
    }

    public static Array read(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            return read(in, file.toString(), Files.size(file));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    /**
     * What a {@code .npy} header says: the element type ({@code f4}, {@code f8}, {@code i4}, {@code i8}), byte
     * order, shape, and where the data starts; the file was checked to hold all of it.
     *
     * @param type       the element type without its byte-order mark
     * @param dataOffset bytes before the first element
     */
    public record Header(String type, ByteOrder order, int[] shape, long dataOffset) {
        /** Bytes per element. */
        public int width() {
            return type.equals("f4") || type.equals("i4") ? 4 : 8;
        }

        /** All elements (may exceed what one Java array holds). */
        public long count() {
            long n = 1;
            for (int d : shape) {
                n *= d;
            }
            return n;
        }
    }

    /** Reads and checks the header of {@code file} only, for streaming arrays larger than the heap. */
    public static Header header(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            return header(in, file.toString(), Files.size(file), Long.MAX_VALUE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    /** Reads from a stream of known total length (used to check claimed sizes before allocating). */
    public static Array read(InputStream in, String name, long length) throws IOException {
        Header h = header(in, name, length, MAX_ELEMENTS);
        long bytes = h.count() * h.width();
        byte[] raw = in.readNBytes((int) bytes);
        if (raw.length != bytes) {
            throw new FormatException(name + ": truncated .npy data");
        }
        ByteBuffer bb = ByteBuffer.wrap(raw).order(h.order());
        String type = h.type();
        float[] out = new float[(int) h.count()];
        for (int k = 0; k < out.length; k++) {
            out[k] = switch (type) {
                case "f4" -> bb.getFloat();
                case "f8" -> (float) bb.getDouble();
                case "i4" -> exact(bb.getInt(), k, name);
                default -> exact(bb.getLong(), k, name);
            };
        }
        return new Array(out, h.shape());
    }

    /**
     * Parses the header from {@code in} (left at the first element) and checks that the file of {@code length}
     * bytes holds the data; at most {@code maxElements} elements are accepted.
     */
    private static Header header(InputStream in, String name, long length, long maxElements) throws IOException {
        byte[] magic = in.readNBytes(8);
        if (magic.length < 8) {
            throw new FormatException(name + ": not a .npy file (too short)");
        }
        for (int k = 0; k < MAGIC.length; k++) {
            if (magic[k] != MAGIC[k]) {
                throw new FormatException(name + ": not a .npy file (bad magic)");
            }
        }
        int major = magic[6] & 0xff;
        int headerLen;
        long consumed;
        if (major == 1) {
            byte[] l = in.readNBytes(2);
            if (l.length < 2) {
                throw new FormatException(name + ": truncated .npy header");
            }
            headerLen = (l[0] & 0xff) | (l[1] & 0xff) << 8;
            consumed = 10;
        } else if (major == 2 || major == 3) {
            byte[] l = in.readNBytes(4);
            if (l.length < 4) {
                throw new FormatException(name + ": truncated .npy header");
            }
            long h = ByteBuffer.wrap(l).order(ByteOrder.LITTLE_ENDIAN).getInt() & 0xffffffffL;
            if (h > 1 << 20) {
                throw new FormatException(name + ": .npy header claims " + h + " bytes");
            }
            headerLen = (int) h;
            consumed = 12;
        } else {
            throw new FormatException(name + ": unsupported .npy format version " + major);
        }
        if (consumed + headerLen > length) {
            throw new FormatException(name + ": truncated .npy header");
        }
        byte[] hb = in.readNBytes(headerLen);
        String header = new String(hb, major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
        Matcher d = DESCR.matcher(header);
        Matcher f = FORTRAN.matcher(header);
        Matcher s = SHAPE.matcher(header);
        if (!d.find() || !f.find() || !s.find()) {
            throw new FormatException(name + ": .npy header lacks descr, fortran_order or shape: " + header.trim());
        }
        if (f.group(1).equals("True")) {
            throw new FormatException(name + ": Fortran-order arrays are not supported; save with C order "
                    + "(np.ascontiguousarray)");
        }
        List<Integer> dims = new ArrayList<>();
        long count = 1;
        for (String part : s.group(1).split(",")) {
            String p = part.trim();
            if (p.isEmpty()) {
                continue;
            }
            long v;
            try {
                v = Long.parseLong(p.endsWith("L") ? p.substring(0, p.length() - 1) : p);
            } catch (NumberFormatException e) {
                throw new FormatException(name + ": bad shape entry '" + p + "'");
            }
            if (v < 0 || v > MAX_ELEMENTS) {
                throw new FormatException(name + ": bad shape entry " + v);
            }
            count = v == 0 || count <= Long.MAX_VALUE / 8 / v ? count * v : Long.MAX_VALUE;
            if (count > maxElements) {
                throw new FormatException(name + ": array of " + s.group(1) + " is too large for one Java array");
            }
            dims.add((int) v);
        }
        String descr = d.group(1);
        ByteOrder order = descr.startsWith(">") ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN;
        String type = descr.replaceFirst("^[<>|=]", "");
        int width = switch (type) {
            case "f4", "i4" -> 4;
            case "f8", "i8" -> 8;
            default -> throw new FormatException(name + ": unsupported .npy dtype '" + descr
                    + "'; supported: float32, float64, int32, int64");
        };
        if (count == Long.MAX_VALUE) {
            throw new FormatException(name + ": array of " + s.group(1) + " is too large");
        }
        long bytes = count * width;
        if (consumed + headerLen + bytes > length) {
            throw new FormatException(name + ": truncated .npy data: shape " + dims + " needs " + bytes
                    + " bytes, the file holds " + (length - consumed - headerLen));
        }
        int[] shape = new int[dims.size()];
        for (int k = 0; k < shape.length; k++) {
            shape[k] = dims.get(k);
        }
        return new Header(type, order, shape, consumed + headerLen);
    }

    /**
     * The header bytes (magic, version, length, dictionary, padding) of a C-order array of {@code type} and
     * {@code shape}: format 1.0, or 2.0 where the dictionary needs more than 64 KiB.
     */
    public static byte[] headerBytes(DType type, long... shape) {
        StringBuilder sh = new StringBuilder("(");
        for (int k = 0; k < shape.length; k++) {
            sh.append(shape[k]).append(k == 0 && shape.length == 1 ? "," : k + 1 < shape.length ? ", " : "");
        }
        sh.append(")");
        String dict = "{'descr': '" + type.descr + "', 'fortran_order': False, 'shape': " + sh + ", }";
        boolean v2 = dict.length() + 1 + 10 > 65535;
        int prefix = v2 ? 12 : 10;
        int pad = (64 - (prefix + dict.length() + 1) % 64) % 64;
        String header = dict + " ".repeat(pad) + "\n";
        ByteBuffer bb = ByteBuffer.allocate(prefix + header.length()).order(ByteOrder.LITTLE_ENDIAN);
        bb.put(MAGIC).put((byte) (v2 ? 2 : 1)).put((byte) 0);
        if (v2) {
            bb.putInt(header.length());
        } else {
            bb.putShort((short) header.length());
        }
        bb.put(header.getBytes(StandardCharsets.ISO_8859_1));
        return bb.array();
    }

    /** Element types {@link #write(Path, float[], DType, int...)} can write (little-endian). */
    public enum DType {
        FLOAT32("<f4", 4), FLOAT64("<f8", 8), INT32("<i4", 4), INT64("<i8", 8);

        final String descr;
        final int width;

        DType(String descr, int width) {
            this.descr = descr;
            this.width = width;
        }
    }

    /** Writes float32, C order; to a temporary file renamed into place. */
    public static void write(Path file, float[] data, int... shape) {
        write(file, data, DType.FLOAT32, shape);
    }

    /**
     * Writes {@code data} as {@code type}, C order, format version 1.0 (2.0 where the header needs more than 64 KiB),
     * to a temporary file renamed into place. Integer types take whole numbers only: a fraction or a value out of the
     * type's range is refused rather than rounded.
     */
    public static void write(Path file, float[] data, DType type, int... shape) {
        long n = 1;
        for (int d : shape) {
            n *= d;
        }
        if (n != data.length) {
            throw new org.gpulrp.ShapeMismatchException("npy data", n + " values", data.length + " values");
        }
        long[] dims = new long[shape.length];
        for (int k = 0; k < shape.length; k++) {
            dims[k] = shape[k];
        }
        byte[] header = headerBytes(type, dims);
        ByteBuffer bb = ByteBuffer.allocate(Math.toIntExact(header.length + (long) type.width * data.length))
                .order(ByteOrder.LITTLE_ENDIAN);
        bb.put(header);
        for (int k = 0; k < data.length; k++) {
            float v = data[k];
            switch (type) {
                case FLOAT32 -> bb.putFloat(v);
                case FLOAT64 -> bb.putDouble(v);
                case INT32 -> bb.putInt((int) whole(v, k, Integer.MIN_VALUE, Integer.MAX_VALUE, file));
                default -> bb.putLong(whole(v, k, Long.MIN_VALUE, Long.MAX_VALUE, file));
            }
        }
        AtomicFiles.write(file, bb.array());
    }

    private static long whole(float v, int k, long min, long max, Path file) {
        if (v != Math.rint(v) || v < min || v > max) {
            throw new org.gpulrp.InvalidArgumentException("data", file + ": value " + v + " at index " + k
                    + " is not a whole number in the integer type's range");
        }
        return (long) v;
    }
}
