package org.gpulrp.model;

/**
 * Multiplication of each sample by constants, {@code z[i] = x[i] * s[i]} ({@code s} one value per feature, or one
 * value for all): ONNX {@code Mul} or {@code Div} by a constant, and the divisor correction of an average pooling
 * that does not count its padding. A linear map without a bias, explained by the epsilon formula on it (which passes
 * relevance through up to the stabilizer's share), whatever rule the composite names.
 */
public final class Scale implements Layer {
    private final FeatureConstants factors;

    /** @param factors one finite factor per feature, or a single one for every feature; copied */
    public Scale(float[] factors) {
        this.factors = new FeatureConstants(factors, "factors", "scale", "factors");
    }

    /** The factors (a copy): one per feature, or a single one. */
    public float[] factors() {
        return factors.copy();
    }

    /** The factors expanded to {@code features} values. */
    public float[] perFeature(int features) {
        return factors.perFeature(features);
    }

    @Override
    public LayerKind kind() {
        return LayerKind.POOL;
    }

    @Override
    public int outputSize(int inputSize) {
        return factors.outputSize(inputSize);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Scale other && factors.sameAs(other.factors);
    }

    @Override
    public int hashCode() {
        return factors.hash();
    }

    @Override
    public String toString() {
        return factors.describe("Scale");
    }
}
