package org.gpulrp.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import org.gpulrp.BackendChoice;
import org.gpulrp.Explainer;
import org.gpulrp.Explanation;
import org.gpulrp.GpuLrp;
import org.gpulrp.Target;
import org.gpulrp.Tensor;
import org.gpulrp.backend.opencl.OpenClBackend;
import org.gpulrp.composite.Composites;
import org.gpulrp.model.Network;
import org.gpulrp.testing.OpenClTestSupport;
import org.gpulrp.testing.RandomNets;
import org.junit.jupiter.api.Test;

/**
 * Many threads explain through one prepared model (OpenCL device plus CPU lanes) for a sustained run, with
 * synchronous, async and streaming calls of random sizes: every result is bit-identical to a sequential run, device
 * memory objects stay constant, the heap stays flat, nothing deadlocks. Runs {@code gpulrp.soak.seconds} (default 15;
 * e.g. {@code mvn test -Dtest=SoakTest -Dgpulrp.soak.seconds=600} for a long soak).
 */
class SoakTest {
    private static final int THREADS = 8;
    private static final int POOL = 2000;
    private static final int FEATURES = 40;

    @Test
    void manyThreadsOneModel() {
        OpenClTestSupport.assumeOpenCl();
        long seconds = Long.getLong("gpulrp.soak.seconds", 15);
        Network net = RandomNets.mlp(31, FEATURES, 96, 64, 10);
        float[][] pool = RandomNets.inputs(32, POOL, FEATURES);
        int[] classes = new int[POOL];
        for (int k = 0; k < POOL; k++) {
            classes[k] = k % 10;
        }
        float[] refArgmax;
        float[] refClass;
        try (Explainer seq = GpuLrp.explainer(net).composite(Composites.epsilonPlus()).backend(BackendChoice.CPU)
                .cpuThreads(1).build()) {
            refArgmax = seq.explain(pool, Target.argmax()).relevance().toArray();
            refClass = seq.explain(pool, Target.perSample(classes)).relevance().toArray();
        }
        MemoryMXBean mem = ManagementFactory.getMemoryMXBean();
        AtomicLong calls = new AtomicLong();
        AtomicLong samples = new AtomicLong();
        try (Explainer shared = GpuLrp.explainer(net).composite(Composites.epsilonPlus())
                .backend(BackendChoice.OPENCL).extraCpuLanes(2).chunkRows(128).build()) {
            int liveAtStart = OpenClBackend.liveMemObjects();
            long deadline = System.nanoTime() + seconds * 1_000_000_000L;
            long[] heap = new long[2];
            assertTimeoutPreemptively(Duration.ofSeconds(seconds + 120), () -> {
                ExecutorService threads = Executors.newFixedThreadPool(THREADS);
                List<Future<?>> fs = new ArrayList<>();
                for (int t = 0; t < THREADS; t++) {
                    long seed = 100 + t;
                    fs.add(threads.submit(() -> {
                        SplittableRandom r = new SplittableRandom(seed);
                        while (System.nanoTime() < deadline) {
                            int n = 1 + r.nextInt(r.nextBoolean() ? 8 : 300);
                            int first = r.nextInt(POOL - n + 1);
                            float[][] rows = Arrays.copyOfRange(pool, first, first + n);
                            boolean byClass = r.nextBoolean();
                            Target target = byClass ? Target.perSample(Arrays.copyOfRange(classes, first, first + n))
                                    : Target.argmax();
                            float[] ref = byClass ? refClass : refArgmax;
                            int mode = r.nextInt(3);
                            if (mode == 0) {
                                check(shared.explain(rows, target), ref, first);
                            } else if (mode == 1) {
                                check(shared.explainAsync(Tensor.ofRows(rows), target).join(), ref, first);
                            } else {
                                int half = n / 2;
                                List<Tensor> parts = new ArrayList<>();
                                if (half > 0) {
                                    parts.add(Tensor.ofRows(Arrays.copyOfRange(rows, 0, half)));
                                }
                                parts.add(Tensor.ofRows(Arrays.copyOfRange(rows, half, n)));
                                Iterator<Explanation> it = shared.explainStream(parts.iterator(),
                                        (s0, m) -> byClass ? Target.perSample(Arrays.copyOfRange(classes,
                                                first + (int) s0, first + (int) s0 + m)) : Target.argmax(), 2);
                                int at = first;
                                while (it.hasNext()) {
                                    Explanation e = it.next();
                                    check(e, ref, at);
                                    at += e.batchSize();
                                }
                            }
                            calls.incrementAndGet();
                            samples.addAndGet(n);
                            assertEquals(liveAtStart, OpenClBackend.liveMemObjects(), "device memory objects grew");
                        }
                        return null;
                    }));
                }
                // The heap after a collection, a quarter in and at the end: it must not keep growing.
                Thread.sleep(seconds * 250);
                heap[0] = usedAfterGc(mem);
                for (Future<?> f : fs) {
                    f.get();
                }
                heap[1] = usedAfterGc(mem);
                threads.shutdown();
            });
            System.out.printf("[gpulrp soak] %d s, %d threads, %d calls, %d samples, heap after GC %d -> %d MiB,"
                    + " OpenCL memory objects %d constant%n", seconds, THREADS, calls.get(), samples.get(),
                    heap[0] >> 20, heap[1] >> 20, liveAtStart);
            assertTrue(calls.get() > THREADS, "too few calls: " + calls.get());
            assertTrue(heap[1] - heap[0] < 64L << 20, "heap grew " + ((heap[1] - heap[0]) >> 20) + " MiB");
        }
    }

    private static long usedAfterGc(MemoryMXBean mem) {
        System.gc();
        return mem.getHeapMemoryUsage().getUsed();
    }

    private static void check(Explanation e, float[] ref, int first) {
        float[] got = e.relevance().toArray();
        for (int k = 0; k < got.length; k++) {
            if (Float.floatToRawIntBits(got[k]) != Float.floatToRawIntBits(ref[first * FEATURES + k])) {
                throw new AssertionError("row " + (first + k / FEATURES) + " feature " + (k % FEATURES)
                        + " differs from the sequential run: " + got[k] + " vs " + ref[first * FEATURES + k]);
            }
        }
    }
}
