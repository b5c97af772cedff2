package org.gpulrp.model;

import java.util.Arrays;
import org.gpulrp.InvalidArgumentException;

/**
 * Addition of constants to each sample, {@code z[i] = x[i] + c[i]} ({@code c} one value per feature, or one for
 * all): ONNX {@code Add} or {@code Sub} of a constant, a learned position embedding, a class token placed by an
 * {@link Index}, the {@code 1 - mask} of an attention mask. Explained by the epsilon rule on the identity map with
 * the constant as its bias, which absorbs its share (docs/DESIGN.md section 2.9).
 */
public final class Offset implements Layer {
    private final float[] values;

    /** @param values one finite constant per feature, or a single one for every feature; copied */
    public Offset(float[] values) {
        InvalidArgumentException.check(values != null && values.length > 0, "values", "must not be empty");
        for (int i = 0; i < values.length; i++) {
            if (!Float.isFinite(values[i])) {   // the message only on failure: a mask can be large
                throw new InvalidArgumentException("values", "entry " + i + " is " + values[i]
                        + "; an offset needs finite constants");
            }
        }
        this.values = values.clone();
    }

    /** The constants (a copy): one per feature, or a single one. */
    public float[] values() {
        return values.clone();
    }

    /** The constants expanded to {@code features} values. */
    public float[] perFeature(int features) {
        if (values.length == features) {
            return values.clone();
        }
        float[] out = new float[features];
        Arrays.fill(out, values[0]);
        return out;
    }

    @Override
    public LayerKind kind() {
        return LayerKind.POOL;
    }

    @Override
    public int outputSize(int inputSize) {
        InvalidArgumentException.check(values.length == 1 || values.length == inputSize, "offset", "has "
                + values.length + " constants for an input of " + inputSize + " features (need 1 or " + inputSize
                + ")");
        return inputSize;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Offset s && Arrays.equals(values, s.values);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(values);
    }

    @Override
    public String toString() {
        return values.length == 1 ? "Offset[" + values[0] + "]" : "Offset[" + values.length + " constants]";
    }
}
