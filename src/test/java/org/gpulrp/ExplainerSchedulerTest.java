package org.gpulrp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.gpulrp.backend.Backend;
import org.gpulrp.backend.cpu.CpuBackend;
import org.gpulrp.backend.opencl.OpenClBackend;
import org.gpulrp.model.Network;
import org.gpulrp.testing.HookedBackend;
import org.gpulrp.testing.OpenClTestSupport;
import org.gpulrp.testing.RandomNets;
import org.junit.jupiter.api.Test;

/** The chunk scheduler: many threads, async calls, several backends, close in flight, chunk sizing. */
class ExplainerSchedulerTest {
    private static final Network NET = RandomNets.mlp(11, 37, 64, 33, 7);

    /** A batch of {@code rows} seeded samples. */
    static Tensor batch(long seed, int rows) {
        return Tensor.ofRows(RandomNets.inputs(seed, rows, NET.inputSize()));
    }

    private static Target randomTarget(SplittableRandom rnd, int rows) {
        return switch (rnd.nextInt(3)) {
            case 0 -> Target.argmax();
            case 1 -> Target.classIndex(rnd.nextInt(NET.outputSize()));
            default -> {
                int[] t = new int[rows];
                for (int b = 0; b < rows; b++) {
                    t[b] = rnd.nextInt(NET.outputSize());
                }
                yield Target.perSample(t);
            }
        };
    }

    /** Same relevance, outputs, targets and scores, bit for bit. */
    static void assertSameBits(Explanation expected, Explanation actual, String what) {
        assertBits(expected.relevance().toArray(), actual.relevance().toArray(), what + " relevance");
        assertBits(expected.outputs().toArray(), actual.outputs().toArray(), what + " outputs");
        assertArrayEquals(expected.targets(), actual.targets(), what + " targets");
        assertBits(expected.scores(), actual.scores(), what + " scores");
        assertArrayEquals(expected.relevance().shape(), actual.relevance().shape(), what + " shape");
    }

    static void assertBits(float[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what + " length");
        for (int k = 0; k < expected.length; k++) {
            if (Float.floatToRawIntBits(expected[k]) != Float.floatToRawIntBits(actual[k])) {
                throw new AssertionError(what + " element " + k + ": " + expected[k] + " vs " + actual[k]);
            }
        }
    }

    @Test
    void concurrentCallsFromManyThreadsGiveTheBitsOfSequentialCalls() throws Exception {
        int threads = 8;
        int calls = 15;
        try (Explainer reference = Explainer.builder(NET).backend(BackendChoice.CPU).cpuThreads(1).build();
             Explainer shared = Explainer.builder(NET).backend(BackendChoice.CPU).cpuThreads(3).chunkRows(4)
                     .build()) {
            assertEquals(3, shared.laneCount());
            ExecutorService pool = Executors.newFixedThreadPool(threads);
            try {
                List<Future<Integer>> fs = new ArrayList<>();
                for (int t = 0; t < threads; t++) {
                    long seed = 100 + t;
                    fs.add(pool.submit(() -> {
                        SplittableRandom rnd = new SplittableRandom(seed);
                        int checked = 0;
                        for (int c = 0; c < calls; c++) {
                            int rows = 1 + rnd.nextInt(30);
                            Tensor x = batch(rnd.nextLong(), rows);
                            Target target = randomTarget(rnd, rows);
                            Explanation got = rnd.nextBoolean() ? shared.explain(x, target)
                                    : shared.explainAsync(x, target).join();
                            assertSameBits(reference.explain(x, target), got, "thread " + seed + " call " + c);
                            checked++;
                        }
                        return checked;
                    }));
                }
                for (Future<Integer> f : fs) {
                    assertEquals(calls, f.get(120, TimeUnit.SECONDS));
                }
            } finally {
                pool.shutdownNow();
            }
        }
    }

    @Test
    void aBatchIsCutIntoEqualChunksAndAsManyPerLane() {
        // 8 rows, passes of at most 3 rows, 2 lanes: 2+2+2+2 (two per lane), not 3+3+2 with one lane idle at the end.
        List<Integer> seen = java.util.Collections.synchronizedList(new ArrayList<>());
        List<Backend> backends = new ArrayList<>();
        for (int k = 0; k < 2; k++) {
            backends.add(new HookedBackend(new CpuBackend(CpuBackend.Kernels.AUTO, 1), NET.inputSize(), seen::add));
        }
        try (Explainer ex = Explainer.builder(NET).backends(backends).chunkRows(3).build()) {
            float[] whole = ex.explain(batch(5, 8), Target.argmax()).relevance().toArray();
            assertEquals(List.of(2, 2, 2, 2), seen.stream().sorted().toList());
            seen.clear();
            ex.explain(batch(5, 7), Target.argmax());
            assertEquals(List.of(1, 2, 2, 2), seen.stream().sorted().toList(), "7 rows: four chunks of 2, 2, 2, 1");
            try (Explainer one = Explainer.builder(NET).backend(BackendChoice.CPU).build()) {
                float[] single = one.explain(batch(5, 8), Target.argmax()).relevance().toArray();
                for (int i = 0; i < whole.length; i++) {
                    assertEquals(Float.floatToRawIntBits(single[i]), Float.floatToRawIntBits(whole[i]), "at " + i);
                }
            }
        } finally {
            backends.forEach(Backend::close);
        }
    }

    @Test
    void smallConcurrentCallsRunOnAllLanesAtOnce() {
        int lanes = 3;
        CountDownLatch together = new CountDownLatch(lanes);
        AtomicInteger met = new AtomicInteger();
        List<Backend> backends = new ArrayList<>();
        for (int k = 0; k < lanes; k++) {
            backends.add(new HookedBackend(new CpuBackend(CpuBackend.Kernels.AUTO, 1), NET.inputSize(), rows -> {
                together.countDown();
                try {
                    // Each one-row call holds its lane until all lanes hold one: only possible when they overlap.
                    if (together.await(20, TimeUnit.SECONDS)) {
                        met.incrementAndGet();
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }));
        }
        try (Explainer ex = Explainer.builder(NET).backends(backends).build()) {
            List<CompletableFuture<Explanation>> fs = new ArrayList<>();
            for (int k = 0; k < lanes; k++) {
                fs.add(ex.explainAsync(batch(k, 1), Target.argmax()));
            }
            fs.forEach(CompletableFuture::join);
            assertEquals(lanes, met.get(), "calls of one row each that ran at the same time");
        } finally {
            backends.forEach(Backend::close);
        }
    }

    @Test
    void aBadSampleFailsTheFutureNamingTheFirstBadSampleOfTheBatch() {
        float[][] x = RandomNets.inputs(5, 50, NET.inputSize());
        x[40][3] = Float.NaN;
        x[13][0] = Float.POSITIVE_INFINITY;
        try (Explainer ex = Explainer.builder(NET).backend(BackendChoice.CPU).cpuThreads(3).chunkRows(4).build()) {
            CompletableFuture<Explanation> f = ex.explainAsync(Tensor.ofRows(x), Target.argmax());
            CompletionException e = assertThrows(CompletionException.class, f::join);
            InvalidInputException bad = assertInstanceOf(InvalidInputException.class, e.getCause());
            assertEquals(13, bad.sample());
            assertEquals(0, bad.feature());
            InvalidInputException sync = assertThrows(InvalidInputException.class,
                    () -> ex.explain(Tensor.ofRows(x), Target.argmax()));
            assertEquals(13, sync.sample());
            // Argument errors arrive through the future too, not as a throw from explainAsync.
            CompletableFuture<Explanation> wrong = ex.explainAsync(batch(1, 2), Target.classIndex(99));
            assertInstanceOf(InvalidArgumentException.class,
                    assertThrows(CompletionException.class, wrong::join).getCause());
            // The explainer still works after failed calls.
            Tensor ok = batch(6, 9);
            assertEquals(9, ex.explain(ok, Target.argmax()).batchSize());
        }
    }

    @Test
    void closeWhileCallsAreInFlightFinishesOrFailsThemAndLeaksNothing() throws Exception {
        runCloseInFlight(List.of());
    }

    @Test
    void closeWhileCallsAreInFlightReleasesEveryDeviceBuffer() throws Exception {
        OpenClBackend cl = OpenClTestSupport.openOrSkip();
        try {
            runCloseInFlight(List.of(cl));
            assertEquals(0, cl.liveBuffers(), "device buffers left after close");
        } finally {
            cl.close();
        }
    }

    /**
     * Every lane is held at its first chunk while 60 calls queue up behind; close() then fails the queued calls,
     * waits for the held chunks, which finish, and releases everything.
     */
    private static void runCloseInFlight(List<Backend> device) throws Exception {
        List<Backend> owned = List.of(new CpuBackend(CpuBackend.Kernels.AUTO, 1),
                new CpuBackend(CpuBackend.Kernels.AUTO, 1));
        List<Backend> raw = new ArrayList<>(device);
        raw.addAll(owned);
        CountDownLatch held = new CountDownLatch(raw.size());
        CountDownLatch release = new CountDownLatch(1);
        List<Backend> lanes = new ArrayList<>();
        for (Backend be : raw) {
            lanes.add(new HookedBackend(be, NET.inputSize(), rows -> {
                if (release.getCount() > 0) {
                    held.countDown();
                    try {
                        release.await(30, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
            }));
        }
        ExecutorService closer = Executors.newSingleThreadExecutor();
        try (Explainer reference = Explainer.builder(NET).backend(BackendChoice.CPU).cpuThreads(1).build()) {
            Explainer ex = Explainer.builder(NET).backends(lanes).chunkRows(3).build();
            List<Tensor> inputs = new ArrayList<>();
            List<CompletableFuture<Explanation>> fs = new ArrayList<>();
            for (int k = 0; k < 60; k++) {
                Tensor x = batch(1000 + k, k < raw.size() ? 1 : 40);
                inputs.add(x);
                fs.add(ex.explainAsync(x, Target.argmax()));
            }
            assertTrue(held.await(30, TimeUnit.SECONDS), "every lane holds a chunk");
            Future<?> closing = closer.submit(ex::close);
            CompletionException queued = assertThrows(CompletionException.class, () -> fs.get(59).join());
            assertInstanceOf(ClosedException.class, queued.getCause());
            assertFalse(closing.isDone(), "close waits for the running chunks");
            release.countDown();
            closing.get(30, TimeUnit.SECONDS);
            int finished = 0;
            for (int k = 0; k < fs.size(); k++) {
                try {
                    assertSameBits(reference.explain(inputs.get(k), Target.argmax()), fs.get(k).join(), "call " + k);
                    finished++;
                } catch (CompletionException e) {
                    assertInstanceOf(ClosedException.class, e.getCause(), "call " + k);
                }
            }
            assertEquals(raw.size(), finished, "the one-row calls held on the lanes finished");
            assertThrows(ClosedException.class, () -> ex.explain(batch(1, 1), Target.argmax()));
            ex.close(); // idempotent
        } finally {
            release.countDown();
            closer.shutdownNow();
            owned.forEach(Backend::close);
        }
    }

    @Test
    void closeFromADependentStageDoesNotDeadlock() throws Exception {
        Explainer ex = Explainer.builder(NET).backend(BackendChoice.CPU).cpuThreads(2).build();
        CompletableFuture<Void> closed = ex.explainAsync(batch(3, 5), Target.argmax()).thenAccept(e -> ex.close());
        closed.get(30, TimeUnit.SECONDS);
        assertThrows(ClosedException.class, () -> ex.explain(batch(1, 1), Target.argmax()));
    }

    @Test
    void cpuAndOpenClLanesSharingABatchGiveTheCpuBits() {
        OpenClBackend cl = OpenClTestSupport.openOrSkip();
        assertTrue(cl.info().exact(), "the test device keeps the contract: " + cl.info());
        CpuBackend c1 = new CpuBackend(CpuBackend.Kernels.AUTO, 1);
        CpuBackend c2 = new CpuBackend(CpuBackend.Kernels.AUTO, 1);
        try (Explainer cpu = Explainer.builder(NET).backend(BackendChoice.CPU).cpuThreads(2).build();
             Explainer mixed = Explainer.builder(NET).backends(List.of(cl, c1, c2)).chunkRows(7).build()) {
            assertEquals(3, mixed.laneCount());
            assertEquals("opencl+cpu", mixed.backend().kind());
            assertTrue(mixed.backend().exact());
            for (int rows : new int[] {1, 20, 101}) {
                Tensor x = batch(rows, rows);
                assertSameBits(cpu.explain(x, Target.argmax()), mixed.explain(x, Target.argmax()), rows + " rows");
            }
        } finally {
            c1.close();
            c2.close();
            cl.close();
        }
    }

    @Test
    void extraCpuLanesBesideTheDeviceGiveTheSameBitsAndAreClosed() {
        OpenClTestSupport.assumeOpenCl();
        Tensor x = batch(77, 64);
        try (Explainer cpu = Explainer.builder(NET).backend(BackendChoice.CPU).cpuThreads(1).build();
             Explainer both = Explainer.builder(NET).backend(BackendChoice.OPENCL).extraCpuLanes(2).chunkRows(5)
                     .build()) {
            assertEquals(3, both.laneCount());
            assertTrue(both.backend().device().contains("2 x cpu"), both.backend().device());
            assertSameBits(cpu.explain(x, Target.argmax()), both.explain(x, Target.argmax()), "device + 2 CPU lanes");
        }
    }

    @Test
    void everyExactOpenClDeviceSharesTheBatch() {
        OpenClTestSupport.assumeOpenCl();
        long exact = OpenClBackend.listDevices().stream().filter(d -> d.exact()).count();
        org.junit.jupiter.api.Assumptions.assumeTrue(exact > 0, "no bit-exact OpenCL device");
        Tensor x = batch(78, 50);
        try (Explainer cpu = Explainer.builder(NET).backend(BackendChoice.CPU).cpuThreads(1).build();
             Explainer all = Explainer.builder(NET).allOpenClDevices().extraCpuLanes(1).chunkRows(6).build()) {
            assertEquals(exact + 1, all.laneCount());
            assertSameBits(cpu.explain(x, Target.argmax()), all.explain(x, Target.argmax()), "every device");
        }
    }

    @Test
    void backendsRefusesEmptyNullAndRepeatedEntries() {
        CpuBackend c = new CpuBackend(CpuBackend.Kernels.AUTO, 1);
        try {
            Explainer.Builder b = Explainer.builder(NET);
            assertThrows(InvalidArgumentException.class, () -> b.backends(List.of()));
            assertThrows(InvalidArgumentException.class, () -> b.backends(java.util.Arrays.asList(c, null)));
            InvalidArgumentException twice = assertThrows(InvalidArgumentException.class,
                    () -> b.backends(List.of(c, c)));
            assertTrue(twice.getMessage().contains("twice"), twice.getMessage());
            assertThrows(InvalidArgumentException.class, () -> b.extraCpuLanes(-1));
        } finally {
            c.close();
        }
    }

    @Test
    void aTinyMemoryBudgetForcesManyChunksWithTheBitsOfOneBigCall() {
        Network wide = RandomNets.mlp(4, 300, 200, 5);
        Tensor x = Tensor.ofRows(RandomNets.inputs(9, 1000, 300));
        try (Explainer big = Explainer.builder(wide).backend(BackendChoice.CPU).cpuThreads(1).chunkRows(1000).build();
             Explainer tiny = Explainer.builder(wide).backend(BackendChoice.CPU).cpuThreads(1).chunkRows(1000)
                     .memoryBudget(1 << 20).build()) {
            assertEquals(1000, big.rowsPerPass(), "the default budget explains the batch in one pass");
            assertTrue(tiny.rowsPerPass() * 10 < 1000, "1 MiB gives passes of " + tiny.rowsPerPass() + " rows");
            assertSameBits(big.explain(x, Target.argmax()), tiny.explain(x, Target.argmax()), "1 MiB budget");
        }
    }

    @Test
    void openClPassesFitTheDeviceAllocationLimit() {
        OpenClBackend cl = OpenClTestSupport.openOrSkip();
        try (Explainer ex = Explainer.builder(NET).backends(List.of(cl)).chunkRows(Integer.MAX_VALUE)
                .memoryBudget(Long.MAX_VALUE).build()) {
            long widest = 64;
            long maxRows = cl.device().maxAllocBytes() / Float.BYTES / widest;
            assertTrue(ex.rowsPerPass() <= maxRows, ex.rowsPerPass() + " rows > " + maxRows);
            long globalRows = (long) (cl.device().globalMemBytes() * 0.5) / Float.BYTES
                    / org.gpulrp.internal.ChunkSizingAccess.floatsPerRow(NET);
            assertTrue(ex.rowsPerPass() <= globalRows, ex.rowsPerPass() + " rows > " + globalRows);
            assertFalse(ex.rowsPerPass() < 1);
        } finally {
            cl.close();
        }
    }
}
