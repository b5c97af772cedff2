package org.gpulrp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.gpulrp.composite.Composites;
import org.gpulrp.model.Network;
import org.gpulrp.testing.RandomNets;
import org.junit.jupiter.api.Test;

/** {@link Target#atPositions}: one row of a [positions, width] output per sample, a fixed entry or its arg-max. */
class TargetAtPositionTest {
    @Test
    void resolvesTheArgmaxWithinEachSamplesRow() {
        // Two samples, outputs [3 positions, 4 wide]; sample 0 at row 2, sample 1 at row 0.
        float[] out = {
            9, 0, 0, 0, /**/ 0, 0, 0, 0, /**/ 1, 5, 5, 2,
            0, 3, 7, 1, /**/ 9, 9, 9, 9, /**/ 0, 0, 0, 0};
        Target t = Target.atPositions(4, new int[] {2, 0}, new int[] {-1, -1});
        assertArrayEquals(new int[] {2 * 4 + 1, 2}, t.resolve(out, 2, 12), "first maximum on ties");
        Target fixed = Target.atPositions(4, new int[] {1, 2}, new int[] {3, -1});
        assertArrayEquals(new int[] {1 * 4 + 3, 2 * 4}, fixed.resolve(out, 2, 12));
    }

    @Test
    void checksPositionsTokensAndSizes() {
        assertThrows(InvalidArgumentException.class, () -> Target.atPositions(4, new int[] {0}, new int[] {4}));
        assertThrows(InvalidArgumentException.class, () -> Target.atPositions(4, new int[] {-1}, new int[] {0}));
        assertThrows(InvalidArgumentException.class, () -> Target.atPositions(4, new int[] {0, 1}, new int[] {0}));
        Target t = Target.atPositions(4, new int[] {3}, new int[] {0});
        InvalidArgumentException e = assertThrows(InvalidArgumentException.class, () -> t.resolve(null, 1, 12));
        assertTrue(e.getMessage().contains("position 3, outside 0..2"), e.getMessage());
        assertThrows(InvalidArgumentException.class, () -> Target.atPositions(5, new int[] {0}, new int[] {0})
                .resolve(null, 1, 12));
        assertThrows(InvalidArgumentException.class, () -> t.resolve(null, 2, 12));
    }

    @Test
    void slicesPerSampleAcrossChunksAsOneCallWould() {
        // 7 samples over chunks of 2 rows on two lanes: each chunk must get its own samples' positions.
        Network net = RandomNets.mlp(5, 6, 8, 12);
        Tensor x = Tensor.ofRows(RandomNets.inputs(6, 7, 6));
        int[] positions = {0, 2, 1, 2, 0, 1, 2};
        int[] tokens = {-1, 3, -1, 0, 2, -1, -1};
        Target t = Target.atPositions(4, positions, tokens);
        Explanation whole;
        try (Explainer ex = GpuLrp.explainer(net).composite(Composites.epsilon()).backend(BackendChoice.CPU)
                .cpuThreads(1).build()) {
            whole = ex.explain(x, t);
        }
        Explanation chunked;
        try (Explainer ex = GpuLrp.explainer(net).composite(Composites.epsilon()).backend(BackendChoice.CPU)
                .cpuThreads(1).extraCpuLanes(1).chunkRows(2).build()) {
            chunked = ex.explain(x, t);
        }
        assertArrayEquals(whole.targets(), chunked.targets());
        for (int b = 0; b < 7; b++) {
            int target = whole.targets()[b];
            assertEquals(positions[b], target / 4, "sample " + b);
            float[] row = whole.outputs().row(b);
            if (tokens[b] >= 0) {
                assertEquals(tokens[b], target % 4);
            } else {
                for (int j = 0; j < 4; j++) {
                    assertTrue(row[positions[b] * 4 + j] <= row[target], "arg-max of sample " + b);
                }
            }
        }
        ExplainerSchedulerTest.assertSameBits(whole, chunked, "chunked");
    }
}
