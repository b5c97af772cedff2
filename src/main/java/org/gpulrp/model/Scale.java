package org.gpulrp.model;

import java.util.Arrays;
import org.gpulrp.InvalidArgumentException;

/**
 * Multiplication of each sample by constants, {@code z[i] = x[i] * s[i]} ({@code s} one value per feature, or one
 * value for all): ONNX {@code Mul} or {@code Div} by a constant, and the divisor correction of an average pooling
 * that does not count its padding. A linear map without a bias, explained by the epsilon formula on it (which passes
 * relevance through up to the stabilizer's share), whatever rule the composite names.
 */
public final class Scale implements Layer {
    private final float[] factors;

    /** @param factors one finite factor per feature, or a single one for every feature; copied */
    public Scale(float[] factors) {
        InvalidArgumentException.check(factors != null && factors.length > 0, "factors", "must not be empty");
        for (int i = 0; i < factors.length; i++) {
            InvalidArgumentException.check(Float.isFinite(factors[i]), "factors", "entry " + i + " is "
                    + factors[i] + "; a scale needs finite factors");
        }
        this.factors = factors.clone();
    }

    /** The factors (a copy): one per feature, or a single one. */
    public float[] factors() {
        return factors.clone();
    }

    /** The factors expanded to {@code features} values. */
    public float[] perFeature(int features) {
        if (factors.length == features) {
            return factors.clone();
        }
        float[] out = new float[features];
        Arrays.fill(out, factors[0]);
        return out;
    }

    @Override
    public LayerKind kind() {
        return LayerKind.POOL;
    }

    @Override
    public int outputSize(int inputSize) {
        InvalidArgumentException.check(factors.length == 1 || factors.length == inputSize, "scale", "has "
                + factors.length + " factors for an input of " + inputSize + " features (need 1 or " + inputSize
                + ")");
        return inputSize;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Scale s && Arrays.equals(factors, s.factors);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(factors);
    }

    @Override
    public String toString() {
        return factors.length == 1 ? "Scale[" + factors[0] + "]" : "Scale[" + factors.length + " factors]";
    }
}
