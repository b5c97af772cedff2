package org.gpulrp.backend.opencl;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.Map;
import java.util.SplittableRandom;
import org.gpulrp.backend.Backend;
import org.gpulrp.backend.Buffer;
import org.gpulrp.backend.Op;
import org.gpulrp.backend.StrideGrid;
import org.gpulrp.backend.cpu.CpuBackend;
import org.gpulrp.model.ConvGeometry;
import org.gpulrp.testing.OpenClTestSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Strided 1x1 layers on OpenCL ({@link StrideGrid}: gathered to their grid, the stride-1 products, the backprojection's
 * chains scattered): the same bits as the CPU's scalar kernels, forward and backward, with and without x, prepared or
 * not; inputs off the grid get {@code x * +0} (so -0 where x is negative). Also where the products do not take the
 * grid (their row minimum raised), so the strided kernels run.
 */
class OpenClStrideGridTest {
    private static OpenClBackend products;
    private static OpenClBackend noProducts;

    @BeforeAll
    static void open() {
        products = OpenClTestSupport.openOrSkip();
        noProducts = OpenClBackend.open(null, Map.of("conv.mm.rows.min", "100000"));
    }

    @AfterAll
    static void close() {
        for (OpenClBackend be : new OpenClBackend[] {products, noProducts}) {
            if (be != null) {
                be.close();
            }
        }
    }

    @ParameterizedTest(name = "C={0} H={1} W={2} OC={3} s={4}x{5} groups={6} rows={7} prepared={8}")
    @CsvSource({
        "64, 56, 56, 128, 2, 2, 1, 2, true",
        "64, 13, 29, 80, 2, 2, 1, 3, false",
        "96, 15, 22, 64, 3, 2, 1, 2, true",
        "64, 9, 40, 64, 1, 2, 1, 1, false",
        "128, 14, 14, 96, 2, 2, 2, 2, true",
    })
    void sameBitsAsTheScalarKernels(int c, int h, int w, int oc, int sh, int sw, int groups, int rows,
                                    boolean prepared) {
        ConvGeometry g = new ConvGeometry(c, h, w, oc, 1, 1, sh, sw, 0, 0, 1, 1, groups);
        assertNotNull(StrideGrid.of(g));
        assertNotNull(products.launches().grid(Op.CONV, g), "the products take the grid: " + g);
        assertNull(noProducts.launches().grid(Op.CONV, g));
        SplittableRandom r = new SplittableRandom(c * 131L + h * 7L + w);
        float[] x = data(r, rows * g.inSize());
        for (int i = 0; i < x.length; i += 7) {
            x[i] = i % 2 == 0 ? -0f : -Math.abs(x[i]);
        }
        float[] wt = data(r, g.weightSize());
        float[] bias = data(r, oc);
        float[] gr = data(r, rows * g.outSize());
        try (CpuBackend scalar = new CpuBackend(CpuBackend.Kernels.SCALAR, 1)) {
            float[][] expect = run(scalar, g, rows, x, wt, bias, gr, false);
            for (OpenClBackend be : new OpenClBackend[] {products, noProducts}) {
                float[][] actual = run(be, g, rows, x, wt, bias, gr, prepared);
                String[] what = {"conv", "convBackproject with x", "convBackproject without x"};
                for (int k = 0; k < what.length; k++) {
                    for (int i = 0; i < expect[k].length; i++) {
                        if (Float.floatToRawIntBits(expect[k][i]) != Float.floatToRawIntBits(actual[k][i])) {
                            throw new AssertionError(what[k] + " " + g + (be == products ? "" : " (no products)")
                                    + " at " + i + ": " + actual[k][i] + " instead of " + expect[k][i]);
                        }
                    }
                }
            }
        }
    }

    private static float[] data(SplittableRandom r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (r.nextDouble() * 2 - 1);
        }
        return a;
    }

    private static float[][] run(Backend be, ConvGeometry g, int rows, float[] x, float[] wt, float[] bias,
                                 float[] gr, boolean prepared) {
        Buffer wb = be.upload(wt);
        if (prepared) {
            be.prepareConv(Op.CONV, g, wb);
            be.prepareConv(Op.CONV_BACKPROJECT, g, wb);
        }
        float[][] out = {new float[rows * g.outSize()], new float[rows * g.inSize()], new float[rows * g.inSize()]};
        try (Buffer xb = be.upload(x); Buffer bb = be.upload(bias); Buffer gb = be.upload(gr);
             Buffer zb = be.allocate(out[0].length); Buffer rb = be.allocate(out[1].length);
             Buffer cb = be.allocate(out[2].length)) {
            be.conv(xb, wb, bb, zb, rows, g);
            be.convBackproject(gb, wb, xb, rb, rows, g);
            be.convBackproject(gb, wb, null, cb, rows, g);
            be.read(zb, out[0], 0, out[0].length);
            be.read(rb, out[1], 0, out[1].length);
            be.read(cb, out[2], 0, out[2].length);
        } finally {
            wb.close();
        }
        return out;
    }
}
