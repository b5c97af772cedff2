package org.gpulrp.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;
import org.gpulrp.backend.Buffer;
import org.gpulrp.model.ConvGeometry;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The CPU backend's thread splits: a pass of few rows splits the plain maps by column ranges, a pass of many rows
 * by rows, and the convolutions that run as products ({@link ConvGemm}) by ranges of the batch's pixels; either way
 * every bit equals one thread's result.
 */
class CpuBackendSplitTest {

    @ParameterizedTest(name = "rows={0} in={1} out={2} threads={3}")
    @CsvSource({"1, 300, 700, 2", "3, 520, 200, 2", "7, 257, 1000, 3", "2, 2000, 130, 4", "9, 300, 300, 2",
        "5, 64, 65, 2", "8, 300, 600, 2", "13, 200, 520, 2", "20, 130, 1100, 3"})
    void splitsGiveTheSameBitsAsOneThread(int rows, int in, int out, int threads) {
        SplittableRandom r = new SplittableRandom(rows * 31L + in);
        float[] x = VectorKernelsTest.data(r, rows * in);
        float[] wt = VectorKernelsTest.data(r, in * out);
        float[] bias = VectorKernelsTest.data(r, out);
        float[] g = VectorKernelsTest.data(r, rows * out);
        try (CpuBackend one = new CpuBackend(CpuBackend.Kernels.AUTO, 1);
             CpuBackend many = new CpuBackend(CpuBackend.Kernels.AUTO, threads)) {
            float[][] z = new float[2][];
            float[][] back = new float[2][];
            int k = 0;
            for (CpuBackend be : new CpuBackend[] {one, many}) {
                Buffer xb = be.upload(x);
                Buffer wb = be.upload(wt);
                Buffer zb = be.allocate(rows * out);
                Buffer rb = be.allocate(rows * in);
                be.linear(xb, wb, be.upload(bias), zb, rows, in, out);
                be.backproject(be.upload(g), wb, xb, rb, rows, out, in);
                z[k] = new float[rows * out];
                back[k] = new float[rows * in];
                be.read(zb, z[k], 0, rows * out);
                be.read(rb, back[k], 0, rows * in);
                k++;
            }
            assertSameBits(z[0], z[1], "linear");
            assertSameBits(back[0], back[1], "backproject");
        }
    }

    /**
     * Plain convolutions whose planes keep their size split by pixel ranges, whatever the rows: one image over two
     * and three threads, three images over two (ranges that cut a plane), against the scalar kernels on one thread.
     */
    @ParameterizedTest(name = "C={0} H={1} W={2} OC={3} rows={4} threads={5}")
    @CsvSource({"64, 9, 13, 64, 1, 2", "32, 14, 14, 64, 3, 2", "48, 7, 30, 40, 1, 3", "16, 28, 28, 32, 2, 2"})
    void convolutionsSplitByPixelsGiveTheSameBitsAsOneThread(int c, int h, int w, int oc, int rows, int threads) {
        ConvGeometry g = ConvGeometry.of(c, h, w, oc, 3, 1, 1);
        SplittableRandom r = new SplittableRandom(c * 31L + h);
        float[] x = VectorKernelsTest.data(r, rows * g.inSize());
        float[] wt = VectorKernelsTest.data(r, g.weightSize());
        float[] bias = VectorKernelsTest.data(r, oc);
        float[] gr = VectorKernelsTest.data(r, rows * g.outSize());
        try (CpuBackend one = new CpuBackend(CpuBackend.Kernels.SCALAR, 1);
             CpuBackend many = new CpuBackend(CpuBackend.Kernels.AUTO, threads)) {
            float[][] z = new float[2][rows * g.outSize()];
            float[][] back = new float[2][rows * g.inSize()];
            int k = 0;
            for (CpuBackend be : new CpuBackend[] {one, many}) {
                Buffer xb = be.upload(x);
                Buffer wb = be.upload(wt);
                Buffer zb = be.allocate(rows * g.outSize());
                Buffer rb = be.allocate(rows * g.inSize());
                be.conv(xb, wb, be.upload(bias), zb, rows, g);
                be.convBackproject(be.upload(gr), wb, xb, rb, rows, g);
                be.read(zb, z[k], 0, z[k].length);
                be.read(rb, back[k], 0, back[k].length);
                k++;
            }
            assertSameBits(z[0], z[1], "conv");
            assertSameBits(back[0], back[1], "convBackproject");
        }
    }

    private static void assertSameBits(float[] e, float[] a, String what) {
        for (int i = 0; i < e.length; i++) {
            assertEquals(Float.floatToRawIntBits(e[i]), Float.floatToRawIntBits(a[i]), what + " at " + i);
        }
    }
}
