package org.gpulrp;

/**
 * How much of a sample's initial relevance arrived at the input. For LRP-0 and epsilon-type rules with zero biases
 * the two agree up to the stabilizer; biases, the stabilizer and rules like Flat or WSquare make them differ.
 *
 * @param initial sum of the relevance put at the top (the explained score for {@link InitialRelevance#OUTPUT})
 * @param input   sum of the input relevance
 */
public record Conservation(double initial, double input) {
    /** {@code input / initial}; NaN where the initial relevance is 0. */
    public double ratio() {
        return initial == 0 ? Double.NaN : input / initial;
    }

    /** {@code |input - initial|}. */
    public double absoluteError() {
        return Math.abs(input - initial);
    }
}
