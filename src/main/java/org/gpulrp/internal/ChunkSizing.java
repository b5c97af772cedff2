package org.gpulrp.internal;

import org.gpulrp.backend.Backend;
import org.gpulrp.model.Network;
import org.gpulrp.model.Node;

/**
 * Rows per pass for one lane, from what the user allows (rows, bytes) and what the device allows: no batch buffer
 * larger than {@code CL_DEVICE_MAX_MEM_ALLOC_SIZE}, and all of a lane's batch buffers within a safety fraction of
 * {@code CL_DEVICE_GLOBAL_MEM_SIZE} (shared by the lanes on that device) after the weights.
 */
public final class ChunkSizing {
    /** Share of a device's global memory the batch buffers may take; the rest is for weights and the driver. */
    public static final double GLOBAL_MEMORY_FRACTION = 0.5;

    private ChunkSizing() {
    }

    /** The limits of one lane's device; {@code Long.MAX_VALUE} where there is none (the CPU path). */
    public record DeviceLimits(long globalMemBytes, long maxAllocBytes, int lanesSharing) {
        public static final DeviceLimits NONE = new DeviceLimits(Long.MAX_VALUE, Long.MAX_VALUE, 1);
    }

    /** The limits of {@code be}'s device, shared by {@code lanesSharing} lanes. */
    public static DeviceLimits limitsOf(Backend be, int lanesSharing) {
        if (be.globalMemoryBytes() == Long.MAX_VALUE && be.maxAllocationBytes() == Long.MAX_VALUE) {
            return DeviceLimits.NONE;
        }
        return new DeviceLimits(be.globalMemoryBytes(), be.maxAllocationBytes(), lanesSharing);
    }

    /**
     * Fewest rows {@link #cacheRows} cuts a pass to: each dense layer reads its weights once per pass, so passes of a
     * few rows would turn the dense layers into weight streaming.
     */
    public static final int MIN_CACHE_ROWS = 16;

    /**
     * Rows per pass on a backend that works in its threads' caches ({@link Backend#passCacheBytes}, the CPU path)
     * where the user has not chosen, for one thread's share of the pass: as many as keep the largest layer's input and
     * output within that cache, and fewer where the whole pass would not fit in half of it (every output's values and
     * relevance, kept from the forward to the relevance pass) unless its weights are large enough that rows must
     * repay reading them (no fewer rows than make each pass's two reads of the weights cost as much as the rows' own
     * buffers); at least {@link #MIN_CACHE_ROWS}, at most {@code chunkRows}. Speed only: the rows of a batch give the
     * same bits in any pass. The 1x28x28 CNN's passes had been cut by the memory budget alone (364 rows in a 6 GiB
     * heap), so each convolution's 36 MB output went through memory at every step that touched it (forward, ReLU,
     * pooling, normalization); passes of 16 rows keep it in L2. The sample model's passes of 4,096 rows (its widest
     * step, 64 floats a row, allowed 8,192) kept 3.5 MB of values and relevance between the forward and the relevance
     * pass, in L3; passes of 1,213 keep them in L2, 1.09x (docs/DESIGN.md section 4.1).
     */
    public static int cacheRows(Network network, int chunkRows, long cacheBytes, int threads) {
        if (cacheBytes == Long.MAX_VALUE) {
            return chunkRows;
        }
        long widest = network.inputSize();
        long kept = network.inputSize();
        for (Node n : network.nodes()) {
            widest = Math.max(widest, (long) n.inputSize() + n.outputSize());
            kept += n.outputSize();
        }
        long rowBytes = 2L * Float.BYTES * kept;
        long pass = Math.max(cacheBytes / 2 / rowBytes, 2L * Float.BYTES * modelFloats(network) / rowBytes);
        long fit = Math.min(cacheBytes / ((long) Float.BYTES * widest), pass) * Math.max(1, threads);
        return (int) Math.min(chunkRows, Math.max(MIN_CACHE_ROWS, fit));
    }

    /** Rows per pass asked of a CPU lane where the user has not chosen, before {@link #cacheRows} cuts them. */
    public static final int CPU_ROWS = 4096;

    /**
     * Rows per pass asked of a device where the user has not chosen (then lowered to its memory limits and the
     * budget): each pass launches every kernel of the network once, and on PoCL a launch costs tens of microseconds,
     * so the sample model's 65536-row batch ran 1.6x faster in one pass than in sixteen of 4096.
     */
    public static final int DEVICE_ROWS = 65536;

    /** The rows per pass a lane on {@code be} asks for where the user has not chosen. */
    public static int defaultRows(Network network, Backend be) {
        return be.passCacheBytes() == Long.MAX_VALUE ? DEVICE_ROWS
                : cacheRows(network, CPU_ROWS, be.passCacheBytes(), be.rowParallelism());
    }

    /** The widest per-row batch buffer the engine allocates, in floats. */
    public static long widestRow(Network network) {
        long w = network.inputSize();
        for (Node n : network.nodes()) {
            w = Math.max(w, n.outputSize());
        }
        return w;
    }

    /**
     * Whether the CPU path should run one lane with {@code threads} threads rather than one lane per thread. Speed and
     * memory only: the bits are the same. One lane where
     * <ul>
     *   <li>each lane's own dense weights in three layouts (w, its transpose, the prepared strips) would, once per
     *   thread, take more than a quarter of the heap; or</li>
     *   <li>the memory budget ({@code budgetBytes}, shared by the lanes) would give a lane per thread passes of fewer
     *   than {@link #MIN_CACHE_ROWS} rows: a large-image network's batch then runs as passes of a few images per
     *   thread, each lane reading its own copy of the weights, where one lane takes passes twice as large, reads one
     *   copy, and splits each layer's pixels over its threads (VGG-16 at batch 8: two lanes of 2 + 2 images against
     *   one lane of 6 + 2; Epsilon 2,510-2,568 ms against 2,188-2,211, benchmarks/RESULTS.md 2026-12-08; BERT-base
     *   and ViT-B/16 the same either way, ResNet-50 2.5 % slower).</li>
     * </ul>
     */
    public static boolean oneCpuLane(Network network, int threads, long maxHeapBytes, long budgetBytes) {
        if (threads <= 1) {
            return false;
        }
        long dense = 0;
        for (Node n : network.nodes()) {
            if (n.layer() instanceof org.gpulrp.model.Dense d) {
                dense += (long) d.in() * d.out();
            }
        }
        long rowsPerLane = budgetBytes / Float.BYTES / threads / Engine.floatsPerRow(network);
        return 3 * dense * Float.BYTES * threads > maxHeapBytes / 4 || rowsPerLane < MIN_CACHE_ROWS;
    }

    /** Floats of weights, counted four times (a rule keeps up to three variants beside the original). */
    static long weightFloats(Network network) {
        return 4 * modelFloats(network);
    }

    /** Floats of the dense and convolution layers' weights and biases, as the model holds them. */
    private static long modelFloats(Network network) {
        long f = 0;
        for (Node n : network.nodes()) {
            if (n.layer() instanceof org.gpulrp.model.Dense d) {
                f += (long) d.in() * d.out() + d.out();
            } else if (n.layer() instanceof org.gpulrp.model.Conv2d c) {
                f += (long) c.geometry().weightSize() + c.geometry().outChannels();
            }
        }
        return f;
    }

    /**
     * The rows per pass asked of one lane's engine: the user's {@code chunkRows}, lowered so the widest batch
     * buffer fits one device allocation (at least one row).
     */
    public static int rows(Network network, int chunkRows, DeviceLimits limits) {
        long perAlloc = limits.maxAllocBytes() / Float.BYTES / widestRow(network);
        return (int) Math.max(1, Math.min(chunkRows, perAlloc));
    }

    /**
     * The floats one lane's batch buffers may take: the user's per-lane budget, lowered to the lane's share of the
     * device's global memory fraction after the weights (at least one row's worth, so a pass always fits).
     */
    public static long budgetFloats(Network network, long userBudgetFloats, DeviceLimits limits) {
        if (limits.globalMemBytes() == Long.MAX_VALUE) {
            return Math.max(1, userBudgetFloats);
        }
        long usable = (long) (limits.globalMemBytes() * GLOBAL_MEMORY_FRACTION) / Float.BYTES
                - weightFloats(network) * limits.lanesSharing();
        long device = usable / Math.max(1, limits.lanesSharing());
        return Math.max(Engine.floatsPerRow(network), Math.min(userBudgetFloats, device));
    }
}
