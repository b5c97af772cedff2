package org.gpulrp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.gpulrp.composite.Composites;
import org.gpulrp.model.Network;
import org.gpulrp.testing.RandomNets;
import org.junit.jupiter.api.Test;

/** {@link Explainer#explain(Tensor, Target, Explanation)}: the same bits, into the earlier call's arrays. */
class ExplainReuseTest {
    private static final Network NET = RandomNets.mlp(21, 19, 40, 23, 6);

    private static Explainer cpu(boolean keepLayers) {
        return GpuLrp.explainer(NET).composite(Composites.epsilonPlusFlat()).backend(BackendChoice.CPU)
                .chunkRows(8).keepLayerRelevances(keepLayers).build();
    }

    private static Tensor batch(long seed, int rows) {
        return Tensor.ofRows(RandomNets.inputs(seed, rows, NET.inputSize()));
    }

    /** {@link ExplainerSchedulerTest#assertSameBits}, and the conservation of every sample. */
    private static void assertSameBits(Explanation a, Explanation b) {
        ExplainerSchedulerTest.assertSameBits(a, b, "reused arrays");
        for (int s = 0; s < a.batchSize(); s++) {
            assertEquals(a.conservation(s), b.conservation(s), "conservation of sample " + s);
        }
    }

    @Test
    void reusedArraysGiveTheSameBitsAndSpendTheEarlierExplanation() {
        try (Explainer e = cpu(false)) {
            Tensor x0 = batch(1, 37);
            Tensor x1 = batch(2, 37);
            Explanation fresh = e.explain(x1, Target.argmax());
            Explanation first = e.explain(x0, Target.argmax());
            Tensor firstRelevance = first.relevance();
            float[] before = firstRelevance.toArray();
            Explanation second = e.explain(x1, Target.argmax(), first);
            assertSameBits(fresh, second);
            // the earlier explanation's arrays now hold the new call: a tensor taken before shows it
            assertNotEquals(java.util.Arrays.toString(before), java.util.Arrays.toString(firstRelevance.toArray()));
            ExplainerSchedulerTest.assertBits(second.relevance().toArray(), firstRelevance.toArray(), "old tensor");
            for (Runnable read : new Runnable[] {first::relevance, first::outputs, first::targets, first::scores,
                () -> first.conservation(0)}) {
                IllegalStateException ex = assertThrows(IllegalStateException.class, read::run);
                assertTrue(ex.getMessage().contains("reused"), ex.getMessage());
            }
            assertEquals(37, first.batchSize());
            // a chain of calls, each reusing the last one's arrays
            Explanation last = second;
            for (int k = 3; k < 7; k++) {
                Tensor x = batch(k, 37);
                Explanation next = e.explain(x, Target.argmax(), last);
                assertSameBits(e.explain(x, Target.argmax()), next);
                last = next;
            }
        }
    }

    @Test
    void anExplanationIsReusedOnce() {
        try (Explainer e = cpu(false)) {
            Explanation first = e.explain(batch(1, 12), Target.argmax());
            e.explain(batch(2, 12), Target.argmax(), first);
            IllegalStateException ex = assertThrows(IllegalStateException.class,
                    () -> e.explain(batch(3, 12), Target.argmax(), first));
            assertTrue(ex.getMessage().contains("already reused"), ex.getMessage());
        }
    }

    @Test
    void arraysThatDoNotFitAreLeftAlone() {
        try (Explainer e = cpu(true)) {
            Explanation small = e.explain(batch(1, 12), Target.argmax());
            float[] kept = small.relevance().toArray();
            Tensor x = batch(2, 13);
            Explanation other = e.explain(x, Target.argmax(), small);
            assertSameBits(e.explain(x, Target.argmax()), other);
            ExplainerSchedulerTest.assertBits(kept, small.relevance().toArray(), "a batch of another size took them");
            assertSameBits(e.explain(x, Target.argmax()), e.explain(x, Target.argmax(), null));
            // layer relevances are new arrays every call, reused or not
            Explanation reused = e.explain(batch(4, 13), Target.argmax(), other);
            assertEquals(other.layerRelevances().keySet(), reused.layerRelevances().keySet());
        }
    }

    @Test
    void aFailedCallStillSpendsTheExplanation() {
        try (Explainer e = cpu(false)) {
            Explanation first = e.explain(batch(1, 20), Target.argmax());
            float[][] bad = RandomNets.inputs(3, 20, NET.inputSize());
            bad[17][2] = Float.NaN;
            InvalidInputException ex = assertThrows(InvalidInputException.class,
                    () -> e.explain(Tensor.ofRows(bad), Target.argmax(), first));
            assertEquals(17, ex.sample());
            assertThrows(IllegalStateException.class, first::relevance);
            // the explainer goes on working
            Tensor x = batch(5, 20);
            assertSameBits(e.explain(x, Target.argmax()), e.explain(x, Target.argmax()));
        }
    }
}
