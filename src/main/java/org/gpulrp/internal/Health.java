package org.gpulrp.internal;

import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Where relevance went in one explained batch, filled by the engines (each lane its own rows): per node and sample,
 * the relevance entering the node (at its output), leaving it (what it passed to its inputs) and the part its
 * stabilizer absorbed; per output (0 = the input relevance, k + 1 = node k) the NaN, infinite and subnormal values.
 */
public final class Health {
    /** [node][row]. */
    public final double[][] entering;
    public final double[][] leaving;
    public final double[][] stabilizer;
    /** Per output: NaN, infinite, subnormal counts (3 slots each). */
    private final AtomicLongArray counts;

    Health(int nodes, int rows) {
        entering = new double[nodes][rows];
        leaving = new double[nodes][rows];
        stabilizer = new double[nodes][rows];
        counts = new AtomicLongArray(3 * (nodes + 1));
    }

    /** NaN, infinite and subnormal values in output o's relevance (0 = the input relevance, k + 1 = node k). */
    public long[] counts(int o) {
        return new long[] {counts.get(3 * o), counts.get(3 * o + 1), counts.get(3 * o + 2)};
    }

    void count(int o, long[] c) {
        for (int i = 0; i < 3; i++) {
            counts.addAndGet(3 * o + i, c[i]);
        }
    }

    static void add(double[] into, double[] perRow, int row0) {
        for (int b = 0; b < perRow.length; b++) {
            into[row0 + b] += perRow[b];
        }
    }

    /**
     * The stabilizer's share per row, added into {@code into[row0 + b]}: {@code eps * sum_j g[b,j] s(d[b,j])} over
     * the {@code width} outputs, in double, j ascending; {@code d} has one row per sample ({@code stride = width})
     * or one row shared by all ({@code stride = 0}). Reads both buffers from the backend.
     */
    static void addStabilizer(org.gpulrp.backend.Backend be, org.gpulrp.backend.Buffer g,
                              org.gpulrp.backend.Buffer d, int stride, int rows, int width, double eps,
                              double[] into, int row0) {
        addStabilizer(be, g, d, stride, rows, width, width, eps, into, row0);
    }

    /**
     * As above, where a shared denominator ({@code stride = 0}) has {@code period} values that repeat along the
     * row (a token-wise dense layer's fixed denominator: one per output feature, the same at every position).
     */
    static void addStabilizer(org.gpulrp.backend.Backend be, org.gpulrp.backend.Buffer g,
                              org.gpulrp.backend.Buffer d, int stride, int rows, int width, int period, double eps,
                              double[] into, int row0) {
        float[] gh = new float[rows * width];
        float[] dh = new float[stride == 0 ? period : rows * width];
        be.read(g, gh, 0, gh.length);
        be.read(d, dh, 0, dh.length);
        for (int b = 0; b < rows; b++) {
            double sum = 0;
            for (int j = 0; j < width; j++) {
                float dj = stride == 0 ? dh[j % period] : dh[b * stride + j];
                sum += (double) gh[b * width + j] * (dj >= 0 ? 1 : -1);
            }
            into[row0 + b] += eps * sum;
        }
    }

    /**
     * Per-row sums in double, ascending ({@link #rowSums}); NaN / infinite / subnormal counts into {@code counts} when
     * given.
     */
    static double[] sums(float[] a, int row0, int rows, int width, long[] counts) {
        double[] s = new double[rows];
        rowSums(a, row0, rows, width, s, 0);
        if (counts != null) {
            counts(a, row0, rows, width, counts);
        }
        return s;
    }

    /** Counts the NaN, infinite and subnormal values of rows {@code [row0, row0 + rows)} into {@code counts[0..2]}. */
    static void counts(float[] a, int row0, int rows, int width, long[] counts) {
        for (int k = row0 * width; k < (row0 + rows) * width; k++) {
            float v = a[k];
            if (Float.isNaN(v)) {
                counts[0]++;
            } else if (Float.isInfinite(v)) {
                counts[1]++;
            } else if (v != 0 && Math.abs(v) < Float.MIN_NORMAL) {
                counts[2]++;
            }
        }
    }

    /**
     * The sum of each of rows {@code [row0, row0 + rows)} of {@code a} into {@code sums[to + (b - row0)]}: the row's
     * values added in ascending order in double ({@link #rowSum}, the same bits), four rows at a time (independent
     * chains; one row's chain alone waits on the add latency).
     */
    static void rowSums(float[] a, int row0, int rows, int width, double[] sums, int to) {
        int b = row0;
        int end = row0 + rows;
        for (; b + 4 <= end; b += 4) {
            int o = b * width;
            double s0 = 0;
            double s1 = 0;
            double s2 = 0;
            double s3 = 0;
            for (int i = 0; i < width; i++) {
                s0 += a[o + i];
                s1 += a[o + width + i];
                s2 += a[o + 2 * width + i];
                s3 += a[o + 3 * width + i];
            }
            int t = to + b - row0;
            sums[t] = s0;
            sums[t + 1] = s1;
            sums[t + 2] = s2;
            sums[t + 3] = s3;
        }
        for (; b < end; b++) {
            sums[to + b - row0] = rowSum(a, b, width);
        }
    }

    /** The sum of row {@code row} of {@code a} ({@code width} values a row), added in ascending order in double. */
    public static double rowSum(float[] a, int row, int width) {
        double sum = 0;
        for (int i = row * width; i < (row + 1) * width; i++) {
            sum += a[i];
        }
        return sum;
    }
}
