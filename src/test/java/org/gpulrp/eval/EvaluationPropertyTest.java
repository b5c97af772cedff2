package org.gpulrp.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Random;
import org.gpulrp.BackendChoice;
import org.gpulrp.Explainer;
import org.gpulrp.GpuLrp;
import org.gpulrp.InvalidArgumentException;
import org.gpulrp.InvalidInputException;
import org.gpulrp.ShapeMismatchException;
import org.gpulrp.Target;
import org.gpulrp.Tensor;
import org.gpulrp.model.Network;
import org.gpulrp.rules.Epsilon;
import org.junit.jupiter.api.Test;

/** Properties of region perturbation that hold whatever the numbers, and the argument errors. */
class EvaluationPropertyTest {

    /**
     * A linear model without bias, explained with epsilon: the relevance is each feature's exact contribution
     * {@code w_i x_i} (up to one positive factor per sample), so with the zeros baseline MoRF removes the largest
     * contributions first: its curve lies at or below the random order's at every step, which lies at or below
     * LeRF's, and the AOPCs are ordered the same way.
     */
    @Test
    void exactContributionsOrderMorfRandomLerf() {
        int n = 12;
        Random rnd = new Random(7);
        float[] w = new float[n];
        for (int i = 0; i < n; i++) {
            w[i] = (float) rnd.nextGaussian();
        }
        Network net = Network.builder("linear", n).dense("fc", 1, w, new float[1]).build();
        float[][] x = new float[40][n];
        for (float[] row : x) {
            for (int i = 0; i < n; i++) {
                row[i] = (float) rnd.nextGaussian();
            }
        }
        Evaluation.Result r;
        try (Explainer ex = GpuLrp.explainer(net).rule(new Epsilon(1e-6f)).backend(BackendChoice.CPU).build()) {
            r = Evaluation.run(ex, Tensor.ofRows(x), Target.classIndex(0), Evaluation.Settings.defaults(
                    Regions.features(n), Baseline.zeros()), Evaluation.Progress.NONE);
        }
        assertEquals(n, r.steps());
        for (int b = 0; b < x.length; b++) {
            for (int k = 0; k <= n; k++) {
                float m = r.curve(Order.MORF)[b][k];
                float q = r.curve(Order.RANDOM)[b][k];
                float l = r.curve(Order.LERF)[b][k];
                assertTrue(m <= q + 1e-5f && q <= l + 1e-5f, "sample " + b + " step " + k + ": " + m + " " + q
                        + " " + l);
            }
            // All regions removed: only zeros remain, the score is the (zero) bias.
            assertEquals(0f, r.curve(Order.MORF)[b][n], 0f);
        }
        assertTrue(r.aopc(Order.MORF) > r.aopc(Order.RANDOM), r.aopc(Order.MORF) + " " + r.aopc(Order.RANDOM));
        assertTrue(r.aopc(Order.RANDOM) > r.aopc(Order.LERF), r.aopc(Order.RANDOM) + " " + r.aopc(Order.LERF));
        assertTrue(r.abpc() > 0);
        // ABPC is the difference of the two AOPCs by definition.
        assertEquals(r.aopc(Order.MORF) - r.aopc(Order.LERF), r.abpc(), 1e-9);
    }

    @Test
    void sortedOrdersBreakTiesByIndexAndRandomIsAPermutation() {
        double[] s = {1, 3, 3, -2, 3, 0};
        assertArrayEquals(new int[] {1, 2, 4, 0, 5, 3}, Order.MORF.rank(s, 0, 0));
        assertArrayEquals(new int[] {3, 5, 0, 1, 2, 4}, Order.LERF.rank(s, 0, 0));
        int[] p = Order.RANDOM.rank(s, 9, 2);
        assertArrayEquals(new int[] {0, 1, 2, 3, 4, 5}, java.util.Arrays.stream(p).sorted().toArray());
        assertArrayEquals(p, Order.RANDOM.rank(s, 9, 2), "seeded: the same order again");
        assertTrue(!java.util.Arrays.equals(p, Order.RANDOM.rank(s, 9, 3))
                || !java.util.Arrays.equals(p, Order.RANDOM.rank(s, 10, 2)), "other samples and seeds differ");
    }

    @Test
    void patchesCoverAllChannelsAndSmallerEdges() {
        Regions r = Regions.patches(new int[] {2, 5, 5}, 2);
        assertEquals(9, r.count());
        assertEquals(r.regionOf(0), r.regionOf(25), "a patch spans the channels");
        assertEquals(8, r.regionOf(24), "the corner pixel is its own 1 x 1 patch");
        assertEquals(1, r.members()[8].length / 2);
        float[] rel = new float[50];
        rel[0] = 1;
        rel[26] = 2;
        rel[6] = 4;
        assertEquals(7.0, r.scores(rel, 0)[0], 0);
    }

    @Test
    void meanAndValueBaselines() {
        float[] data = {1, 2, 3, 6};
        assertArrayEquals(new float[] {2, 4, 2, 4}, Baseline.parse("mean").values(data, new int[] {2}));
        assertArrayEquals(new float[] {-1, -1, -1, -1}, Baseline.parse("value:-1").values(data, new int[] {2}));
        float[] noise = Baseline.parse("noise:4").values(data, new int[] {2});
        for (float v : noise) {
            assertTrue(v >= 1 && v <= 6, "noise within the data's range: " + v);
        }
        // A constant image stays constant under the blur (the taps sum to 1, edges mirrored).
        float[] flat = new float[16];
        java.util.Arrays.fill(flat, 0.25f);
        for (float v : Baseline.parse("blur:2").values(flat, new int[] {1, 4, 4})) {
            assertEquals(0.25f, v, 1e-7f);
        }
    }

    @Test
    void spearmanOfMagnitudes() {
        float[] a = {1, -2, 3, 4};
        assertEquals(1.0, Spearman.ofMagnitudes(a, new float[] {10, 20, -30, 40}, 0, 4), 1e-12);
        assertEquals(-1.0, Spearman.ofMagnitudes(a, new float[] {4, 3, 2, 1}, 0, 4), 1e-12);
        assertTrue(Double.isNaN(Spearman.ofMagnitudes(a, new float[] {1, 1, 1, 1}, 0, 4)));
        // Ties share their average rank: ranks [1, 2.5, 2.5, 4] against [1, 2, 3, 4].
        assertEquals(0.9486832980505138, Spearman.ofMagnitudes(new float[] {1, 2, 2, 3}, a, 0, 4), 1e-12);
    }

    @Test
    void argumentErrors() {
        Regions six = Regions.features(6);
        assertThrows(InvalidArgumentException.class, () -> new Evaluation.Settings(six, Baseline.zeros(),
                List.of(Order.MORF), 7, 0));
        assertThrows(InvalidArgumentException.class, () -> new Evaluation.Settings(six, Baseline.zeros(),
                List.of(Order.MORF), 0, 0));
        assertThrows(InvalidArgumentException.class, () -> new Evaluation.Settings(six, Baseline.zeros(),
                List.of(), 3, 0));
        assertThrows(InvalidArgumentException.class, () -> Regions.patches(new int[] {1, 8, 8}, 9));
        assertThrows(ShapeMismatchException.class, () -> Regions.patches(new int[] {64}, 2));
        assertThrows(InvalidArgumentException.class, () -> Baseline.parse("blur:0"));
        assertThrows(InvalidArgumentException.class, () -> Baseline.parse("blur"));
        assertThrows(InvalidArgumentException.class, () -> Baseline.parse("gaussian"));
        assertThrows(InvalidArgumentException.class, () -> Order.parse("best"));
        assertThrows(ShapeMismatchException.class, () -> Baseline.parse("blur:1").values(new float[4],
                new int[] {4}));
        Network net = Network.builder("linear", 2).dense("fc", 1, new float[] {1, 1}, null).build();
        try (Explainer ex = GpuLrp.explainer(net).backend(BackendChoice.CPU).build()) {
            Evaluation.Settings s = Evaluation.Settings.defaults(Regions.features(2), Baseline.zeros());
            Tensor x = new Tensor(new float[] {1, Float.NaN}, 1, 2);
            assertThrows(InvalidInputException.class, () -> Evaluation.curves(ex, x, x, new int[] {0}, s, null));
            Tensor ok = new Tensor(new float[] {1, 2}, 1, 2);
            assertThrows(ShapeMismatchException.class, () -> Evaluation.curves(ex, ok, ok, new int[] {0, 0}, s,
                    null));
            assertThrows(InvalidArgumentException.class, () -> ex.score(ok, new int[] {1}));
        }
    }
}
