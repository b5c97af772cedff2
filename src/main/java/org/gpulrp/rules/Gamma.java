package org.gpulrp.rules;

import org.gpulrp.InvalidArgumentException;

/**
 * LRP-gamma (Montavon et al. 2019), as Zennit defines it: {@code Wp = W + gamma W+}, {@code Wn = W + gamma W-}
 * (same on b); {@code P = Wp x+ + Wn x- + bp}, {@code N = Wn x+ + Wp x- + bn};
 * {@code gP = [z>0] R/stab(P)}, {@code gN = [z<0] R/stab(N)} with z the unmodified forward output;
 * {@code R_i = x+ Wp gP + x- Wn gP + x+ Wn gN + x- Wp gN}. Gamma 0 is LRP-epsilon.
 */
public record Gamma(float gamma, float epsilon) implements Rule {
    public static final float DEFAULT_GAMMA = 0.25f;

    public Gamma {
        InvalidArgumentException.check(Float.isFinite(gamma) && gamma >= 0, "gamma", "must be finite and >= 0, got "
                + gamma);
        Rule.checkEpsilon(epsilon);
    }

    public Gamma(float gamma) {
        this(gamma, DEFAULT_EPSILON);
    }

    public Gamma() {
        this(DEFAULT_GAMMA, DEFAULT_EPSILON);
    }

    @Override
    public String describe() {
        return "gamma(" + gamma + ")";
    }
}
