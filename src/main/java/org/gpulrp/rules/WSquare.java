package org.gpulrp.rules;

/**
 * LRP-w^2 (Montavon et al. 2017): {@code D_j = sum_i w_ij^2 + b_j^2}, {@code R_i = sum_j w_ij^2 g_j}; the input
 * values are ignored.
 */
public record WSquare(float epsilon) implements Rule {
    public WSquare {
        Rule.checkEpsilon(epsilon);
    }

    public WSquare() {
        this(DEFAULT_EPSILON);
    }

    @Override
    public String describe() {
        return "wsquare";
    }
}
