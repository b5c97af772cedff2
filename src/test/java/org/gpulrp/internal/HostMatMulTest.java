package org.gpulrp.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * {@link HostMatMul}'s float chains: the Vector API form, the scalar form, one thread and many all give the bits of a
 * plain {@code Math.fma} statement of docs/DESIGN.md section 2.9, at sizes that leave lane tails and rows outside the
 * register tiles, with zeros and {@code -0.0} in the inputs.
 */
class HostMatMulTest {
    private static final int[][] SIZES = {{1, 1, 1}, {3, 1, 17}, {5, 7, 17}, {4, 64, 8}, {9, 16, 33},
        {13, 3, 40}, {6, 17, 64}, {9, 5, 100}, {8, 130, 7}};
    private static final float EPS = 1e-6f;

    @Test
    void vectorScalarAndThreadCountsGiveThePlainStatementsBits() {
        assertTrue(HostMatMul.vector, "the Vector API module is enabled in the tests");
        Random rnd = new Random(11);
        int threads = HostParallel.threads;
        long work = HostParallel.sequentialWork;
        try {
            for (int[] size : SIZES) {
                int units = 3;
                int m = size[0];
                int k = size[1];
                int n = size[2];
                float[] a = values(rnd, units * m * k);
                float[] b = values(rnd, units * k * n);
                float[] r = values(rnd, units * m * n);
                float[][] want = plain(a, b, r, units, m, k, n, 0.5f, 0.5f);
                for (boolean vector : new boolean[] {true, false}) {
                    for (int t : new int[] {1, 5}) {
                        HostMatMul.vector = vector;
                        HostParallel.threads = t;
                        HostParallel.sequentialWork = t == 1 ? work : 0;
                        String what = m + "x" + k + "x" + n + (vector ? " vector " : " scalar ") + t + " threads";
                        float[] z = new float[units * m * n];
                        HostMatMul.forward(a, b, z, units, m, k, n);
                        same(want[0], z, what + " z");
                        // r relative to the plain z, so that a wrong z cannot hide a wrong relevance
                        float[] ra = new float[a.length];
                        float[] rb = new float[b.length];
                        double[] share = new double[units];
                        HostMatMul.relevance(a, b, want[0], r, ra, rb, units, m, k, n, 0.5f, 0.5f, EPS, share);
                        same(want[1], ra, what + " ra");
                        same(want[2], rb, what + " rb");
                        float[] only = new float[b.length];
                        HostMatMul.relevance(a, b, want[0], r, null, only, units, m, k, n, 0f, 1f, EPS, null);
                        same(plain(a, b, r, units, m, k, n, 0f, 1f)[2], only, what + " rb alone");
                    }
                }
            }
        } finally {
            HostMatMul.vector = true;
            HostParallel.threads = threads;
            HostParallel.sequentialWork = work;
        }
    }

    /** z, ra and rb as docs/DESIGN.md 2.9 states them, one output at a time. */
    private static float[][] plain(float[] a, float[] b, float[] r, int units, int m, int k, int n, float wa,
                                   float wb) {
        float[] z = new float[units * m * n];
        float[] ra = new float[a.length];
        float[] rb = new float[b.length];
        for (int u = 0; u < units; u++) {
            int ao = u * m * k;
            int bo = u * k * n;
            int zo = u * m * n;
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    float acc = 0f;
                    for (int kk = 0; kk < k; kk++) {
                        acc = Math.fma(a[ao + i * k + kk], b[bo + kk * n + j], acc);
                    }
                    z[zo + i * n + j] = acc;
                }
            }
            float[] s = new float[m * n];
            for (int q = 0; q < m * n; q++) {
                float d = z[zo + q] + (z[zo + q] >= 0 ? EPS : -EPS);
                s[q] = d == 0 ? 0f : r[zo + q] / d;
            }
            for (int i = 0; i < m; i++) {
                for (int kk = 0; kk < k; kk++) {
                    float acc = 0f;
                    for (int j = 0; j < n; j++) {
                        acc = Math.fma(s[i * n + j], b[bo + kk * n + j], acc);
                    }
                    ra[ao + i * k + kk] = wa * (a[ao + i * k + kk] * acc);
                }
            }
            for (int kk = 0; kk < k; kk++) {
                for (int j = 0; j < n; j++) {
                    float acc = 0f;
                    for (int i = 0; i < m; i++) {
                        acc = Math.fma(a[ao + i * k + kk], s[i * n + j], acc);
                    }
                    rb[bo + kk * n + j] = wb * (b[bo + kk * n + j] * acc);
                }
            }
        }
        return new float[][] {z, ra, rb};
    }

    /** Gaussian values with about one in six an exact 0 or -0.0 (so that -0.0 products meet +0.0 chains). */
    private static float[] values(Random rnd, int count) {
        float[] v = new float[count];
        for (int i = 0; i < count; i++) {
            int pick = rnd.nextInt(12);
            v[i] = pick == 0 ? 0f : pick == 1 ? -0f : (float) rnd.nextGaussian();
        }
        return v;
    }

    private static void same(float[] want, float[] got, String what) {
        for (int i = 0; i < want.length; i++) {
            assertEquals(Float.floatToRawIntBits(want[i]), Float.floatToRawIntBits(got[i]), what + " at " + i);
        }
    }
}
