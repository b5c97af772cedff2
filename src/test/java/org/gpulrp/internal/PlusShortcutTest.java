package org.gpulrp.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.gpulrp.InitialRelevance;
import org.gpulrp.backend.cpu.CpuBackend;
import org.gpulrp.composite.Composite;
import org.gpulrp.model.Network;
import org.gpulrp.rules.AlphaBeta;
import org.gpulrp.rules.Epsilon;
import org.gpulrp.rules.Gamma;
import org.gpulrp.rules.Rule;
import org.gpulrp.rules.ZPlus;
import org.junit.jupiter.api.Test;

/**
 * The engine's non-negative-input shortcut for one-sided sign rules: taken exactly where the graph guarantees a
 * non-negative input, and equal to the general sign-split formula (up to the sign of a zero) where taken.
 */
class PlusShortcutTest {

    static float[] randn(SplittableRandom r, int n, double scale) {
        float[] a = new float[n];
        for (int k = 0; k < n; k++) {
            a[k] = (float) (r.nextGaussian() * scale);
        }
        return a;
    }

    /**
     * Nodes: 0 conv1 (network input), 1 relu, 2 maxpool, 3 conv2 (after relu+pool), 4 conv3 (after a plain conv),
     * 5 relu, 6 avgpool, 7 flatten, 8 fc (after relu, avgpool, flatten). Also the network of
     * {@link PreparedWeightsUseTest}.
     */
    static Network net() {
        SplittableRandom r = new SplittableRandom(5);
        Network.Builder b = Network.builder("shortcut", 2, 8, 8);
        b.conv2d("conv1", 16, 3, 1, 1, randn(r, 16 * 2 * 9, 0.4), randn(r, 16, 0.1)).relu("relu1");
        b.maxPool2d("pool1", 2, 2);
        b.conv2d("conv2", 16, 3, 1, 1, randn(r, 16 * 16 * 9, 0.2), randn(r, 16, 0.1));
        b.conv2d("conv3", 16, 3, 1, 1, randn(r, 16 * 16 * 9, 0.2), randn(r, 16, 0.1)).relu("relu3");
        b.avgPool2d("pool3", 2, 2).flatten("flat");
        int features = b.shapeOf("flat")[0];
        b.dense("fc", 5, randn(r, 5 * features, 0.3), randn(r, 5, 0.1));
        return b.build();
    }

    /** Per node: the one-sided shortcut (stacked false) or the stacked one (stacked true). */
    private static boolean[] taken(Rule rule, boolean stacked) {
        Network n = net();
        try (CpuBackend be = new CpuBackend(CpuBackend.Kernels.AUTO, 1);
             Engine e = new Engine(be, n, Composite.uniform(rule), InitialRelevance.OUTPUT, 4, 1L << 24)) {
            boolean[] t = new boolean[n.nodes().size()];
            for (int k = 0; k < t.length; k++) {
                t[k] = stacked ? e.stackShortcut(k) : e.plusShortcut(k);
            }
            return t;
        }
    }

    @Test
    void takenOnlyForSignRulesOnNonNegativeInputs() {
        boolean[] expected = {false, false, false, true, false, false, false, false, true};
        boolean[] none = new boolean[expected.length];
        for (Rule oneSided : new Rule[] {new ZPlus(), new AlphaBeta(1, 0)}) {
            assertArrayEquals(expected, taken(oneSided, false), oneSided.describe());
            assertArrayEquals(none, taken(oneSided, true), oneSided.describe());
        }
        for (Rule twoSided : new Rule[] {new AlphaBeta(2, 1), new Gamma(0.25f)}) {
            assertArrayEquals(none, taken(twoSided, false), twoSided.describe());
            assertArrayEquals(expected, taken(twoSided, true), twoSided.describe());
        }
        assertArrayEquals(none, taken(new Epsilon(), false));
        assertArrayEquals(none, taken(new Epsilon(), true));
    }

    private static float[] relevance(Network n, Rule rule, float[] x, int rows, boolean shortcut) {
        try (CpuBackend be = new CpuBackend(CpuBackend.Kernels.AUTO, 1);
             Engine e = new Engine(be, n, Composite.uniform(rule), InitialRelevance.OUTPUT, rows, 1L << 24)) {
            e.plusShortcuts(shortcut);
            Engine.Batch out = new Engine.Batch(e, rows, false);
            e.run(x, 0, rows, (o, rr, classes) -> new int[rr], out);
            return out.relevance;
        }
    }

    @Test
    void equalsTheSignSplitFormulaUpToTheSignOfZero() {
        Network n = net();
        int rows = 5;
        float[] x = randn(new SplittableRandom(9), rows * n.inputSize(), 1.0);
        for (Rule rule : new Rule[] {new ZPlus(), new AlphaBeta(1, 0)}) {
            float[] fast = relevance(n, rule, x, rows, true);
            float[] general = relevance(n, rule, x, rows, false);
            int nonZero = 0;
            for (int k = 0; k < fast.length; k++) {
                assertEquals(general[k], fast[k], 0f, rule.describe() + " element " + k);
                nonZero += fast[k] != 0 ? 1 : 0;
            }
            assertTrue(nonZero > fast.length / 2, "relevance reaches the input: " + nonZero + " of " + fast.length);
        }
    }

    @Test
    void stackedFormEqualsTheSignSplitFormulaUpToRounding() {
        // The stacked backprojection sums u's terms before v's (the sign-split kernel interleaves them per tap):
        // the same value up to float32 rounding, and not always the same bits.
        Network n = net();
        int rows = 5;
        float[] x = randn(new SplittableRandom(9), rows * n.inputSize(), 1.0);
        for (Rule rule : new Rule[] {new AlphaBeta(2, 1), new Gamma(0.25f), new AlphaBeta(1.5f, 0.5f)}) {
            float[] fast = relevance(n, rule, x, rows, true);
            float[] general = relevance(n, rule, x, rows, false);
            double max = 0;
            for (float v : general) {
                max = Math.max(max, Math.abs(v));
            }
            assertTrue(max > 0, rule.describe() + ": relevance reaches the input");
            for (int k = 0; k < fast.length; k++) {
                assertEquals(general[k], fast[k], 1e-5 * max, rule.describe() + " element " + k);
            }
        }
    }
}
