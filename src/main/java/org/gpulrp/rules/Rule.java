package org.gpulrp.rules;

/**
 * How relevance crosses one layer. Rules are small immutable values with checked parameters; the formulas (see
 * each type) follow Bach et al. 2015, Montavon et al. 2019 and Zennit's definitions. Notation: {@code a+ = max(a,0)},
 * {@code a- = min(a,0)}; {@code stab(d) = d + eps * (d >= 0 ? 1 : -1)}; {@code g = R / stab(D)}, and {@code g = 0}
 * where {@code stab(D) == 0} (only possible for LRP-0 on a unit whose input sum is exactly zero).
 */
public sealed interface Rule permits Epsilon, ZPlus, AlphaBeta, Gamma, ZBox, WSquare, Flat, Pass {

    /** Default stabilizer for every rule. */
    float DEFAULT_EPSILON = 1e-6f;

    /** Short name with parameters, e.g. {@code epsilon(1.0E-6)}. */
    String describe();

    static void checkEpsilon(float epsilon) {
        org.gpulrp.InvalidArgumentException.check(Float.isFinite(epsilon) && epsilon >= 0, "epsilon",
                "must be finite and >= 0, got " + epsilon);
    }
}
