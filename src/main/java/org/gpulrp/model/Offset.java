package org.gpulrp.model;

/**
 * Addition of constants to each sample, {@code z[i] = x[i] + c[i]} ({@code c} one value per feature, or one for
 * all): ONNX {@code Add} or {@code Sub} of a constant, a learned position embedding, a class token placed by an
 * {@link Index}, the {@code 1 - mask} of an attention mask. Explained by the epsilon rule on the identity map with
 * the constant as its bias, which absorbs its share (docs/DESIGN.md section 2.9).
 */
public final class Offset implements Layer {
    private final FeatureConstants values;

    /** @param values one finite constant per feature, or a single one for every feature; copied */
    public Offset(float[] values) {
        this.values = new FeatureConstants(values, "values", "offset", "constants");
    }

    /** The constants (a copy): one per feature, or a single one. */
    public float[] values() {
        return values.copy();
    }

    /** The constants expanded to {@code features} values. */
    public float[] perFeature(int features) {
        return values.perFeature(features);
    }

    @Override
    public LayerKind kind() {
        return LayerKind.POOL;
    }

    @Override
    public int outputSize(int inputSize) {
        return values.outputSize(inputSize);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Offset other && values.sameAs(other.values);
    }

    @Override
    public int hashCode() {
        return values.hash();
    }

    @Override
    public String toString() {
        return values.describe("Offset");
    }
}
