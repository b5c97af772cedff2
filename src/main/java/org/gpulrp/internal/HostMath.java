package org.gpulrp.internal;

/**
 * Transcendental activations, evaluated once on the host for every backend so all paths share their bits
 * (docs/DESIGN.md section 3, rule 5). {@code StrictMath} and {@link VectorExp} (IEEE operations only) keep the bits
 * the same on every JVM and CPU, too.
 */
public final class HostMath {
    private HostMath() {
    }

    public static void sigmoid(float[] in, float[] out, int length) {
        elementwise(org.gpulrp.model.Activation.Function.SIGMOID, in, out, 0, length);
    }

    /** Softmax over each row of {@code cols} values, max-shifted, summed in ascending order in double. */
    public static void softmax(float[] in, float[] out, int rows, int cols) {
        softmaxRows(in, out, 0, rows, cols, new double[SOFTMAX_ROWS * VectorExp.padded(cols)]);
    }

    /** Rows {@link #softmaxRows} takes at once: their sums' chains interleave. */
    static final int SOFTMAX_ROWS = 4;

    /**
     * The softmax of rows {@code [r0, r1)} of {@code cols} values each; {@code e} is room for {@link #SOFTMAX_ROWS}
     * rows of {@code cols} doubles each rounded up to whole vectors. Per row: the exponentials of the values minus
     * the row's maximum ({@link VectorExp}), their sum in ascending order in double, each value's exponential over
     * the sum rounded to float. The sums of four rows run side by side (four independent chains instead of one
     * waiting on each add; each row's chain and bits unchanged).
     */
    static void softmaxRows(float[] in, float[] out, int r0, int r1, int cols, double[] e) {
        int padded = VectorExp.padded(cols);
        double[] sums = new double[SOFTMAX_ROWS];
        for (int b = r0; b < r1; b += SOFTMAX_ROWS) {
            int n = Math.min(SOFTMAX_ROWS, r1 - b);
            for (int t = 0; t < n; t++) {
                int o = (b + t) * cols;
                float max = in[o];
                for (int j = 1; j < cols; j++) {
                    max = in[o + j] > max ? in[o + j] : max;
                }
                for (int j = 0; j < padded; j++) {
                    e[t * padded + j] = j < cols ? (double) in[o + j] - max : 0.0;
                }
            }
            VectorExp.exp(e, e, n * padded);
            if (n == 4) {
                double s0 = 0;
                double s1 = 0;
                double s2 = 0;
                double s3 = 0;
                for (int j = 0; j < cols; j++) {
                    s0 += e[j];
                    s1 += e[padded + j];
                    s2 += e[2 * padded + j];
                    s3 += e[3 * padded + j];
                }
                sums[0] = s0;
                sums[1] = s1;
                sums[2] = s2;
                sums[3] = s3;
            } else {
                for (int t = 0; t < n; t++) {
                    double sum = 0;
                    for (int j = 0; j < cols; j++) {
                        sum += e[t * padded + j];
                    }
                    sums[t] = sum;
                }
            }
            for (int t = 0; t < n; t++) {
                int o = (b + t) * cols;
                for (int j = 0; j < cols; j++) {
                    out[o + j] = (float) (e[t * padded + j] / sums[t]);
                }
            }
        }
    }

    /**
     * Evaluates a host activation over {@code rows} rows of {@code cols} values (every function but ReLU, which runs
     * on the backend). The piecewise-linear ones follow PyTorch's formulas: {@code relu6 = min(max(x, 0), 6)},
     * {@code hardsigmoid = min(max(x + 3, 0), 6) / 6}, {@code hardswish = x * min(max(x + 3, 0), 6) / 6}; SiLU is
     * {@code x * sigmoid(x)}, GELU {@code x (1 + erf(x / sqrt 2)) / 2} (see {@link #vectorized}), its tanh form
     * {@code x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3))) / 2} and tanh, each in double, rounded once.
     */
    public static void activation(org.gpulrp.model.Activation.Function f, float[] in, float[] out, int rows,
                                  int cols) {
        if (f == org.gpulrp.model.Activation.Function.SOFTMAX) {
            softmax(in, out, rows, cols);
        } else {
            elementwise(f, in, out, 0, rows * cols);
        }
    }

    /** An elementwise activation (any but softmax and ReLU) on {@code [from, to)}. */
    static void elementwise(org.gpulrp.model.Activation.Function f, float[] in, float[] out, int from, int to) {
        switch (f) {
            case SIGMOID, SILU, GELU -> vectorized(f, in, out, from, to);
            case RELU6 -> {
                for (int k = from; k < to; k++) {
                    out[k] = clamp(in[k], 6f);
                }
            }
            case HARDSIGMOID -> {
                for (int k = from; k < to; k++) {
                    out[k] = clamp(in[k] + 3f, 6f) / 6f;
                }
            }
            case HARDSWISH -> {
                for (int k = from; k < to; k++) {
                    out[k] = in[k] * clamp(in[k] + 3f, 6f) / 6f;
                }
            }
            case GELU_TANH -> {
                for (int k = from; k < to; k++) {
                    double x = in[k];
                    out[k] = (float) (0.5 * x * (1.0 + StrictMath.tanh(SQRT_2_OVER_PI * (x + 0.044715 * x * x * x))));
                }
            }
            case TANH -> {
                for (int k = from; k < to; k++) {
                    out[k] = (float) StrictMath.tanh(in[k]);
                }
            }
            case SOFTMAX -> throw new IllegalArgumentException("softmax works on rows: activation(...)");
            case RELU -> throw new IllegalArgumentException("ReLU runs on the backend (Backend.relu), not on the host");
        }
    }

    private static final double SQRT_2_OVER_PI = 0.7978845608028654;   // sqrt(2 / pi)
    private static final double SQRT_HALF = 0.7071067811865476;         // 1 / sqrt(2)

    /**
     * Sigmoid {@code 1 / (1 + exp(-x))}, SiLU {@code x / (1 + exp(-x))} and GELU {@code x (1 + erf(x / sqrt 2)) / 2}
     * in double on whole vectors, each value rounded once to float. GELU is evaluated as {@code x erfc(-x / sqrt 2)
     * / 2} (the same function; {@code 1 + erf(t)} loses every digit to cancellation for large negative t, erfc does
     * not). The last, partial vector is padded with zeros, so every value goes through the same lane arithmetic
     * wherever it sits.
     */
    private static void vectorized(org.gpulrp.model.Activation.Function f, float[] in, float[] out, int from,
                                   int to) {
        int block = Math.min(BLOCK, VectorExp.padded(to - from));
        double[] x = WORK.doubles(0, BLOCK);
        double[] y = WORK.doubles(1, BLOCK);
        double[] work1 = WORK.doubles(2, BLOCK);
        double[] work2 = WORK.doubles(3, BLOCK);
        for (int k = from; k < to; k += block) {
            int n = Math.min(block, to - k);
            for (int j = 0; j < block; j++) {
                x[j] = j < n ? in[k + j] : 0.0;
            }
            switch (f) {
                case SIGMOID, SILU -> {
                    for (int j = 0; j < block; j++) {
                        y[j] = -x[j];
                    }
                    VectorExp.exp(y, y, block);
                    VectorExp.logistic(f == org.gpulrp.model.Activation.Function.SIGMOID ? null : x, y, block);
                    for (int j = 0; j < n; j++) {
                        out[k + j] = (float) y[j];
                    }
                }
                case GELU -> {
                    for (int j = 0; j < block; j++) {
                        y[j] = x[j] * -SQRT_HALF;
                    }
                    Erf.erfc(y, y, block, work1, work2);
                    VectorExp.halfProduct(x, y, block);
                    for (int j = 0; j < n; j++) {
                        out[k + j] = (float) y[j];
                    }
                }
                default -> throw new IllegalArgumentException(f + " is not a vectorized activation");
            }
        }
    }

    /** This thread's work array of at least {@code count} doubles (for {@link #softmaxRows}; contents undefined). */
    static double[] work(int count) {
        return WORK.doubles(4, count);
    }

    /** Each thread's arrays: {@link #vectorized}'s four blocks, {@link #work}'s softmax rows. */
    private static final WorkArrays WORK = new WorkArrays(5);

    /** Values per block of {@link #vectorized}: its arrays stay in L1. */
    private static final int BLOCK = 512;

    /** {@code min(max(x, 0), hi)}, never -0. */
    private static float clamp(float x, float hi) {
        return x > 0 ? (x < hi ? x : hi) : 0f;
    }
}
