package org.gpulrp.canonize;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Random;
import org.gpulrp.BackendChoice;
import org.gpulrp.GpuLrp;
import org.gpulrp.Target;
import org.gpulrp.model.ConvGeometry;
import org.gpulrp.model.BatchNorm;
import org.gpulrp.model.Conv2d;
import org.gpulrp.model.Dense;
import org.gpulrp.model.Network;
import org.gpulrp.model.Node;
import org.junit.jupiter.api.Test;

/** Batch-norm folding keeps the network's function, folds only where it may, and leaves its input alone. */
class CanonizersTest {
    private static final Random RND = new Random(5);

    private static float[] random(int n, float scale, float offset) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = offset + scale * (float) RND.nextGaussian();
        }
        return v;
    }

    private static BatchNorm bn(int c, int h, int w) {
        float[] var = random(c, 0.2f, 1f);
        for (int i = 0; i < c; i++) {
            var[i] = Math.abs(var[i]) + 0.1f;
        }
        return new BatchNorm(c, h, w, random(c, 0.3f, 1f), random(c, 0.3f, 0), random(c, 0.3f, 0), var, 1e-5);
    }

    /** input [2,5,5] -> conv(3) -> bn -> relu -> [branch: bn2 after relu (standalone)] -> flatten -> dense -> bn1d. */
    private static Network network() {
        Network.Builder b = Network.builder("bn", 2, 5, 5);
        ConvGeometry g = new ConvGeometry(2, 5, 5, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1);
        b.add("conv", new Conv2d(g, random(g.weightSize(), 0.4f, 0), random(3, 0.1f, 0)));
        b.add("bn1", bn(3, 5, 5));
        b.relu("relu");
        b.add("bn2", bn(3, 5, 5));
        b.flatten("flat");
        b.add("fc", new Dense(75, 4, random(300, 0.2f, 0), random(4, 0.1f, 0)));
        b.add("bn3", bn(4, 1, 1));
        return b.build();
    }

    private static float[] outputs(Network net, float[][] x) {
        try (var ex = GpuLrp.explainer(net).backend(BackendChoice.CPU).build()) {
            return ex.explain(x, Target.classIndex(0)).outputs().toArray();
        }
    }

    @Test
    void foldsAfterLinearLayersKeepsTheRestAndKeepsOutputs() {
        Network net = network();
        String before = net.toString();
        List<Node> nodesBefore = List.copyOf(net.nodes());
        Network folded = Canonizers.foldBatchNorm(net);
        assertEquals(before, net.toString(), "the input network is unchanged");
        assertEquals(nodesBefore, net.nodes());
        assertEquals(List.of("conv", "relu", "bn2", "flat", "fc"), folded.nodes().stream().map(Node::name).toList());
        assertTrue(folded.node("bn2").layer() instanceof BatchNorm, "a batch norm after relu stays");
        float[][] x = new float[3][];
        for (int i = 0; i < 3; i++) {
            x[i] = random(50, 1f, 0);
        }
        float[] a = outputs(net, x);
        float[] b = outputs(folded, x);
        for (int i = 0; i < a.length; i++) {
            assertEquals(a[i], b[i], 1e-5 * Math.max(1, Math.abs(a[i])), "output " + i);
        }
    }

    @Test
    void foldedParametersFollowTheFormulaInDouble() {
        Network.Builder b = Network.builder("one", 3);
        b.add("fc", new Dense(3, 2, new float[] {1, 2, 3, 4, 5, 6}, new float[] {0.5f, -1}));
        b.add("bn", new BatchNorm(2, 1, 1, new float[] {2, 0.5f}, new float[] {1, 0}, new float[] {0.25f, -1},
                new float[] {3, 0.75f}, 1e-5));
        Dense d = (Dense) Canonizers.foldBatchNorm(b.build()).node("fc").layer();
        double s0 = 2 / Math.sqrt(3 + 1e-5);
        double s1 = 0.5 / Math.sqrt(0.75 + 1e-5);
        assertEquals((float) (3 * s0), d.weight()[2]);
        assertEquals((float) (4 * s1), d.weight()[3]);
        assertEquals((float) ((0.5 - 0.25) * s0 + 1), d.bias()[0]);
        assertEquals((float) ((-1 + 1.0) * s1), d.bias()[1]);
    }

    @Test
    void noFoldWhenTheLinearOutputFeedsAnotherNodeOrNothingToFold() {
        Network.Builder b = Network.builder("fan", 3);
        b.add("fc", new Dense(3, 3, random(9, 1, 0), null));
        b.add("bn", bn(3, 1, 1));
        b.sum("sum", "fc", "bn");
        Network net = b.build();
        Network same = Canonizers.foldBatchNorm(net);
        assertSame(net, same);
    }

    @Test
    void standaloneBatchNormPassesRelevanceAndComputesTheAffineMap() {
        Network.Builder b = Network.builder("alone", 2, 1, 1);
        b.add("bn", new BatchNorm(2, 1, 1, new float[] {2, 1}, new float[] {1, 0}, new float[] {1, 0},
                new float[] {1, 4}, 1e-5));
        Network net = b.build();
        try (var ex = GpuLrp.explainer(net).backend(BackendChoice.CPU).build()) {
            var r = ex.explain(new float[][] {{3, 2}}, Target.classIndex(0));
            float[] y = r.outputs().toArray();
            assertEquals((float) ((3 - 1) * (2 / Math.sqrt(1 + 1e-5)) + 1), y[0], 1e-6);
            assertEquals((float) (2 / Math.sqrt(4 + 1e-5)), y[1], 1e-6);
            float[] rel = r.relevance().toArray();
            // Pass, as Zennit's composites treat a BatchNorm they did not merge: the input relevance is the
            // output relevance, bit for bit (the score at the target, nothing elsewhere).
            assertEquals(Float.floatToRawIntBits(y[0]), Float.floatToRawIntBits(rel[0]), java.util.Arrays.toString(rel));
            assertEquals(0f, rel[1]);
        }
    }
}
