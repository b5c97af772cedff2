package org.gpulrp.rules;

import org.gpulrp.InvalidArgumentException;

/**
 * LRP-alpha-beta (Bach et al. 2015), with {@code alpha - beta = 1}, both {@code >= 0}.
 * {@code P = sum x+ w+ + sum x- w- + b+}, {@code N = sum x+ w- + sum x- w+ + b-};
 * {@code R_i = alpha (x+ W+ gP + x- W- gP) - beta (x+ W- gN + x- W+ gN)} with {@code gP = R/stab(P)},
 * {@code gN = R/stab(N)}.
 */
public record AlphaBeta(float alpha, float beta, float epsilon) implements Rule {
    public AlphaBeta {
        InvalidArgumentException.check(Float.isFinite(alpha) && alpha >= 0, "alpha", "must be >= 0, got " + alpha);
        InvalidArgumentException.check(Float.isFinite(beta) && beta >= 0, "beta", "must be >= 0, got " + beta);
        InvalidArgumentException.check(alpha - beta == 1f, "alpha, beta",
                "alpha - beta must equal 1 (conservation), got alpha=" + alpha + ", beta=" + beta);
        Rule.checkEpsilon(epsilon);
    }

    public AlphaBeta(float alpha, float beta) {
        this(alpha, beta, DEFAULT_EPSILON);
    }

    @Override
    public String describe() {
        return "alpha-beta(" + alpha + "," + beta + ")";
    }
}
