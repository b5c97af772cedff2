package org.gpulrp.rules;

/**
 * LRP-z+ (equal to AlphaBeta(1,0)): {@code D_j = sum x+ w+ + sum x- w- + b+},
 * {@code R_i = x+_i * sum_j w+_ij g_j + x-_i * sum_j w-_ij g_j}.
 */
public record ZPlus(float epsilon) implements Rule {
    public ZPlus {
        Rule.checkEpsilon(epsilon);
    }

    public ZPlus() {
        this(DEFAULT_EPSILON);
    }

    @Override
    public String describe() {
        return "zplus";
    }
}
