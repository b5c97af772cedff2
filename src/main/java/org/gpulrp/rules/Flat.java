package org.gpulrp.rules;

/**
 * Flat rule (Lapuschkin et al. 2019): relevance spread evenly over the connected inputs. {@code D_j} is the number
 * of inputs connected to j; {@code R_i = sum_{j connected to i} g_j}.
 */
public record Flat(float epsilon) implements Rule {
    public Flat {
        Rule.checkEpsilon(epsilon);
    }

    public Flat() {
        this(DEFAULT_EPSILON);
    }

    @Override
    public String describe() {
        return "flat";
    }
}
