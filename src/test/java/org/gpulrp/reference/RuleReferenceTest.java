package org.gpulrp.reference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.gpulrp.Explainer;
import org.gpulrp.Explanation;
import org.gpulrp.GpuLrp;
import org.gpulrp.InitialRelevance;
import org.gpulrp.Target;
import org.gpulrp.composite.Composite;
import org.gpulrp.composite.Composites;
import org.gpulrp.model.Network;
import org.gpulrp.model.Node;
import org.gpulrp.rules.Epsilon;
import org.gpulrp.rules.Flat;
import org.gpulrp.rules.Gamma;
import org.gpulrp.rules.Pass;
import org.gpulrp.rules.Rule;
import org.gpulrp.rules.ZBox;
import org.gpulrp.testing.RandomNets;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Layer 1 of the tests: every rule and preset, on seeded random networks, against the float64 reference
 * ({@link Float64Lrp}), on the CPU path and on OpenCL: input relevance and the relevance at every layer within
 * {@code 1e-5 * max|R|} of each sample (the max over all of that sample's layers, see {@link Compare#explanation}),
 * outputs within {@code 1e-5} relative to the sample's largest output. Networks, rules and presets: {@link Cases}.
 */
class RuleReferenceTest {
    private static final Devices.Shared SHARED = new Devices.Shared();

    @AfterAll
    static void closeBackends() {
        SHARED.close();
    }

    static Stream<Arguments> cases() {
        List<Arguments> l = new ArrayList<>();
        for (Devices d : new Devices[] {Devices.CPU, Devices.OPENCL}) {
            for (Cases.Net n : Cases.nets()) {
                for (Cases.Rules r : Cases.all()) {
                    for (InitialRelevance init : InitialRelevance.values()) {
                        l.add(Arguments.of(d, n, r, init));
                    }
                }
            }
        }
        return l.stream();
    }

    @ParameterizedTest(name = "{0} {2} on {1}, {3}")
    @MethodSource("cases")
    void matchesFloat64Reference(Devices device, Cases.Net net, Cases.Rules rules, InitialRelevance init) {
        Network n = net.network();
        Composite c = rules.on(n);
        float[][] x = RandomNets.inputs(100 + n.inputSize(), Cases.BATCH, n.inputSize());
        Float64Lrp.Result ref = Float64Lrp.explain(n, c, init, net.target(), x);
        Explanation got;
        try (Explainer e = device.apply(GpuLrp.explainer(n).composite(c).initialRelevance(init)
                .keepLayerRelevances(true), SHARED).build()) {
            assertEquals(ref.rules(), e.rules(), "rules per node");
            got = e.explain(x, net.target());
        }
        Compare.explanation(device + " " + rules + " on " + net + ", " + init, ref, got, true);
    }

    /** The reference itself: a hand-computed one-layer case, so that the oracle is checked too. */
    @Test
    void referenceMatchesHandComputedEpsilonAndZPlus() {
        // z = 1*2 + (-1)*3 + 0.5 = -0.5 ; x = (2, 3).
        Network n = Network.builder(2).dense("fc", 1, new float[] {1f, -1f}, new float[] {0.5f}).build();
        float[][] x = {{2f, 3f}};
        Float64Lrp.Result eps = Float64Lrp.explain(n, Composite.uniform(new Epsilon(0f)), InitialRelevance.OUTPUT,
                Target.classIndex(0), x);
        // R = z = -0.5; g = R / z = 1; R_i = x_i w_i g = (2, -3).
        assertEquals(-0.5, eps.scores()[0], 0);
        assertEquals(2.0, eps.relevance()[0][0], 1e-15);
        assertEquals(-3.0, eps.relevance()[0][1], 1e-15);
        Float64Lrp.Result zp = Float64Lrp.explain(n, Composite.uniform(new org.gpulrp.rules.ZPlus(0f)),
                InitialRelevance.ONEHOT, Target.classIndex(0), x);
        // D = x+ w+ + b+ = 2 + 0.5; R_0 = 2 * 1 / 2.5, R_1 = 0.
        assertEquals(0.8, zp.relevance()[0][0], 1e-15);
        assertEquals(0.0, zp.relevance()[0][1], 0);
        Float64Lrp.Result box = Float64Lrp.explain(n, Composite.uniform(new ZBox(-1f, 4f)),
                InitialRelevance.ONEHOT, Target.classIndex(0), x);
        // D = (x0 - l) w0 + (x1 - h) w1 = 3*1 + (-1)(-1) = 4; R = (3*1/4, (3-4)(-1)/4) = (0.75, 0.25).
        assertEquals(0.75, box.relevance()[0][0], 1e-6);
        assertEquals(0.25, box.relevance()[0][1], 1e-6);
    }

    static Stream<Arguments> presetNets() {
        return Stream.of(2, 3, 4, 6, 7).map(Arguments::of);
    }

    /**
     * The presets resolve on dense-only networks as documented: convolution entries match nothing; Flat/ZBox on the
     * first linear layer; Montavon 2019 by relative depth index/count: first ZBox, [0,1/3) Gamma, [1/3,2/3)
     * Epsilon(eps), rest LRP-0; activations Pass. Checked independently of the reference, which reuses
     * {@link Composite#ruleFor}.
     */
    @ParameterizedTest(name = "{0} linear layers")
    @MethodSource("presetNets")
    void presetsResolveOnDenseNetworks(int linear) {
        int[] widths = new int[linear + 1];
        java.util.Arrays.fill(widths, 3);
        Network n = RandomNets.mlp(21, widths);
        Map<String, Composite> presets = new LinkedHashMap<>();
        presets.put("epsilonPlus", Composites.epsilonPlus());
        presets.put("epsilonAlpha2Beta1", Composites.epsilonAlpha2Beta1());
        presets.put("epsilonPlusFlat", Composites.epsilonPlusFlat());
        presets.put("epsilonAlpha2Beta1Flat", Composites.epsilonAlpha2Beta1Flat());
        presets.put("epsilonGammaBox", Composites.epsilonGammaBox(-1f, 1f, 0.5f));
        presets.put("montavon2019", Composites.montavon2019(-1f, 1f, 0.5f, 0.125f));
        for (Map.Entry<String, Composite> p : presets.entrySet()) {
            Map<String, Rule> got;
            try (Explainer e = GpuLrp.explainer(n).composite(p.getValue()).backend(
                    org.gpulrp.BackendChoice.CPU).build()) {
                got = e.rules();
            }
            int li = 0;
            for (Node node : n.nodes()) {
                Rule r = got.get(node.name());
                String at = p.getKey() + " on " + linear + " linear layers, node " + node.name();
                if (!node.kind().isLinear()) {
                    assertTrue(r instanceof Pass, at + ": activations get Pass, got " + r);
                    continue;
                }
                Rule want;
                switch (p.getKey()) {
                    case "epsilonPlusFlat", "epsilonAlpha2Beta1Flat" -> want = li == 0 ? new Flat() : new Epsilon();
                    // Zennit: ZBox goes to the first convolution only; a dense-only network gets Epsilon everywhere.
                    case "epsilonGammaBox" -> want = new Epsilon();
                    case "montavon2019" -> {
                        // Exact thirds: index/count < 1/3 <=> 3 * index < count.
                        if (li == 0) {
                            want = new ZBox(-1f, 1f);
                        } else if (3 * li < linear) {
                            want = new Gamma(0.5f);
                        } else if (3 * li < 2 * linear) {
                            want = new Epsilon(0.125f);
                        } else {
                            want = new Epsilon(0f);
                        }
                    }
                    default -> want = new Epsilon();
                }
                assertEquals(want, r, at);
                li++;
            }
        }
    }

    /** The check can fail: a backend whose stabilizer ignores the sign of the denominator is caught. */
    @Test
    void stabilizerSignBugIsCaught() {
        Cases.Net net = Cases.nets().get(0);
        Network n = net.network();
        Composite c = Composite.uniform(new Epsilon(0.25f));
        float[][] x = RandomNets.inputs(100 + n.inputSize(), Cases.BATCH, n.inputSize());
        Float64Lrp.Result ref = Float64Lrp.explain(n, c, InitialRelevance.OUTPUT, net.target(), x);
        Explanation got;
        try (PerturbedBackend be = new PerturbedBackend(new org.gpulrp.backend.cpu.CpuBackend(),
                PerturbedBackend.Fault.STAB_IGNORES_SIGN);
             Explainer e = GpuLrp.explainer(n).composite(c).backend(be).keepLayerRelevances(true).build()) {
            got = e.explain(x, net.target());
        }
        org.opentest4j.AssertionFailedError err = org.junit.jupiter.api.Assertions.assertThrows(
                org.opentest4j.AssertionFailedError.class, () -> Compare.explanation("stab bug", ref, got, true));
        assertTrue(err.getMessage().contains("relevance"), err.getMessage());
    }
}
