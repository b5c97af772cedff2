package org.gpulrp.rules;

/**
 * LRP-epsilon: {@code D_j = z_j = sum_i x_i w_ij + b_j}, {@code R_i = x_i * sum_j w_ij g_j}. With epsilon 0 it is
 * LRP-0 (Bach et al. 2015).
 */
public record Epsilon(float epsilon) implements Rule {
    public Epsilon {
        Rule.checkEpsilon(epsilon);
    }

    public Epsilon() {
        this(DEFAULT_EPSILON);
    }

    @Override
    public String describe() {
        return epsilon == 0 ? "lrp-0" : "epsilon(" + epsilon + ")";
    }
}
