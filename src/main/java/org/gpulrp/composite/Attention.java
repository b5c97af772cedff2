package org.gpulrp.composite;

import java.util.Locale;

/**
 * How relevance crosses a transformer's attention: its softmax ({@link org.gpulrp.model.Softmax}) and the products
 * of two activations ({@link org.gpulrp.model.MatMul}, {@code Q K^T} and {@code A V}). docs/DESIGN.md section 2.9.
 *
 * <p>{@link #ATTNLRP} (Achtibat et al. 2024, "AttnLRP: attention-aware layer-wise relevance propagation for
 * transformers"), the default: the softmax by input times gradient, {@code R_x = x (R - s sum R)} per row; a matrix
 * product by the epsilon rule on its products, then half of each product's share to each operand (the uniform
 * rule).
 *
 * <p>{@link #CP_LRP} (Ali et al. 2022, "XAI for transformers: better explanations through conservative
 * propagation"): the attention weights are constants. The softmax sends no relevance to its input, and a matrix
 * product whose operand comes from a softmax sends all of its epsilon share to the other operand (relevance is
 * conserved through {@code A V}).
 */
public enum Attention {
    /** Softmax by input times gradient, matrix products by the epsilon and uniform rules. */
    ATTNLRP,
    /** The attention weights are constants. */
    CP_LRP;

    /** The command-line spelling: {@code attnlrp} or {@code cp-lrp}. */
    public String spelling() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }
}
