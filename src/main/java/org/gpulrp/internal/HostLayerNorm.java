package org.gpulrp.internal;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import org.gpulrp.model.LayerNorm;

/**
 * Layer and RMS normalization and their relevance, on the host in double for every backend (docs/DESIGN.md section
 * 2.9). Per position, over its {@code N = hidden} values, sums in the fixed chain order of {@link #dot} (the same on
 * every CPU and vector width):
 * <ul>
 *   <li>LayerNorm: {@code mean = sum x / N}, {@code var = sum (x - mean)^2 / N}, {@code sd = sqrt(var + eps_ln)},
 *       {@code y = (x - mean) / sd * gamma + beta};</li>
 *   <li>RMSNorm: {@code rms = sqrt(sum x^2 / N + eps_ln)}, {@code y = x / rms * gamma};</li>
 * </ul>
 * each {@code y} rounded to float once. Relevance (AttnLRP): the normalizer {@code sd} (or {@code rms}) is a
 * constant, so the layer is the linear map {@code y = W x + beta} with {@code W_ji = gamma_j / sd (delta_ij - 1/N)},
 * explained by the epsilon rule: {@code s_j = R_j / stab(y_j)},
 * {@code R_x_i = x_i (gamma_i s_i - (1/N) sum_j gamma_j s_j) / sd}; RMSNorm {@code R_x_i = x_i gamma_i s_i / rms}.
 */
final class HostLayerNorm {
    private final int positions;
    private final int hidden;
    private final double[] gamma;
    private final double[] beta;
    private final double epsilon;
    private final boolean rms;
    private final double[] ones;

    HostLayerNorm(LayerNorm layer) {
        this.positions = layer.positions();
        this.hidden = layer.hidden();
        this.gamma = toDouble(layer.gamma());
        this.beta = toDouble(layer.beta());
        this.epsilon = layer.epsilon();
        this.rms = layer.rms();
        this.ones = new double[hidden];
        java.util.Arrays.fill(ones, 1.0);
    }

    /** Normalizes {@code rows} samples of {@code x} into {@code y} (may be the same array). */
    void forward(float[] x, float[] y, int rows) {
        HostParallel.forEach(rows * positions, 4L * hidden, p -> {
            int o = p * hidden;
            double[] c = scratch(0);
            double[] v = scratch(1);
            double scale = center(x, o, c);
            outputs(c, scale, v);
            for (int i = 0; i < hidden; i++) {
                y[o + i] = (float) v[i];
            }
        });
    }

    /**
     * Relevance from {@code r} at the outputs to {@code rx} at the inputs (may be {@code r}); the outputs are
     * recomputed bit for bit from {@code x}. The element-wise steps run on whole vectors ({@link #signals},
     * {@link #inputRelevance}): the same IEEE operations as one value at a time, so the same bits, without a
     * branch on each value's sign.
     *
     * @param share null, or per sample the stabilizer's share {@code eps sum_j s_j sign(y_j)} over its positions
     */
    void relevance(float[] x, float[] r, float[] rx, int rows, double eps, double[] share) {
        double[] perPosition = share == null ? null : new double[rows * positions];
        HostParallel.forEach(rows * positions, 6L * hidden, p -> {
            int o = p * hidden;
            double[] c = scratch(0);
            double[] v = scratch(1);
            double[] sign = scratch(2);
            double[] rd = scratch(3);
            double scale = center(x, o, c);
            outputs(c, scale, v);
            for (int j = 0; j < hidden; j++) {
                v[j] = (float) v[j];   // y, rounded to float as the forward pass gave it
                rd[j] = r[o + j];
            }
            double[] s = c;   // the centered values are not needed once the outputs are known
            signals(v, rd, eps, s, sign);
            double mean = rms ? 0.0 : dot(gamma, s, hidden) / hidden;
            double[] t = v;
            inputRelevance(x, o, s, mean, scale, t);
            for (int i = 0; i < hidden; i++) {
                rx[o + i] = (float) t[i];
            }
            if (perPosition != null) {
                perPosition[p] = eps * dot(s, sign, hidden);
            }
        });
        if (share != null) {
            for (int b = 0; b < rows; b++) {
                double sum = 0;
                for (int t = 0; t < positions; t++) {
                    sum += perPosition[b * positions + t];
                }
                share[b] = sum;
            }
        }
    }

    /**
     * Fills {@code c} with the position's values centered ({@code x - mean}; for RMSNorm {@code x} itself) and
     * returns the normalizer, {@code sd} or {@code rms}.
     */
    private double center(float[] x, int o, double[] c) {
        for (int i = 0; i < hidden; i++) {
            c[i] = x[o + i];
        }
        if (rms) {
            return Math.sqrt(dot(c, c, hidden) / hidden + epsilon);
        }
        double mean = dot(c, ones, hidden) / hidden;   // fma(c, 1, acc) is the rounded add: a plain sum
        int i = 0;
        DoubleVector m = DoubleVector.broadcast(D, mean);
        for (; i <= hidden - D.length(); i += D.length()) {
            DoubleVector.fromArray(D, c, i).sub(m).intoArray(c, i);
        }
        for (; i < hidden; i++) {
            c[i] = c[i] - mean;
        }
        return Math.sqrt(dot(c, c, hidden) / hidden + epsilon);
    }

    /** {@code v = c / scale * gamma (+ beta)}: the outputs before their rounding to float. */
    private void outputs(double[] c, double scale, double[] v) {
        int i = 0;
        DoubleVector sc = DoubleVector.broadcast(D, scale);
        for (; i <= hidden - D.length(); i += D.length()) {
            DoubleVector y = DoubleVector.fromArray(D, c, i).div(sc).mul(DoubleVector.fromArray(D, gamma, i));
            (rms ? y : y.add(DoubleVector.fromArray(D, beta, i))).intoArray(v, i);
        }
        for (; i < hidden; i++) {
            double y = c[i] / scale * gamma[i];
            v[i] = rms ? y : y + beta[i];
        }
    }

    /**
     * The epsilon rule's signals from the outputs {@code y} and their relevance {@code r}:
     * {@code s = d == 0 ? 0 : r / d} with {@code d = y + (y >= 0 ? eps : -eps)}, and {@code sign = y >= 0 ? 1 : -1}.
     */
    private void signals(double[] y, double[] r, double eps, double[] s, double[] sign) {
        int j = 0;
        DoubleVector up = DoubleVector.broadcast(D, eps);
        DoubleVector down = DoubleVector.broadcast(D, -eps);
        DoubleVector one = DoubleVector.broadcast(D, 1.0);
        DoubleVector minusOne = DoubleVector.broadcast(D, -1.0);
        DoubleVector zero = DoubleVector.zero(D);
        for (; j <= hidden - D.length(); j += D.length()) {
            DoubleVector yv = DoubleVector.fromArray(D, y, j);
            VectorMask<Double> nonNegative = yv.compare(VectorOperators.GE, zero);
            DoubleVector d = yv.add(down.blend(up, nonNegative));
            DoubleVector.fromArray(D, r, j).div(d).blend(zero, d.compare(VectorOperators.EQ, zero)).intoArray(s, j);
            minusOne.blend(one, nonNegative).intoArray(sign, j);
        }
        for (; j < hidden; j++) {
            double d = y[j] + (y[j] >= 0 ? eps : -eps);
            s[j] = d == 0 ? 0.0 : r[j] / d;
            sign[j] = y[j] >= 0 ? 1 : -1;
        }
    }

    /** {@code t = x (gamma s - mean) / scale}, the input relevance before its rounding to float. */
    private void inputRelevance(float[] x, int o, double[] s, double mean, double scale, double[] t) {
        for (int i = 0; i < hidden; i++) {
            t[i] = x[o + i];
        }
        int i = 0;
        DoubleVector m = DoubleVector.broadcast(D, mean);
        DoubleVector sc = DoubleVector.broadcast(D, scale);
        for (; i <= hidden - D.length(); i += D.length()) {
            DoubleVector g = DoubleVector.fromArray(D, gamma, i).mul(DoubleVector.fromArray(D, s, i)).sub(m);
            DoubleVector.fromArray(D, t, i).mul(g).div(sc).intoArray(t, i);
        }
        for (; i < hidden; i++) {
            t[i] = t[i] * (gamma[i] * s[i] - mean) / scale;
        }
    }

    private static final VectorSpecies<Double> D = DoubleVector.SPECIES_PREFERRED;

    /**
     * Chains of {@link #dot} (and so of plain sums, a dot with ones): value i goes to chain {@code i % CHAINS}. A
     * fixed count, not the vector width, so the bits are the same with 2, 4 or 8 lanes (and without vectors), and
     * enough independent chains that the sum is not bound by the latency of one.
     */
    static final int CHAINS = 16;

    /** Each thread's work arrays (at least {@code hidden} values each; only the first hidden are used). */
    private static final WorkArrays WORK = new WorkArrays(4);

    private double[] scratch(int slot) {
        return WORK.doubles(slot, hidden);
    }

    /**
     * {@code sum_i a_i b_i} in a fixed order: {@link #CHAINS} fused multiply-add chains (value i in chain
     * {@code i % CHAINS}, over the first {@code n - n % CHAINS} values, each from +0.0), the chains then added in
     * ascending order to +0.0, then the remaining values by fused multiply-adds in ascending order. IEEE operations
     * only: the same bits on every CPU and vector width, independent of what else is in the batch.
     */
    static double dot(double[] a, double[] b, int n) {
        int whole = n - n % CHAINS;
        double[] chains = new double[CHAINS];
        if (D.length() == 8) {
            DoubleVector c0 = DoubleVector.zero(D);
            DoubleVector c1 = c0;
            for (int i = 0; i < whole; i += CHAINS) {
                c0 = DoubleVector.fromArray(D, a, i).fma(DoubleVector.fromArray(D, b, i), c0);
                c1 = DoubleVector.fromArray(D, a, i + 8).fma(DoubleVector.fromArray(D, b, i + 8), c1);
            }
            c0.intoArray(chains, 0);
            c1.intoArray(chains, 8);
        } else if (D.length() == 4) {
            DoubleVector c0 = DoubleVector.zero(D);
            DoubleVector c1 = c0;
            DoubleVector c2 = c0;
            DoubleVector c3 = c0;
            for (int i = 0; i < whole; i += CHAINS) {
                c0 = DoubleVector.fromArray(D, a, i).fma(DoubleVector.fromArray(D, b, i), c0);
                c1 = DoubleVector.fromArray(D, a, i + 4).fma(DoubleVector.fromArray(D, b, i + 4), c1);
                c2 = DoubleVector.fromArray(D, a, i + 8).fma(DoubleVector.fromArray(D, b, i + 8), c2);
                c3 = DoubleVector.fromArray(D, a, i + 12).fma(DoubleVector.fromArray(D, b, i + 12), c3);
            }
            c0.intoArray(chains, 0);
            c1.intoArray(chains, 4);
            c2.intoArray(chains, 8);
            c3.intoArray(chains, 12);
        } else {
            for (int i = 0; i < whole; i++) {
                chains[i % CHAINS] = Math.fma(a[i], b[i], chains[i % CHAINS]);
            }
        }
        double total = 0;
        for (double v : chains) {
            total += v;
        }
        for (int i = whole; i < n; i++) {
            total = Math.fma(a[i], b[i], total);
        }
        return total;
    }

    private static double[] toDouble(float[] f) {
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) {
            d[i] = f[i];
        }
        return d;
    }
}
