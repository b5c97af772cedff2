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
}
