package org.gpulrp.fuzz;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * Byte-level mutations in the style of AFL's havoc stage: bit flips, bytes and 2/4/8-byte integers set to boundary
 * values (both byte orders), protobuf varints of large values, ASCII numbers replaced by extreme ones, truncation,
 * chunk duplication and removal, and splicing with another seed. Deterministic for a given {@link Random}.
 */
final class Mutator {
    static final byte[] BYTES = {0, 1, (byte) 0xff, 0x7f, (byte) 0x80, 0x10, 0x40, (byte) 0xfe, 0x20, '\n'};
    static final long[] LONGS = {0, 1, -1, 2, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xffff, 0x10000,
        Integer.MAX_VALUE, Integer.MIN_VALUE, 0xffffffffL, 1L << 32, 1L << 31, Integer.MAX_VALUE - 8,
        1_000_000_000_000L, 1L << 40, 1L << 61, Long.MAX_VALUE, Long.MIN_VALUE, 65536L * 65536L};
    private static final String[] NUMBERS = {"0", "-1", "1", "2147483647", "2147483648", "4294967296",
        "1000000000000", "9223372036854775807", "9223372036854775808", "-9223372036854775808", "1e12", "NaN",
        "1.5", "99999999999999999999999", "-0", "3.4e38", "1e-45", ""};
    /** Mutants never grow past this many bytes beyond their seed (keeps the loop fast and bounded). */
    private static final int MAX_GROWTH = 4096;

    private Mutator() {
    }

    /** One to {@code maxRounds} stacked mutations of {@code base}; {@code others} are splice partners. */
    static byte[] havoc(Random r, byte[] base, List<byte[]> others, int maxRounds) {
        byte[] b = base;
        int rounds = 1 + r.nextInt(maxRounds);
        for (int k = 0; k < rounds; k++) {
            b = once(r, b, others);
            if (b.length > base.length + MAX_GROWTH) {
                b = Arrays.copyOf(b, base.length + MAX_GROWTH);
            }
        }
        return b;
    }

    static byte[] once(Random r, byte[] in, List<byte[]> others) {
        if (in.length == 0) {
            return new byte[] {BYTES[r.nextInt(BYTES.length)]};
        }
        byte[] b = in.clone();
        int at = r.nextInt(b.length);
        switch (r.nextInt(12)) {
            case 0 -> b[at] ^= (byte) (1 << r.nextInt(8));
            case 1 -> b[at] = BYTES[r.nextInt(BYTES.length)];
            case 2 -> b[at] = (byte) r.nextInt(256);
            case 3 -> putInt(b, at, LONGS[r.nextInt(LONGS.length)], 1 << (1 + r.nextInt(3)), r.nextBoolean());
            case 4 -> {
                byte[] v = varint(LONGS[r.nextInt(LONGS.length)]);
                return splice(b, at, Math.min(b.length, at + 1 + r.nextInt(10)), v);
            }
            case 5 -> {
                return number(r, b);
            }
            case 6 -> {
                return Arrays.copyOf(b, r.nextInt(b.length));
            }
            case 7 -> { // duplicate a chunk
                int len = 1 + r.nextInt(Math.min(b.length - at, 256));
                return splice(b, at, at, Arrays.copyOfRange(b, at, at + len));
            }
            case 8 -> { // remove a chunk
                int len = 1 + r.nextInt(Math.min(b.length - at, 256));
                return splice(b, at, at + len, new byte[0]);
            }
            case 9 -> { // splice: this seed's head, another seed's tail
                byte[] o = others.get(r.nextInt(others.size()));
                if (o.length == 0) {
                    return b;
                }
                int from = r.nextInt(o.length);
                return splice(b, at, b.length, Arrays.copyOfRange(o, from, o.length));
            }
            case 10 -> { // insert random bytes
                byte[] ins = new byte[1 + r.nextInt(16)];
                r.nextBytes(ins);
                return splice(b, at, at, ins);
            }
            default -> { // copy a chunk over another place (moves length fields and tags around)
                int len = 1 + r.nextInt(Math.min(b.length - at, 64));
                int to = r.nextInt(b.length);
                System.arraycopy(b, at, b, to, Math.min(len, b.length - to));
            }
        }
        return b;
    }

    /** Replaces {@code [from, to)} of {@code b} with {@code ins}. */
    static byte[] splice(byte[] b, int from, int to, byte[] ins) {
        byte[] out = new byte[b.length - (to - from) + ins.length];
        System.arraycopy(b, 0, out, 0, from);
        System.arraycopy(ins, 0, out, from, ins.length);
        System.arraycopy(b, to, out, from + ins.length, b.length - to);
        return out;
    }

    static void putInt(byte[] b, int at, long v, int width, boolean littleEndian) {
        for (int k = 0; k < width && at + k < b.length; k++) {
            int shift = 8 * (littleEndian ? k : width - 1 - k);
            b[at + k] = (byte) (v >>> shift);
        }
    }

    static byte[] varint(long v) {
        byte[] out = new byte[10];
        int n = 0;
        while ((v & ~0x7fL) != 0) {
            out[n++] = (byte) ((v & 0x7f) | 0x80);
            v >>>= 7;
        }
        out[n++] = (byte) v;
        return Arrays.copyOf(out, n);
    }

    /** Replaces a run of ASCII digits (a shape entry, an offset, a CSV value) with an extreme number. */
    static byte[] number(Random r, byte[] b) {
        int start = r.nextInt(b.length);
        int k = start;
        while (k < b.length && !isDigit(b[k])) {
            k++;
        }
        if (k == b.length) {
            return b;
        }
        int end = k;
        while (end < b.length && (isDigit(b[end]) || b[end] == '.' || b[end] == '-')) {
            end++;
        }
        return splice(b, k, end, NUMBERS[r.nextInt(NUMBERS.length)].getBytes(StandardCharsets.US_ASCII));
    }

    private static boolean isDigit(byte c) {
        return c >= '0' && c <= '9';
    }
}
