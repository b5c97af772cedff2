package org.gpulrp.internal;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The Vector API form of {@link HostMatMul#chains}: lanes over an output row's columns, register tiles of 4 rows by
 * 4, 2 or 1 vectors (the last columns, fewer than a vector, from a zero-padded copy), each lane one output's chain
 * {@code acc = fma(broadcast(x[p, t]), y[t, j], acc)} in ascending t from {@code +0.0f}, the same bits as the scalar
 * loop. Loaded only where the module is enabled.
 */
final class HostMatMulVector {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    /**
     * Whether 4 x 4 tiles (16 chains) fit the registers: with 512-bit vectors (AVX-512's 32 registers). With 16
     * registers (AVX2) they would spill; there 4 x 2 (8 chains) is the widest tile.
     */
    private static final boolean WIDE = S.vectorBitSize() >= 512;

    private HostMatMulVector() {
    }

    /** Computes every column of every row and returns {@code q}. */
    static int chains(float[] x, int xo, int xRow, int xStep, float[] y, int yo, float[] c, int co, int rows,
                      int terms, int q) {
        int p = 0;
        for (; p + 4 <= rows; p += 4) {
            int x0 = xo + p * xRow;
            int x1 = x0 + xRow;
            int x2 = x1 + xRow;
            int x3 = x2 + xRow;
            int j = WIDE ? wide(x, x0, x1, x2, x3, xStep, y, yo, c, co + p * q, terms, q) : 0;
            for (; j + 2 * L <= q; j += 2 * L) {
                FloatVector a0 = FloatVector.zero(S);
                FloatVector b0 = a0;
                FloatVector a1 = a0;
                FloatVector b1 = a0;
                FloatVector a2 = a0;
                FloatVector b2 = a0;
                FloatVector a3 = a0;
                FloatVector b3 = a0;
                for (int t = 0; t < terms; t++) {
                    int yt = yo + t * q + j;
                    FloatVector ya = FloatVector.fromArray(S, y, yt);
                    FloatVector yb = FloatVector.fromArray(S, y, yt + L);
                    int xt = t * xStep;
                    FloatVector v = FloatVector.broadcast(S, x[x0 + xt]);
                    a0 = v.fma(ya, a0);
                    b0 = v.fma(yb, b0);
                    v = FloatVector.broadcast(S, x[x1 + xt]);
                    a1 = v.fma(ya, a1);
                    b1 = v.fma(yb, b1);
                    v = FloatVector.broadcast(S, x[x2 + xt]);
                    a2 = v.fma(ya, a2);
                    b2 = v.fma(yb, b2);
                    v = FloatVector.broadcast(S, x[x3 + xt]);
                    a3 = v.fma(ya, a3);
                    b3 = v.fma(yb, b3);
                }
                int o = co + p * q + j;
                a0.intoArray(c, o);
                b0.intoArray(c, o + L);
                a1.intoArray(c, o + q);
                b1.intoArray(c, o + q + L);
                a2.intoArray(c, o + 2 * q);
                b2.intoArray(c, o + 2 * q + L);
                a3.intoArray(c, o + 3 * q);
                b3.intoArray(c, o + 3 * q + L);
            }
            for (; j + L <= q; j += L) {
                FloatVector a0 = FloatVector.zero(S);
                FloatVector a1 = a0;
                FloatVector a2 = a0;
                FloatVector a3 = a0;
                for (int t = 0; t < terms; t++) {
                    FloatVector ya = FloatVector.fromArray(S, y, yo + t * q + j);
                    int xt = t * xStep;
                    a0 = FloatVector.broadcast(S, x[x0 + xt]).fma(ya, a0);
                    a1 = FloatVector.broadcast(S, x[x1 + xt]).fma(ya, a1);
                    a2 = FloatVector.broadcast(S, x[x2 + xt]).fma(ya, a2);
                    a3 = FloatVector.broadcast(S, x[x3 + xt]).fma(ya, a3);
                }
                int o = co + p * q + j;
                a0.intoArray(c, o);
                a1.intoArray(c, o + q);
                a2.intoArray(c, o + 2 * q);
                a3.intoArray(c, o + 3 * q);
            }
        }
        for (; p < rows; p++) {
            int xp = xo + p * xRow;
            for (int j = 0; j + L <= q; j += L) {
                FloatVector a0 = FloatVector.zero(S);
                for (int t = 0; t < terms; t++) {
                    a0 = FloatVector.broadcast(S, x[xp + t * xStep]).fma(FloatVector.fromArray(S, y, yo + t * q + j),
                            a0);
                }
                a0.intoArray(c, co + p * q + j);
            }
        }
        if (q % L != 0) {
            tail(x, xo, xRow, xStep, y, yo, c, co, rows, terms, q);
        }
        return q;
    }

    /**
     * The last {@code q % L} columns: their values of y copied, zero-padded, into a {@code [terms, L]} strip, which
     * {@link #chains} runs as a product of width L (so every lane runs the chain a column of its own would; the
     * padding lanes compute values nobody stores), its rows then copied into c. A token sequence of 197 (ViT-B/16)
     * left 5 of every 197 columns to the scalar loop before, 3 % of the call.
     */
    private static void tail(float[] x, int xo, int xRow, int xStep, float[] y, int yo, float[] c, int co, int rows,
                             int terms, int q) {
        int j0 = q - q % L;
        int width = q - j0;
        int out = terms * L;   // the strip's product after it, [rows, L]
        float[] strip = TAIL.floats(0, out + rows * L);
        for (int t = 0; t < terms; t++) {
            System.arraycopy(y, yo + t * q + j0, strip, t * L, width);
            java.util.Arrays.fill(strip, t * L + width, (t + 1) * L, 0f);
        }
        chains(x, xo, xRow, xStep, strip, 0, strip, out, rows, terms, L);
        for (int p = 0; p < rows; p++) {
            System.arraycopy(strip, out + p * L, c, co + p * q + j0, width);
        }
    }

    /** Each thread's padded strip of {@link #tail} and its product. */
    private static final WorkArrays TAIL = new WorkArrays(1);

    /**
     * Rows {@code x0..x3} (their offsets in x) by four vectors of columns at a time, from column 0: 16 chains, four
     * loads of y and four broadcasts per 16 fused multiply-adds. Returns the first column not done.
     */
    private static int wide(float[] x, int x0, int x1, int x2, int x3, int xStep, float[] y, int yo, float[] c,
                            int o, int terms, int q) {
        int j = 0;
        for (; j + 4 * L <= q; j += 4 * L) {
            FloatVector a0 = FloatVector.zero(S);
            FloatVector b0 = a0;
            FloatVector d0 = a0;
            FloatVector e0 = a0;
            FloatVector a1 = a0;
            FloatVector b1 = a0;
            FloatVector d1 = a0;
            FloatVector e1 = a0;
            FloatVector a2 = a0;
            FloatVector b2 = a0;
            FloatVector d2 = a0;
            FloatVector e2 = a0;
            FloatVector a3 = a0;
            FloatVector b3 = a0;
            FloatVector d3 = a0;
            FloatVector e3 = a0;
            for (int t = 0; t < terms; t++) {
                int yt = yo + t * q + j;
                FloatVector ya = FloatVector.fromArray(S, y, yt);
                FloatVector yb = FloatVector.fromArray(S, y, yt + L);
                FloatVector yd = FloatVector.fromArray(S, y, yt + 2 * L);
                FloatVector ye = FloatVector.fromArray(S, y, yt + 3 * L);
                int xt = t * xStep;
                FloatVector v = FloatVector.broadcast(S, x[x0 + xt]);
                a0 = v.fma(ya, a0);
                b0 = v.fma(yb, b0);
                d0 = v.fma(yd, d0);
                e0 = v.fma(ye, e0);
                v = FloatVector.broadcast(S, x[x1 + xt]);
                a1 = v.fma(ya, a1);
                b1 = v.fma(yb, b1);
                d1 = v.fma(yd, d1);
                e1 = v.fma(ye, e1);
                v = FloatVector.broadcast(S, x[x2 + xt]);
                a2 = v.fma(ya, a2);
                b2 = v.fma(yb, b2);
                d2 = v.fma(yd, d2);
                e2 = v.fma(ye, e2);
                v = FloatVector.broadcast(S, x[x3 + xt]);
                a3 = v.fma(ya, a3);
                b3 = v.fma(yb, b3);
                d3 = v.fma(yd, d3);
                e3 = v.fma(ye, e3);
            }
            int oj = o + j;
            a0.intoArray(c, oj);
            b0.intoArray(c, oj + L);
            d0.intoArray(c, oj + 2 * L);
            e0.intoArray(c, oj + 3 * L);
            a1.intoArray(c, oj + q);
            b1.intoArray(c, oj + q + L);
            d1.intoArray(c, oj + q + 2 * L);
            e1.intoArray(c, oj + q + 3 * L);
            a2.intoArray(c, oj + 2 * q);
            b2.intoArray(c, oj + 2 * q + L);
            d2.intoArray(c, oj + 2 * q + 2 * L);
            e2.intoArray(c, oj + 2 * q + 3 * L);
            a3.intoArray(c, oj + 3 * q);
            b3.intoArray(c, oj + 3 * q + L);
            d3.intoArray(c, oj + 3 * q + 2 * L);
            e3.intoArray(c, oj + 3 * q + 3 * L);
        }
        return j;
    }
}
