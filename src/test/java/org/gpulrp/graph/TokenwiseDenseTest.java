package org.gpulrp.graph;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.SplittableRandom;
import org.gpulrp.Explainer;
import org.gpulrp.Explanation;
import org.gpulrp.GpuLrp;
import org.gpulrp.InitialRelevance;
import org.gpulrp.Target;
import org.gpulrp.Tensor;
import org.gpulrp.backend.Flops;
import org.gpulrp.backend.Op;
import org.gpulrp.backend.cpu.CpuBackend;
import org.gpulrp.backend.opencl.OpenClBackend;
import org.gpulrp.canonize.Canonizers;
import org.gpulrp.composite.Composite;
import org.gpulrp.internal.Engine;
import org.gpulrp.internal.Health;
import org.gpulrp.model.Activation;
import org.gpulrp.model.BatchNorm;
import org.gpulrp.model.Dense;
import org.gpulrp.model.Network;
import org.gpulrp.model.TokenInput;
import org.gpulrp.reference.Float64Graph;
import org.gpulrp.rules.AlphaBeta;
import org.gpulrp.rules.Epsilon;
import org.gpulrp.rules.Flat;
import org.gpulrp.rules.Gamma;
import org.gpulrp.rules.Rule;
import org.gpulrp.rules.WSquare;
import org.gpulrp.rules.ZBox;
import org.gpulrp.rules.ZPlus;
import org.gpulrp.testing.OpenClTestSupport;
import org.junit.jupiter.api.Test;

/**
 * A token-wise dense layer ({@link Dense#positions()} &gt; 1) under every rule: each position explained as a sample
 * of its own would be (against the float64 reference), CPU and OpenCL bit for bit alike, the health report per
 * sample, and the audit of the code that reads a dense layer's sizes (flops, batch-norm folding).
 */
class TokenwiseDenseTest {
    private static final int POSITIONS = 4;
    private static final int ROWS = 9;

    private static final List<Rule> RULES = List.of(new Epsilon(), new Epsilon(0.25f), new ZPlus(),
            new AlphaBeta(2, 1), new Gamma(0.25f), new ZBox(-3, 3), new WSquare(), new Flat());

    /** [4 positions x 6] -> token-wise dense 5 (the rule under test) -> ReLU -> token-wise dense 3 -> dense 3. */
    private static Network net(boolean biases) {
        SplittableRandom r = new SplittableRandom(17);
        return Network.builder("tokenwise", new int[] {POSITIONS, 6})
                .add("fc1", new Dense(POSITIONS, 6, 5, GraphNetworkTest.randn(r, 30, 0.6),
                        biases ? GraphNetworkTest.randn(r, 5, 0.3) : null))
                .add("relu", new Activation(Activation.Function.RELU))
                .add("fc2", new Dense(POSITIONS, 5, 3, GraphNetworkTest.randn(r, 15, 0.6),
                        biases ? GraphNetworkTest.randn(r, 3, 0.3) : null))
                .add("head", new Dense(POSITIONS * 3, 3, GraphNetworkTest.randn(r, 36, 0.5),
                        biases ? GraphNetworkTest.randn(r, 3, 0.3) : null))
                .build();
    }

    private static Explanation explain(Network net, Composite c, float[] x, OpenClBackend cl) {
        Explainer.Builder b = GpuLrp.explainer(net).composite(c).keepLayerRelevances(true).chunkRows(4);
        try (Explainer e = cl == null ? b.build() : b.backend(cl).build()) {
            return e.explain(new Tensor(x, ROWS, net.inputSize()), Target.argmax());
        }
    }

    @Test
    void everyRuleActsOnEachPositionAndCpuAndOpenClAgree() {
        Network net = net(true);
        float[] x = GraphNetworkTest.randn(new SplittableRandom(3), ROWS * net.inputSize(), 1.0);
        try (OpenClBackend cl = OpenClTestSupport.openOrSkip()) {
            for (Rule rule : RULES) {
                // The rule on both token-wise layers (fc2 reads ReLU outputs: the non-negative shortcuts).
                Composite c = Composite.uniform(new Epsilon()).withName("fc1", rule).withName("fc2", rule);
                Explanation cpu = explain(net, c, x, null);
                for (int b = 0; b < ROWS; b++) {
                    float[] sample = java.util.Arrays.copyOfRange(x, b * 24, (b + 1) * 24);
                    double[] ref = Float64Graph.explain(net, c, sample, cpu.targets()[b]).input();
                    double max = 0;
                    for (double v : ref) {
                        max = Math.max(max, Math.abs(v));
                    }
                    assertTrue(max > 0, rule.describe() + " sample " + b);
                    for (int i = 0; i < ref.length; i++) {
                        assertEquals(ref[i], cpu.relevance().get(b, i), 1e-4 * max, rule.describe() + " sample "
                                + b + " feature " + i);
                    }
                }
                Explanation ocl = explain(net, c, x, cl);
                for (String layer : cpu.layerRelevances().keySet()) {
                    assertBits(rule.describe() + " " + layer, cpu.layerRelevance(layer).toArray(),
                            ocl.layerRelevance(layer).toArray());
                }
                assertBits(rule.describe() + " input", cpu.relevance().toArray(), ocl.relevance().toArray());
            }
        }
    }

    static void assertBits(String what, float[] a, float[] b) {
        assertEquals(a.length, b.length, what);
        for (int k = 0; k < a.length; k++) {
            assertEquals(Float.floatToRawIntBits(a[k]), Float.floatToRawIntBits(b[k]), what + " [" + k + "]");
        }
    }

    /** Without biases, what a token-wise layer absorbs is its stabilizer's share, summed per sample. */
    @Test
    void theHealthReportCountsPerSample() {
        Network net = net(false);
        float[] x = GraphNetworkTest.randn(new SplittableRandom(4), ROWS * net.inputSize(), 1.0);
        for (Rule rule : RULES) {
            Composite c = Composite.uniform(new Epsilon(0.05f)).withName("fc1", rule).withName("fc2", rule);
            try (CpuBackend be = new CpuBackend();
                 Engine e = new Engine(be, net, c, InitialRelevance.OUTPUT, 4, 1 << 20)) {
                Engine.Batch out = new Engine.Batch(e, ROWS, false, true);
                for (int r0 = 0; r0 < ROWS; r0 += 4) {
                    e.run(x, r0, Math.min(4, ROWS - r0), (o, rr, classes) -> new int[rr], out);
                }
                Health h = out.health;
                for (int k = 0; k < 3; k += 2) {
                    for (int row = 0; row < ROWS; row++) {
                        double in = h.entering[k][row];
                        double absorbed = in - h.leaving[k][row];
                        assertEquals(absorbed, h.stabilizer[k][row], 2e-4 * Math.max(1e-3, Math.abs(in)),
                                rule.describe() + " node " + k + " row " + row);
                    }
                }
            }
        }
    }

    @Test
    void flopsCountEveryPositionAndBatchNormsAreNotFoldedIntoTokenwiseLayers() {
        Network net = net(true);
        double expected = 0;
        for (int[] d : new int[][] {{POSITIONS, 6, 5}, {POSITIONS, 5, 3}, {1, 12, 3}}) {
            expected += Op.LINEAR.flops(d[0], d[1], d[2]) + Op.BACKPROJECT.flops(d[0], d[1], d[2]);
        }
        assertEquals(expected, Flops.perSample(net));
        float[] ones = new float[5 * POSITIONS];
        java.util.Arrays.fill(ones, 1f);
        Network tokenwise = Network.builder("bn", new int[] {POSITIONS, 6})
                .add("fc", new Dense(POSITIONS, 6, 5, new float[30], null))
                .add("bn", new BatchNorm(5 * POSITIONS, 1, 1, ones, new float[20], new float[20], ones, 1e-5))
                .build();
        assertEquals(2, Canonizers.foldBatchNorm(tokenwise).nodes().size(),
                "a token-wise layer's features are not a batch norm's channels");
        // A fold rebuilds the network: it keeps the input's shape and its token layout.
        float[] five = {1f, 1f, 1f, 1f, 1f};
        Network ordinary = Network.builder("bn", new int[] {POSITIONS, 6})
                .tokens(new TokenInput(12, List.of(TokenInput.IDS, TokenInput.MASK), 10))
                .add("fc", new Dense(24, 5, new float[120], null))
                .add("bn", new BatchNorm(5, 1, 1, five, new float[5], new float[5], five, 1e-5))
                .add("out", new Dense(5, 2, new float[10], null))
                .build();
        Network folded = Canonizers.foldBatchNorm(ordinary);
        assertEquals(2, folded.nodes().size(), "the batch norm is folded");
        assertEquals(List.of(POSITIONS, 6), java.util.Arrays.stream(folded.inputShape()).boxed().toList());
        assertEquals(ordinary.tokens(), folded.tokens());
    }
}
