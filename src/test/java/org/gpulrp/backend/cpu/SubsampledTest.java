package org.gpulrp.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.gpulrp.backend.Buffer;
import org.gpulrp.backend.Op;
import org.gpulrp.backend.StrideGrid;
import org.gpulrp.model.ConvGeometry;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

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

    @ParameterizedTest(name = "C={0} H={1} W={2} OC={3} s={4}x{5} groups={6} rows={7} threads={8} prepared={9}")
    @CsvSource({
        "64, 56, 56, 128, 2, 2, 1, 2, 2, true",
        "64, 13, 29, 80, 2, 2, 1, 3, 2, false",
        "96, 15, 22, 64, 3, 2, 1, 2, 3, true",
        "64, 9, 40, 64, 1, 2, 1, 1, 2, false",
        "128, 14, 14, 96, 2, 2, 2, 2, 2, true",
        "64, 8, 8, 32, 2, 2, 1, 5, 1, false",
    })
    void sameBitsAsTheScalarKernels(int c, int h, int w, int oc, int sh, int sw, int groups, int rows, int threads,
                                    boolean prepared) {
        ConvGeometry g = new ConvGeometry(c, h, w, oc, 1, 1, sh, sw, 0, 0, 1, 1, groups);
        assertNotNull(StrideGrid.of(g));
        SplittableRandom r = new SplittableRandom(c * 131L + h * 7L + w);
        float[] x = VectorKernelsTest.data(r, rows * g.inSize());
        for (int i = 0; i < x.length; i += 7) {
            x[i] = i % 2 == 0 ? -0f : -Math.abs(x[i]); // negative and -0 inputs off the grid give -0 or +0
        }
        float[] wt = VectorKernelsTest.data(r, g.weightSize());
        float[] bias = VectorKernelsTest.data(r, oc);
        float[] gr = VectorKernelsTest.data(r, rows * g.outSize());
        try (CpuBackend scalar = new CpuBackend(CpuBackend.Kernels.SCALAR, 1);
             CpuBackend vector = new CpuBackend(CpuBackend.Kernels.VECTOR, threads)) {
            float[][] expect = run(scalar, g, rows, x, wt, bias, gr, false);
            float[][] actual = run(vector, g, rows, x, wt, bias, gr, prepared);
            String[] what = {"conv", "convBackproject with x", "convBackproject without x"};
            for (int k = 0; k < what.length; k++) {
                for (int i = 0; i < expect[k].length; i++) {
                    if (Float.floatToRawIntBits(expect[k][i]) != Float.floatToRawIntBits(actual[k][i])) {
                        throw new AssertionError(what[k] + " " + g + " at " + i + ": " + actual[k][i]
                                + " instead of " + expect[k][i]);
                    }
                }
            }
        }
    }

    private static float[][] run(CpuBackend be, ConvGeometry g, int rows, float[] x, float[] wt, float[] bias,
                                 float[] gr, boolean prepared) {
        Buffer xb = be.upload(x);
        Buffer wb = be.upload(wt);
        if (prepared) {
            be.prepareConv(Op.CONV, g, wb);
            be.prepareConv(Op.CONV_BACKPROJECT, g, wb);
        }
        Buffer zb = be.allocate(rows * g.outSize());
        Buffer rb = be.allocate(rows * g.inSize());
        Buffer cb = be.allocate(rows * g.inSize());
        be.conv(xb, wb, be.upload(bias), zb, rows, g);
        be.convBackproject(be.upload(gr), wb, xb, rb, rows, g);
        be.convBackproject(be.upload(gr), wb, null, cb, rows, g);
        float[][] out = {new float[rows * g.outSize()], new float[rows * g.inSize()], new float[rows * g.inSize()]};
        be.read(zb, out[0], 0, out[0].length);
        be.read(rb, out[1], 0, out[1].length);
        be.read(cb, out[2], 0, out[2].length);
        return out;
    }
}
