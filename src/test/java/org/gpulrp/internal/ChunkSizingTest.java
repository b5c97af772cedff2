package org.gpulrp.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.gpulrp.Explainer;
import org.gpulrp.GpuLrp;
import org.gpulrp.InitialRelevance;
import org.gpulrp.backend.Buffer;
import org.gpulrp.backend.cpu.CpuBackend;
import org.gpulrp.composite.Composites;
import org.gpulrp.model.Activation;
import org.gpulrp.model.Dense;
import org.gpulrp.model.Embedding;
import org.gpulrp.model.Index;
import org.gpulrp.model.LayerNorm;
import org.gpulrp.model.MatMul;
import org.gpulrp.model.Network;
import org.gpulrp.model.Offset;
import org.gpulrp.model.Scale;
import org.gpulrp.model.Slice;
import org.gpulrp.model.Softmax;
import org.gpulrp.testing.DelegatingBackend;
import org.gpulrp.testing.RandomNets;
import org.junit.jupiter.api.Test;

/** Rows per pass from the user's limits and a device's memory limits. */
class ChunkSizingTest {
    private static final Network NET = RandomNets.mlp(1, 100, 250, 10);

    @Test
    void theWidestBufferMustFitOneAllocation() {
        assertEquals(250, ChunkSizing.widestRow(NET));
        ChunkSizing.DeviceLimits d = new ChunkSizing.DeviceLimits(1L << 40, 250L * 4 * 37 + 3, 1);
        assertEquals(37, ChunkSizing.rows(NET, 4096, d));
        assertEquals(20, ChunkSizing.rows(NET, 20, d), "the user's smaller chunkRows wins");
        assertEquals(1, ChunkSizing.rows(NET, 4096, new ChunkSizing.DeviceLimits(1L << 40, 16, 1)),
                "at least one row");
        assertEquals(4096, ChunkSizing.rows(NET, 4096, ChunkSizing.DeviceLimits.NONE));
    }

    /**
     * One BERT-base block (128 tokens, hidden 768, 12 heads, FFN 3072; zero weights: only the shapes matter) and the
     * per-row estimate the engine sizes its passes with: it covers every batch buffer the engine allocates, and the
     * host arrays of the widest host step; twelve such blocks need about 440 MB per row, so the default budget of a
     * 4 GiB heap (a quarter, 1 GiB) explains a batch of 32 in passes of at least two rows. (Measured once: a batch of
     * 32 x 128 tokens through the twelve blocks ran in a 4 GiB heap, 2 CPU cores, in 41 s, using 3.1 GiB.)
     */
    @Test
    void aBertBaseBlockIsCountedWithItsHostArrays() {
        Network net = bertBaseBlock();
        long perRow = Engine.floatsPerRow(net);
        long[] allocated = new long[1];
        try (CpuBackend cpu = new CpuBackend();
             DelegatingBackend counting = new DelegatingBackend(cpu) {
                 @Override
                 public Buffer allocate(int length) {
                     allocated[0] += length;
                     return super.allocate(length);
                 }
             };
             Engine e = new Engine(counting, net, Composites.attnLrp(), InitialRelevance.OUTPUT, 2,
                     Long.MAX_VALUE)) {
            assertEquals(2, e.capacity());
            long host = 2L * (768 * 128 + 3072 * 128);   // the widest step's inputs and output, read and written
            assertTrue(allocated[0] / 2 + host <= perRow, allocated[0] / 2 + " + " + host + " > " + perRow);
            assertTrue(perRow < allocated[0] / 2 * 2, "the estimate is not wildly above: " + perRow);
        }
        // Eleven more blocks add their outputs and relevance (and the estimate's margin), three floats per value.
        long block = 0;
        boolean inBlock = false;
        for (org.gpulrp.model.Node n : net.nodes()) {
            inBlock |= n.name().equals("q");
            block += inBlock ? n.outputSize() : 0;
        }
        long bertBase = perRow + 11 * 3 * block;
        long budget = (4L << 30) / 4 / Float.BYTES;
        assertTrue(bertBase * Float.BYTES < 450L << 20, "per row " + (bertBase * Float.BYTES >> 20) + " MiB");
        assertTrue(budget / bertBase >= 2, "rows per pass " + budget / bertBase);
    }

    /** Word embedding, layer norm, mask path, then one post-norm attention block of BERT-base's shapes. */
    static Network bertBaseBlock() {
        int t = 128;
        int h = 768;
        int heads = 12;
        int d = 64;
        int f = 3072;
        Network.Builder b = Network.builder("bert-base-block", new int[] {2, t});
        b.add("ids", new Slice(0, t), Network.INPUT).add("mask", new Slice(t, t), Network.INPUT);
        b.add("word", new Embedding(t, 100, h, new float[100 * h]), "ids");
        b.add("norm0", new LayerNorm(t, h, null, null, 1e-12f, false), "word");
        b.add("mask1", new Offset(new float[] {-1f}), "mask");
        b.add("maskv", new Scale(new float[] {3.4028235e38f}), "mask1");
        int[] keys = new int[heads * t * t];
        for (int i = 0; i < keys.length; i++) {
            keys[i] = i % t;
        }
        b.add("maskb", new Index(t, keys), "maskv");
        int[] split = new int[t * h];
        int[] splitT = new int[t * h];
        int[] merge = new int[t * h];
        for (int q = 0; q < heads; q++) {
            for (int p = 0; p < t; p++) {
                for (int e = 0; e < d; e++) {
                    split[(q * t + p) * d + e] = p * h + q * d + e;
                    splitT[(q * d + e) * t + p] = p * h + q * d + e;
                    merge[p * h + q * d + e] = (q * t + p) * d + e;
                }
            }
        }
        float[] square = new float[h * h];
        for (String n : new String[] {"q", "k", "v"}) {
            b.add(n, new Dense(t, h, h, square, null), "norm0");
        }
        b.add("qh", new Index(t * h, split), "q").add("kt", new Index(t * h, splitT), "k");
        b.add("vh", new Index(t * h, split), "v");
        b.add("scores", new MatMul(heads, t, d, t), "qh", "kt");
        b.add("scaled", new Scale(new float[] {0.125f}), "scores");
        b.sum("masked", "scaled", "maskb");
        b.add("probs", new Softmax(t), "masked");
        b.add("ctx", new MatMul(heads, t, t, d), "probs", "vh");
        b.add("merged", new Index(t * h, merge), "ctx");
        b.add("o", new Dense(t, h, h, square, null), "merged");
        b.sum("res1", "o", "norm0");
        b.add("ln1", new LayerNorm(t, h, null, null, 1e-12f, false), "res1");
        b.add("up", new Dense(t, h, f, new float[h * f], null), "ln1");
        b.add("gelu", new Activation(Activation.Function.GELU), "up");
        b.add("down", new Dense(t, f, h, new float[h * f], null), "gelu");
        b.sum("res2", "down", "ln1");
        b.add("ln2", new LayerNorm(t, h, null, null, 1e-12f, false), "res2");
        return b.build();
    }

    @Test
    void cpuPassesAreCutToTheCacheUnlessTheUserChose() {
        // NET's widest step is its ReLU, 250 floats in and 250 out: 2,000 bytes a row.
        assertEquals(40, ChunkSizing.cacheRows(NET, 4096, 2000L * 40, 1));
        assertEquals(80, ChunkSizing.cacheRows(NET, 4096, 2000L * 40, 2), "each thread has its own cache");
        assertEquals(ChunkSizing.MIN_CACHE_ROWS, ChunkSizing.cacheRows(NET, 4096, 2000L, 1),
                "dense layers keep enough rows to reuse their weights");
        assertEquals(4096, ChunkSizing.cacheRows(NET, 4096, 1L << 40, 1), "never above chunkRows");
        // NET's whole pass keeps 2 x (100 + 250 + 250 + 10) floats a row, 4,880 bytes: half of 80,000 bytes holds 8
        // rows, but its 27,760 floats of weights, read twice a pass, cost as much as 45 rows' buffers, so the widest
        // step's 40 stand. A net of the sample model's shape with weights of 3.6 KB keeps 856 bytes a row: half of
        // 2 MiB holds 1,224 rows of the whole pass, fewer than the 8,192 rows of its widest step (64 floats).
        Network narrow = RandomNets.mlp(2, 10, 32, 16, 1);
        assertEquals(1224, ChunkSizing.cacheRows(narrow, 65536, 2L << 20, 1), "the whole pass fits half the cache");
        assertEquals(2448, ChunkSizing.cacheRows(narrow, 65536, 2L << 20, 2));
        assertEquals(4096, ChunkSizing.cacheRows(NET, 4096, Long.MAX_VALUE, 2), "devices: as large as allowed");
        try (CpuBackend cpu = new CpuBackend(CpuBackend.Kernels.AUTO, 1);
             DelegatingBackend smallCache = new DelegatingBackend(cpu) {
                 @Override
                 public long passCacheBytes() {
                     return 2000L * 40;
                 }
             }) {
            assertTrue(cpu.passCacheBytes() > 0 && cpu.passCacheBytes() < Long.MAX_VALUE, "the CPU reports its L2");
            assertEquals(40, ChunkSizing.defaultRows(NET, smallCache));
            DelegatingBackend device = new DelegatingBackend(cpu) { // not closed: closing it would close cpu
                @Override
                public long passCacheBytes() {
                    return Long.MAX_VALUE;
                }
            };
            assertEquals(ChunkSizing.DEVICE_ROWS, ChunkSizing.defaultRows(NET, device),
                    "devices take long passes: each launches every kernel once");
            try (Explainer e = GpuLrp.explainer(NET).backend(smallCache).build()) {
                assertEquals(40, e.rowsPerPass());
            }
            try (Explainer e = GpuLrp.explainer(NET).backend(smallCache).chunkRows(4096).build()) {
                assertEquals(4096, e.rowsPerPass(), "the user's choice stands");
            }
        }
    }

    @Test
    void aLargeModelRunsOneCpuLane() {
        // One BERT-base block: 7.08 M dense weights, three layouts of 4 bytes per lane: 85 MB per lane.
        Network block = bertBaseBlock();
        long perLane = 3L * 4 * (4L * 768 * 768 + 2L * 768 * 3072);
        long budget = 1L << 40;
        assertTrue(ChunkSizing.oneCpuLane(block, 2, 4 * (2 * perLane) - 4, budget));
        assertFalse(ChunkSizing.oneCpuLane(block, 2, 4 * (2 * perLane), budget));
        assertFalse(ChunkSizing.oneCpuLane(block, 1, 1, 1), "one thread is one lane anyway");
        assertFalse(ChunkSizing.oneCpuLane(NET, 16, 64L << 20, 64L << 20), "a small model keeps a lane per thread");
    }

    @Test
    void aBudgetThatCutsPassesBelowTheMinimumRunsOneCpuLane() {
        // Large rows, as a large-image network has: 3 x 96 x 96 in, 8 channels of 96 x 96 after the convolution.
        java.util.SplittableRandom r = new java.util.SplittableRandom(3);
        Network.Builder nb = Network.builder("image", 3, 96, 96);
        nb.conv2d("conv", 8, 3, 1, 1, PlusShortcutTest.randn(r, 8 * 3 * 9, 0.3), new float[8]).relu("relu");
        nb.flatten("flat");
        Network image = nb.dense("fc", 2, PlusShortcutTest.randn(r, 2 * 8 * 96 * 96, 0.01), new float[2]).build();
        long enough = 2L * ChunkSizing.MIN_CACHE_ROWS * Float.BYTES * Engine.floatsPerRow(image);
        long heap = 1L << 40;
        assertFalse(ChunkSizing.oneCpuLane(image, 2, heap, enough), "16 rows a lane: a lane per thread");
        assertTrue(ChunkSizing.oneCpuLane(image, 2, heap, enough - 1), "fewer: one lane with both threads");
        assertFalse(ChunkSizing.oneCpuLane(image, 1, heap, 1), "one thread is one lane anyway");
        for (long budget : new long[] {enough - 1, enough}) {
            try (org.gpulrp.Explainer e = org.gpulrp.GpuLrp.explainer(image).backend(org.gpulrp.BackendChoice.CPU)
                    .cpuThreads(2).memoryBudget(budget).build()) {
                assertEquals(budget < enough ? 1 : 2, e.laneCount(), "budget " + budget);
            }
        }
    }

    @Test
    void theBatchBuffersShareAFractionOfGlobalMemoryAfterTheWeights() {
        long perRow = Engine.floatsPerRow(NET);
        long weights = ChunkSizing.weightFloats(NET);
        assertEquals(4 * (100L * 250 + 250 + 250L * 10 + 10), weights);
        long global = 64L << 20;
        long usable = (long) (global * ChunkSizing.GLOBAL_MEMORY_FRACTION) / 4;
        assertEquals(usable - weights, ChunkSizing.budgetFloats(NET, Long.MAX_VALUE,
                new ChunkSizing.DeviceLimits(global, global, 1)));
        assertEquals((usable - 2 * weights) / 2, ChunkSizing.budgetFloats(NET, Long.MAX_VALUE,
                new ChunkSizing.DeviceLimits(global, global, 2)), "two lanes on one device");
        assertEquals(5000, ChunkSizing.budgetFloats(NET, 5000, new ChunkSizing.DeviceLimits(global, global, 1)),
                "the user's smaller budget wins");
        assertEquals(perRow, ChunkSizing.budgetFloats(NET, Long.MAX_VALUE,
                new ChunkSizing.DeviceLimits(1 << 10, 1 << 10, 1)), "one row at the least");
        assertTrue(ChunkSizing.budgetFloats(NET, 123, ChunkSizing.DeviceLimits.NONE) == 123);
    }
}
