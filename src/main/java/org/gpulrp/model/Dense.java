package org.gpulrp.model;

import java.util.Arrays;
import org.gpulrp.InvalidInputException;
import org.gpulrp.ShapeMismatchException;

/**
 * Fully connected layer {@code z_j = sum_i x_i w_ij + b_j}. The weight is stored as PyTorch stores it: row-major
 * {@code [out, in]}, so {@code weight[j * in + i]} is the weight from input i to output j. The arrays are copied
 * in and never handed out, so a layer cannot change after it is built.
 */
public final class Dense implements Layer {
    private final int positions;
    private final int in;
    private final int out;
    private final float[] weight;
    private final float[] bias;

    /**
     * @param in     input features
     * @param out    output features
     * @param weight {@code [out, in]} row-major, length {@code out * in}
     * @param bias   length {@code out}, or null for no bias (zeros)
     */
    public Dense(int in, int out, float[] weight, float[] bias) {
        this(1, in, out, weight, bias);
    }

    /**
     * The same map applied at each of {@code positions} positions of a sample (a transformer's token-wise linear
     * layer, ONNX {@code MatMul} by a 2-D weight on a {@code [batch, positions, in]} input): the sample is
     * {@code [positions, in]} row-major and the output {@code [positions, out]}.
     *
     * @param positions positions per sample sharing the weights, >= 1 (1 for an ordinary dense layer)
     */
    public Dense(int positions, int in, int out, float[] weight, float[] bias) {
        if (positions <= 0) {
            throw new ShapeMismatchException("dense layer positions", "positions > 0", "positions=" + positions);
        }
        this.positions = positions;
        if (in <= 0 || out <= 0) {
            throw new ShapeMismatchException("dense layer size", "in > 0 and out > 0", "in=" + in + ", out=" + out);
        }
        if (weight == null || weight.length != (long) in * out) {
            throw new ShapeMismatchException("dense weight [out, in]", out + " x " + in + " = " + ((long) in * out)
                    + " values", weight == null ? "null" : weight.length + " values");
        }
        if (bias != null && bias.length != out) {
            throw new ShapeMismatchException("dense bias", out + " values", bias.length + " values");
        }
        this.in = in;
        this.out = out;
        this.weight = weight.clone();
        this.bias = bias == null ? new float[out] : bias.clone();
        checkFinite(this.weight, "weight");
        checkFinite(this.bias, "bias");
    }

    /** From a PyTorch-style {@code [out][in]} array. */
    public static Dense of(float[][] weight, float[] bias) {
        int out = weight.length;
        int in = out == 0 ? 0 : weight[0].length;
        float[] w = new float[out * in];
        for (int j = 0; j < out; j++) {
            if (weight[j].length != in) {
                throw new ShapeMismatchException("dense weight row " + j, in + " values", weight[j].length + " values");
            }
            System.arraycopy(weight[j], 0, w, j * in, in);
        }
        return new Dense(in, out, w, bias);
    }

    private static void checkFinite(float[] a, String what) {
        for (int k = 0; k < a.length; k++) {
            if (!Float.isFinite(a[k])) {
                throw new InvalidInputException("dense " + what + " holds " + a[k] + " at index " + k, -1, k);
            }
        }
    }

    /** Positions per sample that share the weights (1 for an ordinary dense layer). */
    public int positions() {
        return positions;
    }

    public int in() {
        return in;
    }

    public int out() {
        return out;
    }

    /** A copy of the weight, {@code [out, in]} row-major. */
    public float[] weight() {
        return weight.clone();
    }

    /** A copy of the bias. */
    public float[] bias() {
        return bias.clone();
    }

    @Override
    public LayerKind kind() {
        return LayerKind.DENSE;
    }

    @Override
    public int outputSize(int inputSize) {
        if (inputSize != (long) positions * in) {
            throw new ShapeMismatchException("dense layer input", positions == 1 ? in + " features"
                    : positions + " x " + in + " features", inputSize + " features");
        }
        return positions * out;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Dense d && d.positions == positions && d.in == in && d.out == out && Arrays.equals(d.weight, weight)
                && Arrays.equals(d.bias, bias);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(weight) + Arrays.hashCode(bias);
    }

    @Override
    public String toString() {
        return positions == 1 ? "Dense(" + in + " -> " + out + ")"
                : "Dense(" + positions + " x " + in + " -> " + out + ")";
    }
}
