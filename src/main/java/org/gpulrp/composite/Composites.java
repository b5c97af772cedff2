package org.gpulrp.composite;

import org.gpulrp.model.LayerKind;
import org.gpulrp.rules.AlphaBeta;
import org.gpulrp.rules.Epsilon;
import org.gpulrp.rules.Flat;
import org.gpulrp.rules.Gamma;
import org.gpulrp.rules.ZBox;
import org.gpulrp.rules.ZPlus;

/**
 * The standard presets (Kohlbrenner et al. 2020; Montavon et al. 2019), named as Zennit names them and assigning
 * exactly Zennit's rules (its {@code composites.py}): convolutions get the preset's rule, dense layers Epsilon; the
 * {@code -flat} presets put Flat on the first linear layer (dense or convolution, as Zennit's {@code Linear} type
 * matches both); {@code epsilon-gamma-box} puts ZBox on the first <em>convolution</em> only, so on a dense-only
 * network every layer gets Epsilon. Pooling, additions and BatchNorm get no rule here (docs/DESIGN.md section 2.5).
 */
public final class Composites {
    private Composites() {
    }

    /**
     * A preset by name, as the command line spells it ({@code epsilon-plus}, {@code epsilon-gamma-box:-3,3}, ...):
     * {@link Presets#composite(String)}.
     */
    public static Composite byName(String spec) {
        return Presets.composite(spec);
    }

    /** Every linear layer LRP-epsilon. */
    public static Composite epsilon() {
        return Composite.of("epsilon", new Epsilon());
    }

    /** Convolutions ZPlus, dense layers Epsilon. */
    public static Composite epsilonPlus() {
        return convolutions("epsilon-plus", new ZPlus());
    }

    /** Convolutions AlphaBeta(2,1), dense layers Epsilon. */
    public static Composite epsilonAlpha2Beta1() {
        return convolutions("epsilon-alpha2-beta1", new AlphaBeta(2, 1));
    }

    /** As {@link #epsilonPlus()}, the first linear layer Flat. */
    public static Composite epsilonPlusFlat() {
        return epsilonPlus().withFirst(new Flat()).named("epsilon-plus-flat");
    }

    /** As {@link #epsilonAlpha2Beta1()}, the first linear layer Flat. */
    public static Composite epsilonAlpha2Beta1Flat() {
        return epsilonAlpha2Beta1().withFirst(new Flat()).named("epsilon-alpha2-beta1-flat");
    }

    /**
     * The first convolution ZBox(low, high), other convolutions Gamma(gamma), dense layers Epsilon. A dense-only
     * network gets Epsilon everywhere, as in Zennit; ZBox on a first dense layer is an explicit choice:
     * {@code composite.withFirst(new ZBox(low, high))} ({@code --first-rule zbox:LOW,HIGH}).
     */
    public static Composite epsilonGammaBox(float low, float high, float gamma) {
        return epsilonGammaBox(new ZBox(low, high), gamma);
    }

    /** As {@link #epsilonGammaBox(float, float, float)} with the given (e.g. per-channel) ZBox. */
    public static Composite epsilonGammaBox(ZBox box, float gamma) {
        return convolutions("epsilon-gamma-box", new Gamma(gamma)).with(LayerMatcher.firstOf(LayerKind.CONV), box);
    }

    /** As {@link #epsilonGammaBox(ZBox, float)} with the default gamma. */
    public static Composite epsilonGammaBox(ZBox box) {
        return epsilonGammaBox(box, Gamma.DEFAULT_GAMMA);
    }

    public static Composite epsilonGammaBox(float low, float high) {
        return epsilonGammaBox(low, high, Gamma.DEFAULT_GAMMA);
    }

    /**
     * The recipe of Montavon et al. 2019 ("Layer-wise relevance propagation: an overview"), by depth over the linear
     * layers: the input layer ZBox(low, high), the lower third Gamma(gamma), the middle third Epsilon(epsilon), the
     * upper third LRP-0.
     */
    public static Composite montavon2019(float low, float high, float gamma, float epsilon) {
        return Composite.of("montavon-2019", new Epsilon(0f))
                .thenWith(LayerMatcher.first(), new ZBox(low, high))
                .thenWith(LayerMatcher.depth(0, 1.0 / 3), new Gamma(gamma))
                .thenWith(LayerMatcher.depth(1.0 / 3, 2.0 / 3), new Epsilon(epsilon));
    }

    /** Montavon et al. 2019 with gamma 0.25 and epsilon 0.25. */
    public static Composite montavon2019(float low, float high) {
        return montavon2019(low, high, Gamma.DEFAULT_GAMMA, 0.25f);
    }

    /**
     * AttnLRP (Achtibat et al. 2024) for transformers: Epsilon on every linear layer, {@link Products#UNIFORM} on
     * elementwise products, {@link Attention#ATTNLRP} through softmax and matrix products; layer norms treat their
     * normalizer as a constant in every composite (docs/DESIGN.md section 2.9).
     */
    public static Composite attnLrp() {
        return Composite.of("attnlrp", new Epsilon()).withProducts(Products.UNIFORM)
                .withAttention(Attention.ATTNLRP);
    }

    /**
     * CP-LRP (Ali et al. 2022): Epsilon on every linear layer, the attention weights and the gates of elementwise
     * products are constants ({@link Attention#CP_LRP}, {@link Products#CONSTANT_GATE}).
     */
    public static Composite cpLrp() {
        return Composite.of("cp-lrp", new Epsilon()).withProducts(Products.CONSTANT_GATE)
                .withAttention(Attention.CP_LRP);
    }

    /**
     * AttnLRP's recipe for vision transformers: Gamma(gamma) on every linear layer (the patch embedding's
     * convolution included), the attention weights constants inside attention ({@link Attention#CP_LRP}),
     * {@link Products#UNIFORM} on elementwise products.
     */
    public static Composite attnLrpVit(float gamma) {
        return Composite.of("attnlrp-vit", new Gamma(gamma)).withProducts(Products.UNIFORM)
                .withAttention(Attention.CP_LRP);
    }

    /** {@link #attnLrpVit(float)} with gamma 0.25. */
    public static Composite attnLrpVit() {
        return attnLrpVit(Gamma.DEFAULT_GAMMA);
    }

    private static Composite convolutions(String name, org.gpulrp.rules.Rule convRule) {
        return Composite.of(name, new Epsilon()).thenWith(LayerMatcher.kind(LayerKind.CONV), convRule);
    }
}
