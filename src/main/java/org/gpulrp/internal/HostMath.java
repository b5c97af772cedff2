package org.gpulrp.internal;

/**
 * Transcendental activations, evaluated once on the host for every backend so all paths share their bits
 * (docs/DESIGN.md section 3, rule 5). {@code StrictMath} keeps the bits the same on every JVM and CPU, too.
 */
public final class HostMath {
    private HostMath() {
    }

    public static void sigmoid(float[] in, float[] out, int length) {
        for (int k = 0; k < length; k++) {
            out[k] = (float) (1.0 / (1.0 + StrictMath.exp(-(double) in[k])));
        }
    }

    /** Softmax over each row of {@code cols} values, max-shifted, summed in ascending order in double. */
    public static void softmax(float[] in, float[] out, int rows, int cols) {
        double[] e = new double[cols];
        for (int b = 0; b < rows; b++) {
            int o = b * cols;
            float max = in[o];
            for (int j = 1; j < cols; j++) {
                max = in[o + j] > max ? in[o + j] : max;
            }
            double sum = 0;
            for (int j = 0; j < cols; j++) {
                e[j] = StrictMath.exp((double) in[o + j] - max);
                sum += e[j];
            }
            for (int j = 0; j < cols; j++) {
                out[o + j] = (float) (e[j] / sum);
            }
        }
    }

    /**
     * Evaluates a host activation over {@code rows} rows of {@code cols} values (every function but ReLU, which runs
     * on the backend). The piecewise-linear ones follow PyTorch's formulas: {@code relu6 = min(max(x, 0), 6)},
     * {@code hardsigmoid = min(max(x + 3, 0), 6) / 6}, {@code hardswish = x * min(max(x + 3, 0), 6) / 6}; SiLU is
     * {@code x * sigmoid(x)} in double, rounded once.
     */
    public static void activation(org.gpulrp.model.Activation.Function f, float[] in, float[] out, int rows,
                                  int cols) {
        int n = rows * cols;
        switch (f) {
            case SIGMOID -> sigmoid(in, out, n);
            case SOFTMAX -> softmax(in, out, rows, cols);
            case RELU6 -> {
                for (int k = 0; k < n; k++) {
                    out[k] = clamp(in[k], 6f);
                }
            }
            case HARDSIGMOID -> {
                for (int k = 0; k < n; k++) {
                    out[k] = clamp(in[k] + 3f, 6f) / 6f;
                }
            }
            case HARDSWISH -> {
                for (int k = 0; k < n; k++) {
                    out[k] = in[k] * clamp(in[k] + 3f, 6f) / 6f;
                }
            }
            case SILU -> {
                for (int k = 0; k < n; k++) {
                    double x = in[k];
                    out[k] = (float) (x / (1.0 + StrictMath.exp(-x)));
                }
            }
            case RELU -> throw new IllegalArgumentException("ReLU runs on the backend (Backend.relu), not on the host");
        }
    }

    /** {@code min(max(x, 0), hi)}, never -0. */
    private static float clamp(float x, float hi) {
        return x > 0 ? (x < hi ? x : hi) : 0f;
    }
}
