package org.gpulrp.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.gpulrp.model.Network;
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
