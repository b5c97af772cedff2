package org.gpulrp.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.gpulrp.backend.Buffer;
import org.gpulrp.model.ConvGeometry;
import org.junit.jupiter.api.Test;

/**
 * Packed weight layouts are reused only while the weights are unchanged: a weight buffer rewritten by {@code write}
 * or as a primitive's output gives the results of the new weights, bit for bit.
 */
class PacksTest {
    private static final ConvGeometry G = ConvGeometry.of(64, 6, 9, 64, 3, 1, 1);

    private static float[] run(CpuBackend be, Buffer x, Buffer w, int rows) {
        Buffer z = be.allocate(rows * G.outSize());
        Buffer r = be.allocate(rows * G.inSize());
        be.conv(x, w, null, z, rows, G);
        be.convBackproject(z, w, x, r, rows, G);
        float[] out = new float[rows * (G.outSize() + G.inSize())];
        be.read(z, out, 0, rows * G.outSize());
        be.read(r, out, rows * G.outSize(), rows * G.inSize());
        return out;
    }

    private static void assertSameBits(float[] e, float[] a, String what) {
        for (int k = 0; k < e.length; k++) {
            assertEquals(Float.floatToRawIntBits(e[k]), Float.floatToRawIntBits(a[k]), what + " at " + k);
        }
    }

    @Test
    void rewrittenWeightsAreRepacked() {
        SplittableRandom rnd = new SplittableRandom(11);
        int rows = 2;
        float[] x = VectorKernelsTest.data(rnd, rows * G.inSize());
        float[] w1 = VectorKernelsTest.data(rnd, G.weightSize());
        float[] w2 = VectorKernelsTest.data(rnd, G.weightSize());
        try (CpuBackend be = new CpuBackend(CpuBackend.Kernels.VECTOR, 2);
             CpuBackend fresh = new CpuBackend(CpuBackend.Kernels.VECTOR, 2)) {
            Buffer xb = be.upload(x);
            Buffer w = be.upload(w1);
            float[] first = run(be, xb, w, rows);
            assertTrue(Packs.holds(((CpuBuffer) w).data), "the packed layouts are kept after a call");
            assertSameBits(first, run(be, xb, w, rows), "second call, same weights");

            be.write(w, w2, 0, w2.length);
            assertFalse(Packs.holds(((CpuBuffer) w).data), "write drops the packed layouts");
            float[] expected2 = run(fresh, fresh.upload(x), fresh.upload(w2), rows);
            assertSameBits(expected2, run(be, xb, w, rows), "after write");

            // The weight buffer as a primitive's output: the positive part of w1.
            be.splitSign(be.upload(w1), w, be.allocate(G.weightSize()), G.weightSize());
            float[] pos = new float[w1.length];
            for (int k = 0; k < pos.length; k++) {
                pos[k] = w1[k] > 0 ? w1[k] : 0f;
            }
            float[] expected3 = run(fresh, fresh.upload(x), fresh.upload(pos), rows);
            assertSameBits(expected3, run(be, xb, w, rows), "after splitSign into the weights");
        }
    }
}
