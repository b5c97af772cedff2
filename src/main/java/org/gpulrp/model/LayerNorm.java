package org.gpulrp.model;

import java.util.Arrays;
import org.gpulrp.InvalidArgumentException;
import org.gpulrp.ShapeMismatchException;

/**
 * Layer normalization over the last axis of a {@code [positions, hidden]} sample (PyTorch {@code nn.LayerNorm},
 * ONNX {@code LayerNormalization} or its decomposed chain):
 * {@code y = (x - mean(x)) / sqrt(var(x) + eps) * gamma + beta}; with {@code rms}, RMSNorm (Llama):
 * {@code y = x / sqrt(mean(x^2) + eps) * gamma} and no shift. LRP (AttnLRP, docs/DESIGN.md section 2.9): the
 * normalizer is a constant, the centering is explained by the epsilon rule, {@code gamma} passes relevance unchanged
 * and {@code beta} absorbs its share.
 */
public final class LayerNorm implements Layer {
    private final int positions;
    private final int hidden;
    private final float[] gamma;
    private final float[] beta;
    private final float epsilon;
    private final boolean rms;

    /**
     * @param positions positions per sample, >= 1
     * @param hidden    features normalized together, >= 1
     * @param gamma     scale, {@code hidden} values (null for ones)
     * @param beta      shift, {@code hidden} values (null for zeros; must be null or zeros with {@code rms})
     * @param epsilon   added to the variance, finite and >= 0
     * @param rms       RMSNorm (no centering, no shift) instead of LayerNorm
     */
    public LayerNorm(int positions, int hidden, float[] gamma, float[] beta, float epsilon, boolean rms) {
        InvalidArgumentException.check(positions >= 1 && hidden >= 1, "layer norm", "needs positions >= 1 and "
                + "hidden >= 1, got " + positions + " x " + hidden);
        InvalidArgumentException.check(Float.isFinite(epsilon) && epsilon >= 0, "epsilon", "must be finite and >= 0, "
                + "got " + epsilon);
        this.positions = positions;
        this.hidden = hidden;
        this.gamma = vector(gamma, hidden, 1f, "gamma");
        this.beta = vector(beta, hidden, 0f, "beta");
        this.epsilon = epsilon;
        this.rms = rms;
        if (rms) {
            for (float b : this.beta) {
                InvalidArgumentException.check(b == 0f, "beta", "an RMSNorm has no shift");
            }
        }
    }

    private static float[] vector(float[] v, int n, float fill, String what) {
        if (v == null) {
            float[] out = new float[n];
            Arrays.fill(out, fill);
            return out;
        }
        if (v.length != n) {
            throw new ShapeMismatchException("layer norm " + what, n + " values", v.length + " values");
        }
        for (int i = 0; i < n; i++) {
            InvalidArgumentException.check(Float.isFinite(v[i]), what, "entry " + i + " is " + v[i]);
        }
        return v.clone();
    }

    public int positions() {
        return positions;
    }

    public int hidden() {
        return hidden;
    }

    /** A copy of the scale. */
    public float[] gamma() {
        return gamma.clone();
    }

    /** A copy of the shift (zeros for RMSNorm). */
    public float[] beta() {
        return beta.clone();
    }

    public float epsilon() {
        return epsilon;
    }

    /** Whether this is an RMSNorm. */
    public boolean rms() {
        return rms;
    }

    @Override
    public LayerKind kind() {
        return LayerKind.NORM;
    }

    @Override
    public int outputSize(int inputSize) {
        if (inputSize != (long) positions * hidden) {
            throw new ShapeMismatchException("layer norm input", positions + " x " + hidden + " values",
                    inputSize + " values");
        }
        return inputSize;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof LayerNorm n && n.positions == positions && n.hidden == hidden && n.rms == rms
                && Float.compare(n.epsilon, epsilon) == 0 && Arrays.equals(n.gamma, gamma)
                && Arrays.equals(n.beta, beta);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(gamma) + Arrays.hashCode(beta);
    }

    @Override
    public String toString() {
        return (rms ? "RMSNorm(" : "LayerNorm(") + positions + " x " + hidden + ", eps " + epsilon + ")";
    }
}
