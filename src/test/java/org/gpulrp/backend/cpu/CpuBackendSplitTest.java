package org.gpulrp.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;
import org.gpulrp.backend.Buffer;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The CPU backend's thread splits: a pass of few rows splits the plain maps by column ranges, a pass of many rows
 * by rows; either way every bit equals one thread's result.
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
            for (int i = 0; i < z[0].length; i++) {
                assertEquals(Float.floatToRawIntBits(z[0][i]), Float.floatToRawIntBits(z[1][i]), "linear at " + i);
            }
            for (int i = 0; i < back[0].length; i++) {
                assertEquals(Float.floatToRawIntBits(back[0][i]), Float.floatToRawIntBits(back[1][i]),
                        "backproject at " + i);
            }
        }
    }
}
