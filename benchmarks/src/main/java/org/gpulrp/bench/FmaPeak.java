package org.gpulrp.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The machine's FMA ceiling, measured in the same run as the cases it is the bar for (machines of one kind differ
 * by 2x; /work/shared DESIGN section 5): 12 independent {@code FloatVector.fma} chains per thread on the preferred
 * species, one thread per core, the best of a few timed rounds after a warm-up. Reported in GFLOP/s (2 per lane per
 * FMA).
 */
final class FmaPeak {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int CHAINS = 12;

    private FmaPeak() {
    }

    /** One thread's kernel: {@code iterations} rounds of 12 FMAs; returns a value so the JIT keeps the work. */
    static float kernel(long iterations, float seed) {
        FloatVector a = FloatVector.broadcast(S, 0.999999f);
        FloatVector b = FloatVector.broadcast(S, 1e-7f);
        FloatVector c0 = FloatVector.broadcast(S, seed);
        FloatVector c1 = c0.add(1f);
        FloatVector c2 = c0.add(2f);
        FloatVector c3 = c0.add(3f);
        FloatVector c4 = c0.add(4f);
        FloatVector c5 = c0.add(5f);
        FloatVector c6 = c0.add(6f);
        FloatVector c7 = c0.add(7f);
        FloatVector c8 = c0.add(8f);
        FloatVector c9 = c0.add(9f);
        FloatVector c10 = c0.add(10f);
        FloatVector c11 = c0.add(11f);
        for (long i = 0; i < iterations; i++) {
            c0 = c0.fma(a, b);
            c1 = c1.fma(a, b);
            c2 = c2.fma(a, b);
            c3 = c3.fma(a, b);
            c4 = c4.fma(a, b);
            c5 = c5.fma(a, b);
            c6 = c6.fma(a, b);
            c7 = c7.fma(a, b);
            c8 = c8.fma(a, b);
            c9 = c9.fma(a, b);
            c10 = c10.fma(a, b);
            c11 = c11.fma(a, b);
        }
        return c0.add(c1).add(c2).add(c3).add(c4).add(c5).add(c6).add(c7).add(c8).add(c9).add(c10).add(c11)
                .reduceLanes(jdk.incubator.vector.VectorOperators.ADD);
    }

    /** GFLOP/s on {@code threads} threads: the best of five rounds of about 0.3 s each, after a warm-up. */
    static double measure(int threads) {
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            long iterations = 20_000_000L;
            double best = 0;
            for (int round = 0; round < 7; round++) {
                List<Callable<Float>> work = new ArrayList<>();
                for (int t = 0; t < threads; t++) {
                    float seed = t;
                    work.add(() -> kernel(iterations, seed));
                }
                long t0 = System.nanoTime();
                float sink = 0;
                for (Future<Float> f : pool.invokeAll(work)) {
                    sink += f.get();
                }
                double s = (System.nanoTime() - t0) / 1e9;
                if (round >= 2 && !Float.isNaN(sink)) {
                    best = Math.max(best, threads * iterations * CHAINS * S.length() * 2.0 / s / 1e9);
                }
            }
            return best;
        } catch (Exception e) {
            throw new IllegalStateException("FMA peak measurement failed", e);
        } finally {
            pool.shutdownNow();
        }
    }

    public static void main(String[] args) {
        int n = Runtime.getRuntime().availableProcessors();
        System.out.printf(java.util.Locale.ROOT, "FMA peak: %.0f GFLOP/s on %d threads (%d-lane %s), %.0f on one%n",
                measure(n), n, S.length(), S, measure(1));
    }
}
