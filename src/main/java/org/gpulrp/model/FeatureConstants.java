package org.gpulrp.model;

import java.util.Arrays;
import org.gpulrp.InvalidArgumentException;

/**
 * One finite constant per feature, or a single one for every feature: the values of an {@link Offset} (constants)
 * and a {@link Scale} (factors), validated and copied once, expanded on demand.
 */
final class FeatureConstants {
    private final float[] values;
    private final String layer;
    private final String noun;

    /**
     * @param values    the constants; copied
     * @param parameter the constructor parameter's name, for errors ({@code values}, {@code factors})
     * @param layer     the layer, for errors ({@code offset}, {@code scale})
     * @param noun      what the values are called, plural ({@code constants}, {@code factors})
     */
    FeatureConstants(float[] values, String parameter, String layer, String noun) {
        InvalidArgumentException.check(values != null && values.length > 0, parameter, "must not be empty");
        for (int i = 0; i < values.length; i++) {
            if (!Float.isFinite(values[i])) {   // the message only on failure: a mask can be large
                throw new InvalidArgumentException(parameter, "entry " + i + " is " + values[i] + "; the " + layer
                        + "'s " + noun + " must be finite");
            }
        }
        this.values = values.clone();
        this.layer = layer;
        this.noun = noun;
    }

    float[] copy() {
        return values.clone();
    }

    float[] perFeature(int features) {
        if (values.length == features) {
            return values.clone();
        }
        float[] out = new float[features];
        Arrays.fill(out, values[0]);
        return out;
    }

    int outputSize(int inputSize) {
        InvalidArgumentException.check(values.length == 1 || values.length == inputSize, layer, "has "
                + values.length + " " + noun + " for an input of " + inputSize + " features (need 1 or " + inputSize
                + ")");
        return inputSize;
    }

    boolean sameAs(FeatureConstants o) {
        return Arrays.equals(values, o.values);
    }

    int hash() {
        return Arrays.hashCode(values);
    }

    String describe(String name) {
        return values.length == 1 ? name + "[" + values[0] + "]" : name + "[" + values.length + " " + noun + "]";
    }
}
