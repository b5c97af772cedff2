package org.gpulrp.reference;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.gpulrp.Target;
import org.gpulrp.composite.Composite;
import org.gpulrp.composite.Composites;
import org.gpulrp.model.Network;
import org.gpulrp.rules.AlphaBeta;
import org.gpulrp.rules.Epsilon;
import org.gpulrp.rules.Flat;
import org.gpulrp.rules.Gamma;
import org.gpulrp.rules.WSquare;
import org.gpulrp.rules.ZBox;
import org.gpulrp.rules.ZPlus;
import org.gpulrp.testing.RandomNets;

/** The rules, presets and networks the reference tests sweep; names show up in test names and failure messages. */
final class Cases {
    private Cases() {
    }

    /** A composite with a readable name; built per network (per-feature ZBox bounds need the input width). */
    record Rules(String name, Function<Network, Composite> make) {
        Composite on(Network n) {
            return make.apply(n);
        }

        @Override
        public String toString() {
            return name;
        }
    }

    /** A seeded network with the target it is explained for. */
    record Net(String name, Network network, Target target) {
        @Override
        public String toString() {
            return name;
        }
    }

    private static Rules uniform(String name, org.gpulrp.rules.Rule r) {
        return new Rules(name, n -> Composite.uniform(r));
    }

    /** Every dense rule applied to every linear layer, plus per-feature ZBox on the input layer. */
    static List<Rules> rules() {
        List<Rules> l = new ArrayList<>();
        l.add(uniform("Epsilon()", new Epsilon()));
        l.add(uniform("Epsilon(0)", new Epsilon(0f)));
        l.add(uniform("Epsilon(0.25)", new Epsilon(0.25f)));
        l.add(uniform("ZPlus()", new ZPlus()));
        l.add(uniform("ZPlus(0)", new ZPlus(0f)));
        l.add(uniform("AlphaBeta(1,0)", new AlphaBeta(1, 0)));
        l.add(uniform("AlphaBeta(2,1)", new AlphaBeta(2, 1)));
        l.add(uniform("AlphaBeta(1.5,0.5,0.01)", new AlphaBeta(1.5f, 0.5f, 0.01f)));
        l.add(uniform("Gamma()", new Gamma()));
        l.add(uniform("Gamma(1)", new Gamma(1f)));
        l.add(uniform("Gamma(0)", new Gamma(0f)));
        l.add(uniform("ZBox(-10,10)", new ZBox(-10f, 10f)));
        l.add(new Rules("first ZBox(per-feature), rest Epsilon", n -> Composites.epsilon()
                .withFirst(perFeatureBox(n.inputSize()))));
        l.add(uniform("WSquare()", new WSquare()));
        l.add(uniform("WSquare(0)", new WSquare(0f)));
        l.add(uniform("Flat()", new Flat()));
        l.add(uniform("Flat(0.5)", new Flat(0.5f)));
        return l;
    }

    /** Per-feature bounds that hold the inputs of {@link RandomNets#inputs(long, int, int)} (in [-2, 2]). */
    static ZBox perFeatureBox(int in) {
        float[] lo = new float[in];
        float[] hi = new float[in];
        for (int i = 0; i < in; i++) {
            lo[i] = -2f - 0.25f * (i % 3);
            hi[i] = 2f + 0.5f * (i % 2);
        }
        return new ZBox(lo, hi, 1e-6f);
    }

    /** The presets of {@link Composites}, with default and explicit parameters, and one user override. */
    static List<Rules> presets() {
        List<Rules> l = new ArrayList<>();
        l.add(new Rules("preset epsilon", n -> Composites.epsilon()));
        l.add(new Rules("preset epsilonPlus", n -> Composites.epsilonPlus()));
        l.add(new Rules("preset epsilonAlpha2Beta1", n -> Composites.epsilonAlpha2Beta1()));
        l.add(new Rules("preset epsilonPlusFlat", n -> Composites.epsilonPlusFlat()));
        l.add(new Rules("preset epsilonAlpha2Beta1Flat", n -> Composites.epsilonAlpha2Beta1Flat()));
        l.add(new Rules("preset epsilonGammaBox(-2,2)", n -> Composites.epsilonGammaBox(-2f, 2f)));
        l.add(new Rules("preset epsilonGammaBox(-3,2.5,0.5)", n -> Composites.epsilonGammaBox(-3f, 2.5f, 0.5f)));
        l.add(new Rules("preset montavon2019(-2,2)", n -> Composites.montavon2019(-2f, 2f)));
        l.add(new Rules("preset montavon2019(-2,2,0.5,0.1)", n -> Composites.montavon2019(-2f, 2f, 0.5f, 0.1f)));
        l.add(new Rules("override fc2 Gamma, first ZPlus, last AlphaBeta(2,1)", n -> Composites.epsilon()
                .withRange(0, 1, new ZPlus()).withName("fc2", new Gamma())
                .with(org.gpulrp.composite.LayerMatcher.lastLayers(1), new AlphaBeta(2, 1))));
        return l;
    }

    static List<Rules> all() {
        List<Rules> l = rules();
        l.addAll(presets());
        return l;
    }

    /**
     * The networks: the sample model's shape (10-32-16-1, sigmoid), a softmax classifier, an identity/ReLU mix
     * ending in a ReLU, a deep narrow ReLU MLP (6 linear layers: every Montavon depth band is used), a single
     * dense layer, a network that starts with an activation, and one with no linear layer at all.
     */
    static List<Net> nets() {
        List<Net> l = new ArrayList<>();
        l.add(new Net("10-32-16-1 sigmoid", RandomNets.net(11, 10).dense(32).relu().dense(16).relu().dense(1)
                .sigmoid().build(), Target.classIndex(0)));
        l.add(new Net("7-13-5 softmax", RandomNets.net(12, 7).dense(13).relu().dense(5).softmax().build(),
                Target.argmax()));
        l.add(new Net("20-33-17-4 identity/relu mix", RandomNets.net(13, 20).dense(33).identity().dense(17).relu()
                .identity().dense(4).relu().build(), Target.perSample(perSample(Cases.BATCH, 4))));
        l.add(new Net("9-8-8-8-8-8-3 relu", RandomNets.mlp(14, 9, 8, 8, 8, 8, 8, 3), Target.argmax()));
        l.add(new Net("5-3 dense only", RandomNets.net(15, 5).dense(3).build(), Target.classIndex(2)));
        l.add(new Net("6 sigmoid first, 6-11-3", RandomNets.net(16, 6).sigmoid().dense(11).relu().dense(3).build(),
                Target.argmax()));
        l.add(new Net("4 relu only (no linear layer)", RandomNets.net(17, 4).relu().build(), Target.argmax()));
        return l;
    }

    /** Samples per reference batch. */
    static final int BATCH = 12;

    static int[] perSample(int rows, int classes) {
        int[] t = new int[rows];
        for (int b = 0; b < rows; b++) {
            t[b] = (b * 7 + 3) % classes;
        }
        return t;
    }
}
