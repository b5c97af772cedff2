package org.gpulrp.composite;

import java.util.Locale;

/**
 * How relevance crosses a product of two activations, {@code z = a * g} (a squeeze-and-excitation gate, a gated
 * MLP's {@code up * silu(gate)}, or any elementwise product the importer did not fuse into an activation). A product
 * carries no LRP rule.
 *
 * <p>{@link #GRADIENT}, the default, is what Zennit computes for an operation no rule is attached to: the relevance
 * message is multiplied by the product's local gradient, {@code R_a = R_z * g} and {@code R_g = sum R_z * a} (summed
 * over the positions a gate value is broadcast to). The two parts need not add up to {@code R_z}.
 *
 * <p>{@link #CONSTANT_GATE} treats the second factor as a constant (the CP-LRP choice): {@code R_a = R_z},
 * {@code R_g = 0}. Relevance is conserved through the product; the gate's own branch gets none.
 *
 * <p>{@link #UNIFORM} is AttnLRP's rule for a product (the epsilon rule on its one term, then half to each factor):
 * {@code R_a = R_g = z R / (2 stab(z))}, a gate's share summed over the positions it is broadcast to. Relevance is
 * conserved up to the stabilizer's share. docs/DESIGN.md sections 2.5 and 2.9.
 */
public enum Products {
    /** The gradient applied to the relevance message (Zennit's answer; the default). */
    GRADIENT,
    /** The gate is a constant: all relevance goes to the gated activation. */
    CONSTANT_GATE,
    /** Half of the epsilon-stabilized relevance to each factor (AttnLRP). */
    UNIFORM;

    /** The command-line spelling: {@code gradient}, {@code constant-gate} or {@code uniform}. */
    public String spelling() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }
}
