package org.gpulrp.spark;

import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.SparkEnv;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.SparkSession;

/**
 * How each executor JVM's heap has fared since it started: its limit (-Xmx, from {@code spark.executor.memory}),
 * the peak of its old generation (what stayed live across collections), and the collections so far. Asked with a
 * small job after {@link Throughput} on a cluster, as evidence that executors of that heap explained the batches
 * without running short; an executor that had run out of memory would have died and failed its tasks.
 */
final class ExecutorHeap {
    private static final double MIB = 1024.0 * 1024.0;

    private ExecutorHeap() {
    }

    /** One line per executor that ran one of the probe's tasks. */
    static List<String> collect(SparkSession spark) {
        int tasks = Math.max(8, 4 * spark.sparkContext().defaultParallelism());
        List<String> probes = spark.range(0, tasks, 1, tasks)
                .mapPartitions(new Probe(), Encoders.STRING()).collectAsList();
        // Several probes per executor: keep the latest numbers (the peaks only grow).
        Map<String, String[]> latest = new TreeMap<>();
        for (String p : probes) {
            String[] f = p.split("\t");
            String[] old = latest.get(f[0]);
            if (old == null || Long.parseLong(f[4]) >= Long.parseLong(old[4])) {
                latest.put(f[0], f);
            }
        }
        List<String> lines = new ArrayList<>();
        for (String[] f : latest.values()) {
            lines.add(String.format(Locale.ROOT, "executor %s heap: max %.0f MiB, old generation peak %.0f MiB, "
                            + "%s collections", f[0], Long.parseLong(f[1]) / MIB, Long.parseLong(f[2]) / MIB, f[3]));
        }
        return lines;
    }

    /** {@code executor id, max heap, old generation peak, collections, a sequence number}, tab-separated. */
    static final class Probe implements MapPartitionsFunction<Long, String> {
        private static final long serialVersionUID = 1L;

        @Override
        public Iterator<String> call(Iterator<Long> in) {
            long old = 0;
            for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
                String name = pool.getName().toLowerCase(Locale.ROOT);
                if (pool.getType() == MemoryType.HEAP && (name.contains("old") || name.contains("tenured"))) {
                    old += pool.getPeakUsage().getUsed();
                }
            }
            long collections = 0;
            for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
                collections += Math.max(0, gc.getCollectionCount());
            }
            String id = SparkEnv.get() == null ? "driver" : SparkEnv.get().executorId();
            return List.of(id + "\t" + Runtime.getRuntime().maxMemory() + "\t" + old + "\t" + collections + "\t"
                    + System.nanoTime()).iterator();
        }
    }
}
