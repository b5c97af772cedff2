package org.gpulrp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.gpulrp.model.Network;
import org.gpulrp.testing.RandomNets;
import org.junit.jupiter.api.Test;

/** Streaming: results in order, at most {@code window} batches in flight, errors naming the stream position. */
class ExplainStreamTest {
    private static final Network NET = RandomNets.mlp(11, 37, 64, 33, 7);

    /** A source of seeded batches that counts how many were pulled. */
    private static final class CountingSource implements Iterator<Tensor> {
        final List<Tensor> items;
        int pulled;

        CountingSource(List<Tensor> items) {
            this.items = items;
        }

        @Override
        public boolean hasNext() {
            return pulled < items.size();
        }

        @Override
        public Tensor next() {
            return items.get(pulled++);
        }
    }

    private static List<Tensor> batches(long seed, int count) {
        SplittableRandom rnd = new SplittableRandom(seed);
        List<Tensor> out = new ArrayList<>();
        for (int k = 0; k < count; k++) {
            out.add(ExplainerSchedulerTest.batch(rnd.nextLong(), 1 + rnd.nextInt(12)));
        }
        return out;
    }

    @Test
    void resultsComeInOrderWithBoundedInFlightAndBackPressure() {
        List<Tensor> items = batches(3, 40);
        int window = 3;
        try (Explainer ex = Explainer.builder(NET).backend(BackendChoice.CPU).cpuThreads(2).chunkRows(4).build()) {
            CountingSource src = new CountingSource(items);
            Iterator<Explanation> it = ex.explainStream(src, Target.argmax(), window);
            assertEquals(0, src.pulled, "nothing is pulled before the consumer asks");
            int taken = 0;
            while (it.hasNext()) {
                Explanation e = it.next();
                // Pulled only as slots free: the batch just taken plus at most window - 1 behind it.
                assertTrue(src.pulled - taken <= window, "in flight " + (src.pulled - taken) + " > " + window);
                assertEquals(Math.min(items.size(), taken + window), src.pulled, "the window is kept full");
                ExplainerSchedulerTest.assertSameBits(ex.explain(items.get(taken), Target.argmax()), e,
                        "stream batch " + taken);
                taken++;
            }
            assertEquals(items.size(), taken);
            assertThrows(java.util.NoSuchElementException.class, it::next);
        }
    }

    @Test
    void theStreamFormKeepsOrderToo() {
        List<Tensor> items = batches(4, 25);
        try (Explainer ex = Explainer.builder(NET).backend(BackendChoice.CPU).cpuThreads(3).build()) {
            List<Explanation> got = ex.explainStream(items.stream(), Target.classIndex(2), 4)
                    .collect(Collectors.toList());
            assertEquals(items.size(), got.size());
            IntStream.range(0, items.size()).forEach(k -> ExplainerSchedulerTest.assertSameBits(
                    ex.explain(items.get(k), Target.classIndex(2)), got.get(k), "batch " + k));
        }
    }

    @Test
    void aBadSampleMidStreamNamesItsPositionInTheStream() {
        List<Tensor> items = new ArrayList<>();
        for (int k = 0; k < 10; k++) {
            float[][] x = RandomNets.inputs(k, 3, NET.inputSize());
            if (k == 5) {
                x[2][4] = Float.NaN;
            }
            items.add(Tensor.ofRows(x));
        }
        try (Explainer ex = Explainer.builder(NET).backend(BackendChoice.CPU).cpuThreads(2).build()) {
            Iterator<Explanation> it = ex.explainStream(items.iterator(), Target.argmax(), 2);
            for (int k = 0; k < 5; k++) {
                assertEquals(3, it.next().batchSize(), "batch " + k + " before the bad one");
            }
            InvalidInputException e = assertThrows(InvalidInputException.class, it::next);
            assertTrue(e.getMessage().contains("stream batch 5"), e.getMessage());
            assertTrue(e.getMessage().contains("sample 17 of the stream"), e.getMessage());
            assertEquals(2, e.sample(), "index in its batch");
            assertEquals(4, e.feature());
            assertFalse(it.hasNext(), "the stream stops at its first error");
        }
    }

    @Test
    void aBatchOfTheWrongShapeNamesItsPosition() {
        List<Tensor> items = new ArrayList<>(batches(5, 3));
        items.add(1, Tensor.ofRows(new float[][] {{1f, 2f}}));
        try (Explainer ex = Explainer.builder(NET).backend(BackendChoice.CPU).cpuThreads(1).build()) {
            Iterator<Explanation> it = ex.explainStream(items.iterator(), Target.argmax(), 3);
            it.next();
            LrpException e = assertThrows(LrpException.class, it::next);
            assertTrue(e.getMessage().startsWith("stream batch 1"), e.getMessage());
            assertTrue(e.getCause() instanceof ShapeMismatchException, String.valueOf(e.getCause()));
        }
    }

    @Test
    void badArgumentsAreRefused() {
        try (Explainer ex = Explainer.builder(NET).backend(BackendChoice.CPU).cpuThreads(1).build()) {
            assertThrows(InvalidArgumentException.class,
                    () -> ex.explainStream(List.<Tensor>of().iterator(), Target.argmax(), 0));
            assertThrows(InvalidArgumentException.class,
                    () -> ex.explainStream((Iterator<Tensor>) null, Target.argmax(), 1));
            assertFalse(ex.explainStream(List.<Tensor>of().iterator(), Target.argmax(), 1).hasNext());
        }
    }
}
