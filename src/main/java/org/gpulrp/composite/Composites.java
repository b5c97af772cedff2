package org.gpulrp.composite;

import org.gpulrp.model.LayerKind;
import org.gpulrp.rules.AlphaBeta;
import org.gpulrp.rules.Epsilon;
import org.gpulrp.rules.Flat;
import org.gpulrp.rules.Gamma;
import org.gpulrp.rules.ZBox;
import org.gpulrp.rules.ZPlus;

/**
 * The standard presets (Kohlbrenner et al. 2020; Montavon et al. 2019), named as Zennit names them. Convolutions
 * join with the convolution layers; on a dense-only network the convolution entries match nothing and dense layers
 * get Epsilon.
 */
public final class Composites {
    private Composites() {
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
     * The first linear layer ZBox(low, high), other convolutions Gamma(gamma), dense layers Epsilon. For a dense-only
     * network the first layer gets ZBox and the others Epsilon.
     */
    public static Composite epsilonGammaBox(float low, float high, float gamma) {
        return convolutions("epsilon-gamma-box", new Gamma(gamma)).withFirst(new ZBox(low, high));
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

    private static Composite convolutions(String name, org.gpulrp.rules.Rule convRule) {
        // No convolution kind exists yet; the entry is written against dense-vs-other so that adding LayerKind.CONV
        // only changes this one line.
        return Composite.of(name, new Epsilon()).thenWith(l -> l.kind() != LayerKind.DENSE, convRule);
    }
}
