package org.gpulrp.spark;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.gpulrp.BackendChoice;
import org.gpulrp.Explainer;
import org.gpulrp.GpuLrp;
import org.gpulrp.InitialRelevance;
import org.gpulrp.composite.Presets;
import org.gpulrp.model.Network;

/**
 * One prepared {@link Explainer} per executor JVM and configuration, shared by every task and partition that runs
 * there (weights stay on the device between tasks). Keyed by the model file's identity (location, size,
 * modification time), the rules, the initial relevance, the backend and the device; closed at JVM shutdown.
 */
public final class ExplainerCache {
    /** What makes two prepared explainers interchangeable. */
    record Key(String model, String composite, String rule, InitialRelevance init, BackendChoice backend,
               String device, int chunkRows, int cpuThreads) {
    }

    /** A prepared explainer with the network it explains. */
    record Prepared(Network network, Explainer explainer) {
    }

    private static final Map<Key, Prepared> CACHE = new ConcurrentHashMap<>();
    private static final AtomicLong PREPARED = new AtomicLong();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(ExplainerCache::clear, "gpulrp-explainer-cache-close"));
    }

    private ExplainerCache() {
    }

    /** The explainer for this task's configuration, prepared on first use in this JVM. */
    static Prepared get(LrpConfig c, HadoopFiles files) {
        ModelSource.Found found = ModelSource.find(c.model(), files);
        String device = DeviceChoice.pick(c);
        Key k = new Key(found.identity(), c.composite(), c.rule(), c.initialRelevance(), c.backend(), device,
                c.chunkRows(), c.cpuThreads());
        // computeIfAbsent: concurrent tasks of one executor wait for one preparation instead of racing.
        return CACHE.computeIfAbsent(k, key -> prepare(c, found, files, device));
    }

    private static Prepared prepare(LrpConfig c, ModelSource.Found found, HadoopFiles files, String device) {
        Network net = ModelSource.load(found, files);
        Explainer.Builder b = GpuLrp.explainer(net).initialRelevance(c.initialRelevance()).backend(c.backend());
        if (c.rule() != null) {
            b.rule(Presets.rule(c.rule()));
        } else if (c.composite() != null) {
            b.composite(Presets.composite(c.composite()));
        }
        if (device != null) {
            b.device(device);
        }
        if (c.chunkRows() > 0) {
            b.chunkRows(c.chunkRows());
        }
        if (c.cpuThreads() > 0) {
            b.cpuThreads(c.cpuThreads());
        }
        Explainer ex = b.build();
        PREPARED.incrementAndGet();
        System.err.println("gpulrp-spark: prepared " + net.name() + " on " + ex.backend().kind() + " ["
                + ex.backend().device() + "]" + (ex.backend().exact() ? "" : " (NOT bit-exact)"));
        return new Prepared(net, ex);
    }

    /** How many explainers this JVM has prepared so far (for checking that executors reuse them). */
    public static long preparations() {
        return PREPARED.get();
    }

    /** How many prepared explainers this JVM holds now. */
    public static int size() {
        return CACHE.size();
    }

    /** Closes and forgets every prepared explainer (a driver that runs local jobs may call it between them). */
    public static void clear() {
        for (Key k : CACHE.keySet()) {
            Prepared p = CACHE.remove(k);
            if (p != null) {
                p.explainer().close();
            }
        }
    }
}
