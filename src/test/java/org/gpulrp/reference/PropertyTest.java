package org.gpulrp.reference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.gpulrp.Explainer;
import org.gpulrp.Explanation;
import org.gpulrp.GpuLrp;
import org.gpulrp.InitialRelevance;
import org.gpulrp.Target;
import org.gpulrp.Tensor;
import org.gpulrp.composite.Composite;
import org.gpulrp.composite.Composites;
import org.gpulrp.model.Network;
import org.gpulrp.rules.AlphaBeta;
import org.gpulrp.rules.Epsilon;
import org.gpulrp.rules.Flat;
import org.gpulrp.rules.Gamma;
import org.gpulrp.rules.WSquare;
import org.gpulrp.rules.ZPlus;
import org.gpulrp.testing.RandomNets;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Layer 4 of the tests: properties LRP must have whatever the numbers: conservation, AlphaBeta(1,0) = ZPlus,
 * Gamma(0) = Epsilon, linearity in the initial relevance, LOGIT = OUTPUT without the final activation, Flat spreads
 * evenly, WSquare ignores the input values. Each runs on the CPU path and on OpenCL.
 */
class PropertyTest {
    private static final Devices.Shared SHARED = new Devices.Shared();

    @AfterAll
    static void closeBackends() {
        SHARED.close();
    }

    private static Explanation explain(Devices d, Network n, Composite c, InitialRelevance init, float[][] x,
                                       Target t) {
        try (Explainer e = d.apply(GpuLrp.explainer(n).composite(c).initialRelevance(init)
                .keepLayerRelevances(true), SHARED).build()) {
            return e.explain(x, t);
        }
    }

    private static double sum(float[] a) {
        double s = 0;
        for (float v : a) {
            s += v;
        }
        return s;
    }

    /**
     * LRP-0 on a bias-free ReLU MLP without final activation conserves: at every layer, each sample's relevance sums
     * to its score (up to float32 rounding). Exact conservation needs every unit's z != 0; the inputs have no
     * all-zero row, and the check below requires a score away from 0 so that "relative" means something.
     */
    @ParameterizedTest(name = "{0}")
    @EnumSource(value = Devices.class, names = {"CPU", "OPENCL"})
    void epsilonZeroConservesOnBiasFreeReluNet(Devices d) {
        Network n = RandomNets.net(501, 12).zeroBias().dense(24).relu().dense(16).relu().dense(6).build();
        float[][] x = RandomNets.inputs(502, 64, 12);
        Explanation e = explain(d, n, Composite.uniform(new Epsilon(0f)), InitialRelevance.OUTPUT, x,
                Target.argmax());
        float[] scores = e.scores();
        for (int b = 0; b < x.length; b++) {
            double score = scores[b];
            assertTrue(Math.abs(score) > 1e-3, "test data: sample " + b + " has score " + score
                    + "; pick another seed");
            double in = sum(e.relevance().row(b));
            assertEquals(score, in, 1e-4 * Math.abs(score), d + ": sample " + b + ": input relevance sum vs score");
            assertEquals(score, e.conservation(b).initial(), 0, "Conservation.initial of sample " + b);
            assertEquals(in, e.conservation(b).input(), 1e-12 * Math.abs(in), "Conservation.input of sample " + b);
            assertEquals(1.0, e.conservation(b).ratio(), 1e-4, "Conservation.ratio of sample " + b);
            for (Map.Entry<String, Tensor> layer : e.layerRelevances().entrySet()) {
                double s = sum(layer.getValue().row(b));
                assertEquals(score, s, 1e-4 * Math.abs(score), d + ": sample " + b + ": relevance sum at output of '"
                        + layer.getKey() + "'");
            }
        }
        assertThrows(IndexOutOfBoundsException.class, () -> e.conservation(x.length));
        assertThrows(IndexOutOfBoundsException.class, () -> e.conservation(-1));
        assertEquals(x.length, e.conservation().size());
    }

    /** The same check can fail: a non-zero bias absorbs relevance, and Conservation says so. */
    @ParameterizedTest(name = "{0}")
    @EnumSource(value = Devices.class, names = {"CPU"})
    void biasesBreakConservation(Devices d) {
        Network n = RandomNets.net(501, 12).biasScale(1.0).dense(24).relu().dense(16).relu().dense(6).build();
        float[][] x = RandomNets.inputs(502, 64, 12);
        Explanation e = explain(d, n, Composite.uniform(new Epsilon(0f)), InitialRelevance.OUTPUT, x,
                Target.argmax());
        int off = 0;
        for (int b = 0; b < x.length; b++) {
            if (e.conservation(b).absoluteError() > 1e-2 * Math.abs(e.conservation(b).initial())) {
                off++;
            }
        }
        assertTrue(off > x.length / 2, "with biases most samples should leak relevance, only " + off + " did");
    }

    static Stream<Arguments> devicesAndNets() {
        List<Arguments> l = new ArrayList<>();
        for (Devices d : new Devices[] {Devices.CPU, Devices.OPENCL}) {
            for (Cases.Net n : Cases.nets()) {
                l.add(Arguments.of(d, n));
            }
        }
        return l.stream();
    }

    private static float[][] inputsFor(Network n) {
        return RandomNets.inputs(600 + n.inputSize(), Cases.BATCH, n.inputSize());
    }

    /** AlphaBeta(1,0) is ZPlus: the same bits (the beta term is skipped, alpha = 1 multiplies exactly). */
    @ParameterizedTest(name = "{0}: {1}")
    @MethodSource("devicesAndNets")
    void alphaOneBetaZeroIsZPlusBitForBit(Devices d, Cases.Net net) {
        Network n = net.network();
        float[][] x = inputsFor(n);
        for (float eps : new float[] {1e-6f, 0f, 0.1f}) {
            Explanation ab = explain(d, n, Composite.uniform(new AlphaBeta(1f, 0f, eps)), InitialRelevance.OUTPUT,
                    x, net.target());
            Explanation zp = explain(d, n, Composite.uniform(new ZPlus(eps)), InitialRelevance.OUTPUT, x,
                    net.target());
            Compare.sameBits(d + ", " + net + ", eps " + eps + ": AlphaBeta(1,0) vs ZPlus", zp, ab);
        }
    }

    /**
     * Gamma(0) is LRP-epsilon with the same stabilizer. Checked within {@code 1e-6 * max|R|}, not bit for bit: the
     * engine runs Gamma through a different op sequence (sign-split forward for the denominators, two-sided masked
     * normalization, a sign-split backprojection that interleaves the masked-out zero terms), and the contract does
     * not tie that to the plain Epsilon chain. (With gamma = 0, fma(0, w, w) = w makes both denominators equal z bit
     * for bit and the masked terms add zeros, so on these data the bits happen to agree; they may differ in the sign
     * of a zero, and where z = 0 with eps > 0, where Epsilon gives R/eps and Gamma's masks give 0.)
     */
    @ParameterizedTest(name = "{0}: {1}")
    @MethodSource("devicesAndNets")
    void gammaZeroIsEpsilon(Devices d, Cases.Net net) {
        Network n = net.network();
        float[][] x = inputsFor(n);
        for (float eps : new float[] {0f, 1e-6f}) {
            Explanation g = explain(d, n, Composite.uniform(new Gamma(0f, eps)), InitialRelevance.OUTPUT, x,
                    net.target());
            Explanation e = explain(d, n, Composite.uniform(new Epsilon(eps)), InitialRelevance.OUTPUT, x,
                    net.target());
            Compare.closeScaled(d + ", " + net + ", eps " + eps + ": Gamma(0) vs Epsilon", e, null, g, 1e-6);
        }
    }

    static Stream<Arguments> devicesNetsRules() {
        List<Arguments> l = new ArrayList<>();
        for (Devices d : new Devices[] {Devices.CPU, Devices.OPENCL}) {
            for (Cases.Net n : Cases.nets()) {
                for (Cases.Rules r : Cases.all()) {
                    l.add(Arguments.of(d, n, r));
                }
            }
        }
        return l.stream();
    }

    /**
     * Every rule is linear in the upper relevance (the denominators do not depend on it), so explaining with
     * R = score * onehot (OUTPUT) gives score times the ONEHOT explanation, sample by sample, at every layer.
     */
    @ParameterizedTest(name = "{0}: {2} on {1}")
    @MethodSource("devicesNetsRules")
    void relevanceIsLinearInTheInitialRelevance(Devices d, Cases.Net net, Cases.Rules rules) {
        Network n = net.network();
        Composite c = rules.on(n);
        float[][] x = inputsFor(n);
        Explanation out = explain(d, n, c, InitialRelevance.OUTPUT, x, net.target());
        Explanation one = explain(d, n, c, InitialRelevance.ONEHOT, x, net.target());
        assertArrayEquals(out.targets(), one.targets());
        float[] s = out.scores();
        for (float v : one.scores()) {
            assertEquals(1f, v, "ONEHOT scores are 1");
        }
        Compare.closeScaled(d + ", " + rules + " on " + net + ": OUTPUT vs score * ONEHOT", one, s, out, 1e-5);
    }

    /**
     * LOGIT explains the network without its final activation: the same bits as OUTPUT on that network, built from
     * the same seed without the activation; on a network without final activation LOGIT is OUTPUT.
     */
    @ParameterizedTest(name = "{0}: {1}")
    @MethodSource("devicesAndNets")
    void logitIsOutputOfTheNetworkWithoutItsFinalActivation(Devices d, Cases.Net net) {
        Network full = net.network();
        Network bare = full.withoutFinalActivation();
        float[][] x = inputsFor(full);
        Composite c = Composites.epsilonAlpha2Beta1Flat().withName("fc2", new Gamma());
        Explanation logit = explain(d, full, c, InitialRelevance.LOGIT, x, net.target());
        Explanation out = explain(d, bare, c, InitialRelevance.OUTPUT, x, Target.perSample(logit.targets()));
        String what = d + ", " + net;
        Compare.sameBits(what + ": LOGIT vs OUTPUT without final activation, input relevance", out.relevance(),
                logit.relevance());
        float[] ls = logit.scores();
        float[] os = out.scores();
        Compare.sameBits(what + ": scores", new Tensor(os, os.length, 1), new Tensor(ls, ls.length, 1));
        assertEquals(new ArrayList<>(out.layerRelevances().keySet()),
                new ArrayList<>(logit.layerRelevances().keySet()), what + ": per-layer keys");
        for (String k : out.layerRelevances().keySet()) {
            Compare.sameBits(what + ": at output of '" + k + "'", out.layerRelevance(k), logit.layerRelevance(k));
        }
        // The outputs stay those of the full network.
        Explanation fullOut = explain(d, full, c, InitialRelevance.OUTPUT, x, net.target());
        Compare.sameBits(what + ": outputs", fullOut.outputs(), logit.outputs());
        if (bare == full) {
            Compare.sameBits(what + ": LOGIT vs OUTPUT (no final activation)", fullOut, logit);
        }
    }

    static Stream<Arguments> flatComposites() {
        List<Arguments> l = new ArrayList<>();
        for (Devices d : new Devices[] {Devices.CPU, Devices.OPENCL}) {
            for (String c : new String[] {"epsilonPlusFlat", "epsilonAlpha2Beta1Flat", "Flat(0.5) everywhere"}) {
                l.add(Arguments.of(d, c));
            }
        }
        return l.stream();
    }

    /** Flat on the first layer gives every input of a sample the same relevance: (sum of R above) / (K + eps). */
    @ParameterizedTest(name = "{0}: {1}")
    @MethodSource("flatComposites")
    void flatSpreadsEvenly(Devices d, String which) {
        Composite c = switch (which) {
            case "epsilonPlusFlat" -> Composites.epsilonPlusFlat();
            case "epsilonAlpha2Beta1Flat" -> Composites.epsilonAlpha2Beta1Flat();
            default -> Composite.uniform(new Flat(0.5f));
        };
        float eps = which.startsWith("Flat") ? 0.5f : 1e-6f;
        Network n = RandomNets.net(503, 19).dense(23).relu().dense(4).softmax().build();
        float[][] x = RandomNets.inputs(504, 9, 19);
        Explanation e = explain(d, n, c, InitialRelevance.OUTPUT, x, Target.argmax());
        Tensor upper = e.layerRelevance("relu1");
        for (int b = 0; b < x.length; b++) {
            float[] r = e.relevance().row(b);
            for (int i = 1; i < r.length; i++) {
                if (Float.floatToRawIntBits(r[i]) != Float.floatToRawIntBits(r[0])) {
                    fail(d + ", " + which + ": sample " + b + ": input " + i + " got " + r[i] + ", input 0 got "
                            + r[0]);
                }
            }
            double want = sum(upper.row(b)) / (19 + (double) eps);
            assertEquals(want, r[0], 1e-5 * Math.abs(want), d + ", " + which + ": sample " + b
                    + ": (sum of upper relevance) / (K + eps)");
        }
    }

    /**
     * WSquare ignores the input values: with WSquare everywhere and ONEHOT, two different inputs explained for the
     * same class get the same relevance at every layer, bit for bit. Epsilon on the same data does not (so the
     * check can tell).
     */
    @ParameterizedTest(name = "{0}")
    @EnumSource(value = Devices.class, names = {"CPU", "OPENCL"})
    void wSquareIgnoresTheInput(Devices d) {
        Network n = RandomNets.net(505, 13).dense(17).relu().dense(9).relu().dense(3).build();
        float[][] x = RandomNets.inputs(506, 6, 13);
        Target t = Target.classIndex(1);
        Explanation w = explain(d, n, Composite.uniform(new WSquare()), InitialRelevance.ONEHOT, x, t);
        for (int b = 1; b < x.length; b++) {
            assertArrayEquals(bits(w.relevance().row(0)), bits(w.relevance().row(b)), d + ": WSquare input "
                    + "relevance of sample " + b + " vs sample 0");
            for (Map.Entry<String, Tensor> l : w.layerRelevances().entrySet()) {
                assertArrayEquals(bits(l.getValue().row(0)), bits(l.getValue().row(b)), d + ": WSquare relevance "
                        + "at output of '" + l.getKey() + "', sample " + b + " vs sample 0");
            }
        }
        Explanation eps = explain(d, n, Composite.uniform(new Epsilon()), InitialRelevance.ONEHOT, x, t);
        assertNotEquals(java.util.Arrays.toString(eps.relevance().row(0)),
                java.util.Arrays.toString(eps.relevance().row(1)), "Epsilon should depend on the input");
    }

    private static int[] bits(float[] a) {
        int[] o = new int[a.length];
        for (int i = 0; i < a.length; i++) {
            o[i] = Float.floatToRawIntBits(a[i]);
        }
        return o;
    }
}
