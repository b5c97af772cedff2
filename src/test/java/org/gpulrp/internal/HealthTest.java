package org.gpulrp.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.gpulrp.InitialRelevance;
import org.gpulrp.backend.cpu.CpuBackend;
import org.gpulrp.composite.Composite;
import org.gpulrp.composite.Composites;
import org.gpulrp.model.Network;
import org.gpulrp.rules.AlphaBeta;
import org.gpulrp.rules.Epsilon;
import org.gpulrp.rules.Flat;
import org.gpulrp.rules.Gamma;
import org.gpulrp.rules.Rule;
import org.gpulrp.rules.WSquare;
import org.gpulrp.rules.ZBox;
import org.gpulrp.rules.ZPlus;
import org.junit.jupiter.api.Test;

/** The engine's health accounting: relevance in = relevance out + stabilizer + biases, per layer and sample. */
class HealthTest {
    private static final int ROWS = 37;

    /** 12 -> 20 -> relu -> 16 -> relu -> (fan-out: dense 16 and identity) -> add -> 5. */
    private static Network net(boolean biases) {
        SplittableRandom r = new SplittableRandom(3);
        Network.Builder b = Network.builder("h", 12);
        b.dense("fc1", 20, w(r, 12 * 20), bias(r, 20, biases)).relu("r1");
        b.dense("fc2", 16, w(r, 20 * 16), bias(r, 16, biases)).relu("r2");
        b.add("fc3", new org.gpulrp.model.Dense(16, 16, w(r, 16 * 16), bias(r, 16, biases)), "r2");
        b.sum("res", "fc3", "r2");
        b.add("fc4", new org.gpulrp.model.Dense(16, 5, w(r, 16 * 5), bias(r, 5, biases)), "res");
        return b.build();
    }

    private static float[] w(SplittableRandom r, int n) {
        float[] a = new float[n];
        for (int k = 0; k < n; k++) {
            a[k] = (float) (r.nextGaussian() * 0.4);
        }
        return a;
    }

    private static float[] bias(SplittableRandom r, int n, boolean on) {
        float[] a = new float[n];
        for (int k = 0; on && k < n; k++) {
            a[k] = (float) (r.nextGaussian() * 0.3);
        }
        return a;
    }

    private static Engine.Batch run(Network n, Composite c, boolean health) {
        try (CpuBackend be = new CpuBackend(); Engine e = new Engine(be, n, c, InitialRelevance.OUTPUT, 16, 1 << 20)) {
            float[] x = new float[ROWS * 12];
            SplittableRandom r = new SplittableRandom(9);
            for (int k = 0; k < x.length; k++) {
                x[k] = (float) r.nextGaussian();
            }
            Engine.Batch out = new Engine.Batch(e, ROWS, false, health);
            for (int r0 = 0; r0 < ROWS; r0 += 16) {
                int rows = Math.min(16, ROWS - r0);
                e.run(x, r0, rows, (o, rr, classes) -> new int[rr], out);
            }
            return out;
        }
    }

    @Test
    void withoutBiasesTheStabilizerAccountsForEverythingAbsorbed() {
        Rule[] rules = {new Epsilon(0.25f), new Epsilon(1e-6f), new ZPlus(), new AlphaBeta(2, 1), new Gamma(0.25f),
            new ZBox(-3, 3), new Flat(), new WSquare()};
        for (Rule rule : rules) {
            // First layer only (raw inputs: the general kernels), then every layer (after ReLUs: the shortcuts).
            checkAccounts(rule.describe() + " first", Composite.uniform(new Epsilon(0.1f)).withFirst(rule));
            checkAccounts(rule.describe() + " all", Composite.uniform(rule));
        }
    }

    private static void checkAccounts(String what, Composite c) {
        Health h = run(net(false), c, true).health;
        for (int k = 0; k < h.entering.length; k++) {
            for (int row = 0; row < ROWS; row++) {
                double in = h.entering[k][row];
                double absorbed = in - h.leaving[k][row];
                double scale = Math.max(1e-3, Math.abs(in));
                assertEquals(absorbed, h.stabilizer[k][row], 2e-4 * scale, what + " node " + k + " row " + row
                        + ": in " + in);
            }
        }
        assertArrayEquals(new long[3], h.counts(0), what);
    }

    @Test
    void biasesTakeTheRestAndHealthChangesNoBits() {
        Composite c = Composites.epsilonPlus();
        Engine.Batch plain = run(net(true), c, false);
        Engine.Batch checked = run(net(true), c, true);
        assertArrayEquals(plain.relevance, checked.relevance);
        Health h = checked.health;
        double biasShare = 0;
        for (int k = 0; k < h.entering.length; k++) {
            for (int row = 0; row < ROWS; row++) {
                biasShare += Math.abs(h.entering[k][row] - h.leaving[k][row] - h.stabilizer[k][row]);
            }
        }
        assertTrue(biasShare > 1e-3, "biases absorbed nothing: " + biasShare);
        // The top node receives the whole initial relevance; the input relevance is what the first layer passed down.
        for (int row = 0; row < ROWS; row++) {
            assertEquals(checked.scores[row], h.entering[h.entering.length - 1][row], 1e-6);
            double sum = Health.rowSum(checked.relevance, row, checked.relevance.length / ROWS);
            assertEquals(sum, h.leaving[0][row], 1e-9 * Math.max(1, Math.abs(sum)));
        }
    }
}
