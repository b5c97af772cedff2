package org.gpulrp.reliability;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.gpulrp.BackendChoice;
import org.gpulrp.Explainer;
import org.gpulrp.Explanation;
import org.gpulrp.GpuLrp;
import org.gpulrp.HealthReport;
import org.gpulrp.InvalidInputException;
import org.gpulrp.NonFinitePolicy;
import org.gpulrp.Target;
import org.gpulrp.Tensor;
import org.gpulrp.composite.Composites;
import org.gpulrp.model.Network;
import org.gpulrp.testing.OpenClTestSupport;
import org.gpulrp.testing.RandomNets;
import org.junit.jupiter.api.Test;

/** The health report through the public API, and the policy for NaN/infinite inputs. */
class HealthAndPolicyTest {
    private static final Network NET = RandomNets.mlp(21, 30, 48, 24, 6);

    private static Explainer.Builder builder(BackendChoice be) {
        return GpuLrp.explainer(NET).composite(Composites.epsilonGammaBox(-4, 4)
                .withFirst(new org.gpulrp.rules.ZBox(-4, 4))).backend(be).chunkRows(50);
    }

    @Test
    void reportAccountsForTheWholeBatch() {
        Tensor x = Tensor.ofRows(RandomNets.inputs(4, 173, 30));
        Explanation e;
        try (Explainer ex = builder(BackendChoice.CPU).healthReport(true).build()) {
            e = ex.explain(x, Target.argmax());
        }
        HealthReport h = e.health();
        assertTrue(h.clean(), h.toString());
        assertEquals(NET.nodes().size(), h.layers().size());
        double scores = 0;
        for (float s : e.scores()) {
            scores += s;
        }
        double relevance = 0;
        for (float r : e.relevance().toArray()) {
            relevance += r;
        }
        HealthReport.Layer top = h.layers().get(0);
        HealthReport.Layer first = h.layers().get(h.layers().size() - 1);
        assertEquals(scores, top.entering(), 1e-4 * Math.abs(scores), h.toString());
        assertEquals(relevance, first.passedDown(), 1e-4 * Math.max(1, Math.abs(relevance)), h.toString());
        // Layer by layer: what one passes down is what the next one down receives (chain network).
        for (int k = 0; k + 1 < h.layers().size(); k++) {
            HealthReport.Layer upper = h.layers().get(k);
            HealthReport.Layer lower = h.layers().get(k + 1);
            assertEquals(upper.passedDown(), lower.entering(), 1e-6 * Math.max(1, Math.abs(upper.passedDown())),
                    upper.node() + " -> " + lower.node());
        }
        assertTrue(h.toString().contains("zbox"), h.toString());
        try (Explainer ex = builder(BackendChoice.CPU).build()) {
            Explanation plain = ex.explain(x, Target.argmax());
            assertArrayEquals(plain.relevance().toArray(), e.relevance().toArray());
            assertThrows(IllegalStateException.class, plain::health);
        }
    }

    @Test
    void reportIsTheSameOnOpenCl() {
        OpenClTestSupport.assumeOpenCl();
        Tensor x = Tensor.ofRows(RandomNets.inputs(5, 90, 30));
        HealthReport cpu;
        HealthReport cl;
        try (Explainer ex = builder(BackendChoice.CPU).healthReport(true).build()) {
            cpu = ex.explain(x, Target.argmax()).health();
        }
        try (Explainer ex = builder(BackendChoice.OPENCL).healthReport(true).build()) {
            cl = ex.explain(x, Target.argmax()).health();
        }
        assertEquals(cpu, cl);
    }

    @Test
    void nonFiniteInputsAreRejectedOrPropagatedAndCounted() {
        float[][] rows = RandomNets.inputs(6, 120, 30);
        rows[77][3] = Float.NaN;
        rows[91][0] = Float.POSITIVE_INFINITY;
        Tensor x = Tensor.ofRows(rows);
        try (Explainer ex = builder(BackendChoice.CPU).build()) {
            InvalidInputException e = assertThrows(InvalidInputException.class, () -> ex.explain(x, Target.argmax()));
            assertTrue(e.getMessage().contains("sample 77") && e.getMessage().contains("feature 3"), e.getMessage());
        }
        try (Explainer ex = builder(BackendChoice.CPU).nonFinite(NonFinitePolicy.PROPAGATE).healthReport(true)
                .build()) {
            Explanation e = ex.explain(x, Target.classIndex(1));
            HealthReport h = e.health();
            assertFalse(h.clean(), h.toString());
            assertTrue(h.input().nan() > 0, h.toString());
            float[] r = e.relevance().toArray();
            // The other samples are untouched by the bad ones: same bits as explaining them alone.
            float[][] good = new float[][] {rows[0], rows[76], rows[119]};
            Explanation alone = ex.explain(Tensor.ofRows(good), Target.classIndex(1));
            float[] a = alone.relevance().toArray();
            for (int f = 0; f < 30; f++) {
                assertEquals(Float.floatToRawIntBits(a[f]), Float.floatToRawIntBits(r[f]));
                assertEquals(Float.floatToRawIntBits(a[60 + f]), Float.floatToRawIntBits(r[119 * 30 + f]));
            }
            assertTrue(Float.isNaN(r[77 * 30 + 3]), "NaN input feature should carry NaN relevance");
        }
    }
}
