package org.gpulrp.internal;

import java.util.function.IntConsumer;
import java.util.stream.IntStream;

/**
 * Spreads independent units of host work (a sample's attention head, a position's normalization) over the threads
 * of the common fork-join pool. Each unit writes its own outputs and sums in its own fixed order, so results do not
 * depend on how the units are split or how many threads run them (docs/DESIGN.md section 3, rule 7).
 */
final class HostParallel {
    /** Below this much work (multiply-adds or values touched) a loop stays on the calling thread (tests lower it). */
    static volatile long sequentialWork = 1L << 16;
    /** Threads the loops may use; 1 runs every loop on the calling thread (tests compare the two). */
    static volatile int threads = Runtime.getRuntime().availableProcessors();

    private HostParallel() {
    }

    /**
     * Runs {@code body} for every unit {@code 0 .. count - 1}, each exactly once, in parallel where the work
     * ({@code count * workPerUnit}) is worth it; the units are split into contiguous ranges.
     */
    static void forEach(int count, long workPerUnit, IntConsumer body) {
        int t = threads;
        if (t <= 1 || count <= 1 || (long) count * Math.max(1, workPerUnit) < sequentialWork) {
            for (int u = 0; u < count; u++) {
                body.accept(u);
            }
            return;
        }
        int parts = Math.min(count, 4 * t);
        IntStream.range(0, parts).parallel().forEach(p -> {
            int from = (int) ((long) count * p / parts);
            int to = (int) ((long) count * (p + 1) / parts);
            for (int u = from; u < to; u++) {
                body.accept(u);
            }
        });
    }
}
