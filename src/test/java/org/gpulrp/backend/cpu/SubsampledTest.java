package org.gpulrp.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.gpulrp.backend.ConvCases;
import org.gpulrp.backend.StrideGrid;
import org.gpulrp.model.ConvGeometry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Strided 1x1 layers without padding run as the stride-1 layer on their stride grid ({@link Subsampled}): the same
 * bits as the scalar kernels, forward and backward, with and without x, prepared or not, on one thread and several;
 * inputs off the grid get {@code x * +0} (so -0 where x is negative).
 */
class SubsampledTest {

    @Test
    void onlyUnpaddedStrided1x1LayersRunOnTheGrid() {
        ConvGeometry g = new ConvGeometry(64, 56, 56, 128, 1, 1, 2, 2, 0, 0, 1, 1, 1);
        ConvGeometry grid = StrideGrid.of(g);
        assertNotNull(grid);
        assertEquals(new ConvGeometry(64, 28, 28, 128, 1, 1, 1, 1, 0, 0, 1, 1, 1), grid);
        assertTrue(ConvGemm.applies(grid, false) && ConvGemm.applies(grid, true), "the grid runs the products");
        assertNull(StrideGrid.of(new ConvGeometry(64, 56, 56, 128, 1, 1, 1, 1, 0, 0, 1, 1, 1)), "stride 1");
        assertNull(StrideGrid.of(new ConvGeometry(64, 56, 56, 128, 1, 1, 2, 2, 1, 1, 1, 1, 1)), "padded");
        assertNull(StrideGrid.of(new ConvGeometry(64, 56, 56, 128, 3, 3, 2, 2, 1, 1, 1, 1, 1)), "3x3");
    }

    /** Every stride-grid case on one to three threads, prepared or not. */
    static List<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        List<ConvCases.Conv> cs = ConvCases.strideGrid();
        for (int i = 0; i < cs.size(); i++) {
            out.add(Arguments.of(cs.get(i), 1 + (i + 1) % 3, i % 2 == 0));
        }
        return out;
    }

    @ParameterizedTest(name = "{0} threads={1} prepared={2}")
    @MethodSource("cases")
    void sameBitsAsTheScalarKernels(ConvCases.Conv c, int threads, boolean prepared) {
        assertNotNull(StrideGrid.of(c.g()));
        float[][] data = ConvCases.strideGridData(c);
        try (CpuBackend scalar = new CpuBackend(CpuBackend.Kernels.SCALAR, 1);
             CpuBackend vector = new CpuBackend(CpuBackend.Kernels.VECTOR, threads)) {
            ConvCases.assertSamePlainMaps(ConvCases.plainMaps(scalar, c, data, false),
                    ConvCases.plainMaps(vector, c, data, prepared), c.toString());
        }
    }
}
