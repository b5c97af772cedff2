package org.gpulrp.composite;

import java.util.Locale;

/**
 * How the rules treat the bias of a convolution. The rules' formulas (docs/DESIGN.md section 2.2) modify a bias as
 * they modify the weights: ZPlus keeps {@code b+} in its denominator, AlphaBeta splits {@code b+}/{@code b-}, Gamma
 * adds {@code gamma b+}, ZBox cancels it, WSquare squares it, Flat drops it. That is {@link #RULE}, the default, and
 * what Zennit computes for every layer whose bias is a registered parameter.
 *
 * <p>{@link #ZENNIT} reproduces what Zennit (0.5, up to at least commit 6b0bbdf) computes for convolutions that were
 * built with {@code bias=False} and whose BatchNorm its canonizer merged, as in every torchvision ResNet: the merged
 * bias is set as a plain attribute, Zennit's parameter modifiers only see registered parameters, so the bias enters
 * each modified forward pass unchanged. ZPlus, AlphaBeta and Gamma then add {@code 2b} to each denominator (one
 * {@code b} from the positive-input pass, one from the negative-input pass), ZBox subtracts {@code b}, WSquare adds
 * {@code b} (not {@code b^2}), Flat adds {@code b}. Epsilon is the same under both. This is Zennit's open issue 193
 * ("BatchNorm loses bias relevance"); use it to get Zennit's numbers on such models, not as the better rule.
 */
public enum ConvBias {
    /** Biases modified by the rule like the weights (the formulas; the default). */
    RULE,
    /** Zennit's merged-BatchNorm bias: unmodified in every modified forward pass. */
    ZENNIT;

    /** The command-line spelling: {@code rule} or {@code zennit}. */
    public String spelling() {
        return name().toLowerCase(Locale.ROOT);
    }
}
