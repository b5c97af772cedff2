package org.gpulrp.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.gpulrp.InvalidArgumentException;
import org.gpulrp.backend.Backend;
import org.gpulrp.backend.Buffer;
import org.gpulrp.backend.Op;
import org.gpulrp.model.ConvGeometry;
import org.junit.jupiter.api.Test;

/**
 * Prepared convolution weights on the CPU ({@link CpuBackend#prepareConv}): the calls read the layouts kept with the
 * buffer, give the same bits as unprepared buffers (whose layouts are made per call and not kept), the prepared buffer
 * refuses writes, and closing it drops its layouts.
 */
class PreparedWeightsTest {
    /**
     * Long tap tables (64 x 3 x 3 > ChannelConv.KC: the K-blocked layouts), short ones (both unpadded, so their planes
     * shrink and {@link ConvGemm} leaves them to the channel lanes), no channel lanes, and planes that keep their size
     * ({@link ConvGemm}'s panels).
     */
    private static final ConvGeometry LONG = ConvGeometry.of(64, 6, 9, 64, 3, 1, 0);
    private static final ConvGeometry SHORT = ConvGeometry.of(32, 5, 7, 32, 3, 1, 0);
    private static final ConvGeometry GEMM = ConvGeometry.of(64, 6, 9, 64, 3, 1, 1);
    private static final ConvGeometry FEW = ConvGeometry.of(3, 8, 8, 5, 3, 1, 1);
    private static final int ROWS = 3;

    private static float[] read(Backend be, Buffer b) {
        float[] out = new float[b.length()];
        be.read(b, out, 0, out.length);
        return out;
    }

    private static void assertSameBits(float[] e, float[] a, String what) {
        assertEquals(e.length, a.length, what);
        for (int k = 0; k < e.length; k++) {
            assertEquals(Float.floatToRawIntBits(e[k]), Float.floatToRawIntBits(a[k]), what + " at " + k);
        }
    }

    /** Every conv map that reads packed layouts, through {@code u} (and {@code v}); outputs concatenated. */
    private static float[] all(Backend be, ConvGeometry g, float[] xf, float[] uf, float[] vf, boolean prepare) {
        Buffer x = be.upload(xf);
        Buffer u = be.upload(uf);
        Buffer v = be.upload(vf);
        Buffer hp = be.allocate(ROWS * g.outSize());
        if (prepare) {
            be.prepareConv(Op.CONV, g, u);
            be.prepareConv(Op.CONV_SIGNED, g, u, v);
            be.prepareConv(Op.CONV_SIGNED_P, g, u, v);
            be.prepareConv(Op.CONV_BACKPROJECT, g, u);
            be.prepareConv(Op.CONV_BACKPROJECT_SIGNED, g, u, v);
        }
        Buffer z = be.allocate(ROWS * g.outSize());
        Buffer n = be.allocate(ROWS * g.outSize());
        Buffer p1 = be.allocate(ROWS * g.outSize());
        Buffer r1 = be.allocate(ROWS * g.inSize());
        Buffer r2 = be.allocate(ROWS * g.inSize());
        Buffer r3 = be.allocate(ROWS * g.inSize());
        be.conv(x, u, null, z, ROWS, g);
        be.convSigned(x, u, v, null, null, hp, n, ROWS, g);
        be.convSigned(x, u, v, null, null, p1, null, ROWS, g);
        be.convBackproject(z, u, x, r1, ROWS, g);
        be.convBackprojectSigned(hp, n, u, v, x, r2, ROWS, g);
        be.convBackprojectSigned(hp, null, u, v, x, r3, ROWS, g);
        float[][] parts = {read(be, z), read(be, hp), read(be, n), read(be, p1), read(be, r1), read(be, r2),
            read(be, r3)};
        int len = 0;
        for (float[] p : parts) {
            len += p.length;
        }
        float[] out = new float[len];
        int o = 0;
        for (float[] p : parts) {
            System.arraycopy(p, 0, out, o, p.length);
            o += p.length;
        }
        return out;
    }

    /**
     * Every value of planes of {@code g}'s input size is a zero; for {@link #GEMM}, every value off the planes'
     * borders is, and some border value is not.
     */
    private static void assertZeros(float[] v, ConvGeometry g, String what) {
        int h = g.inH();
        int w = g.inW();
        boolean borderNonZero = false;
        for (int i = 0; i < v.length; i++) {
            int y = i / w % h;
            int x = i % w;
            boolean border = g == GEMM && (y == 0 || y == h - 1 || x == 0 || x == w - 1);
            if (border) {
                borderNonZero |= v[i] != 0f;
            } else {
                assertEquals(0f, Math.abs(v[i]), what + " at " + i);
            }
        }
        assertEquals(g == GEMM, borderNonZero, what + ": border values recomputed");
    }

    @Test
    void preparedAndUnpreparedWeightsGiveTheSameBits() {
        SplittableRandom rnd = new SplittableRandom(11);
        for (ConvGeometry g : new ConvGeometry[] {LONG, SHORT, FEW, GEMM}) {
            float[] x = VectorKernelsTest.data(rnd, ROWS * g.inSize());
            float[] u = VectorKernelsTest.data(rnd, g.weightSize());
            float[] v = VectorKernelsTest.data(rnd, g.weightSize());
            try (CpuBackend prepared = new CpuBackend(CpuBackend.Kernels.VECTOR, 2);
                 CpuBackend plain = new CpuBackend(CpuBackend.Kernels.VECTOR, 2);
                 CpuBackend scalar = new CpuBackend(CpuBackend.Kernels.SCALAR, 1)) {
                float[] e = all(scalar, g, x, u, v, false);
                assertSameBits(e, all(plain, g, x, u, v, false), g + " unprepared");
                assertSameBits(e, all(prepared, g, x, u, v, true), g + " prepared");
                assertSameBits(e, all(scalar, g, x, u, v, true), g + " prepared, scalar kernels");
            }
        }
    }

    @Test
    void callsReadThePreparedLayoutsAndUnpreparedBuffersKeepNone() {
        SplittableRandom rnd = new SplittableRandom(12);
        for (ConvGeometry g : new ConvGeometry[] {LONG, SHORT, GEMM}) {
            try (CpuBackend be = new CpuBackend(CpuBackend.Kernels.VECTOR, 2)) {
                Buffer x = be.upload(VectorKernelsTest.data(rnd, ROWS * g.inSize()));
                Buffer w = be.upload(VectorKernelsTest.data(rnd, g.weightSize()));
                Buffer z = be.allocate(ROWS * g.outSize());
                Buffer r = be.allocate(ROWS * g.inSize());
                be.conv(x, w, null, z, ROWS, g);
                be.convBackproject(z, w, x, r, ROWS, g);
                assertTrue(((CpuBuffer) w).layouts().isEmpty(), "an unprepared buffer keeps no layouts");
                assertFalse(((CpuBuffer) w).sealed());

                be.prepareConv(Op.CONV, g, w);
                be.prepareConv(Op.CONV_BACKPROJECT, g, w);
                // LONG: the forward and backprojection layouts and their K-blocked forms; SHORT: the plain two;
                // GEMM: the products' forward and backprojection panels.
                assertEquals(g == LONG ? 4 : 2, ((CpuBuffer) w).layouts().size(), g.toString());
                // The calls read the kept layouts: zeroed, they give zeros although the weights are not (GEMM:
                // in the interior; a border chain ending as +0 is recomputed from the weights themselves).
                ((CpuBuffer) w).layouts().values().forEach(p -> java.util.Arrays.fill(p, 0f));
                be.conv(x, w, null, z, ROWS, g);
                assertZeros(read(be, z), g, "forward reads the prepared layout");
                be.write(z, VectorKernelsTest.data(rnd, z.length()), 0, z.length());
                be.convBackproject(z, w, x, r, ROWS, g);
                assertZeros(read(be, r), g, "backprojection reads the prepared layout");
            }
        }
    }

    @Test
    void aPreparedBufferIsSealedAndClosingDropsItsLayouts() {
        SplittableRandom rnd = new SplittableRandom(13);
        try (CpuBackend be = new CpuBackend(CpuBackend.Kernels.VECTOR, 2)) {
            float[] wf = VectorKernelsTest.data(rnd, SHORT.weightSize());
            Buffer w = be.upload(wf);
            Buffer other = be.upload(wf);
            be.prepareConv(Op.CONV_SIGNED, SHORT, w, other);
            assertTrue(((CpuBuffer) w).sealed() && ((CpuBuffer) other).sealed(), "both weights are sealed");
            InvalidArgumentException e = assertThrows(InvalidArgumentException.class,
                    () -> be.write(w, wf, 0, wf.length));
            assertTrue(e.getMessage().contains("prepareConv"), e.getMessage());
            assertThrows(InvalidArgumentException.class,
                    () -> be.splitSign(be.upload(wf), w, be.allocate(wf.length), wf.length));
            assertThrows(InvalidArgumentException.class, () -> be.conv(be.upload(new float[ROWS * SHORT.inSize()]),
                    other, null, w, 1, ConvGeometry.of(32, 5, 7, 1, 1, 1, 0)));
            assertFalse(((CpuBuffer) w).layouts().isEmpty());
            w.close();
            assertTrue(((CpuBuffer) w).layouts().isEmpty(), "closing drops the layouts");
        }
    }

    @Test
    void prepareChecksItsArguments() {
        try (CpuBackend be = new CpuBackend(CpuBackend.Kernels.VECTOR, 1)) {
            Buffer w = be.allocate(SHORT.weightSize());
            assertThrows(InvalidArgumentException.class, () -> be.prepareConv(Op.LINEAR, SHORT, w));
            assertThrows(InvalidArgumentException.class, () -> be.prepareConv(Op.CONV_SIGNED, SHORT, w));
            assertThrows(InvalidArgumentException.class, () -> be.prepareConv(Op.CONV, SHORT, (Buffer) null));
            assertThrows(org.gpulrp.ShapeMismatchException.class,
                    () -> be.prepareConv(Op.CONV, LONG, w));
        }
    }

    /**
     * Dense weights prepared with {@link CpuBackend#prepareDense} (packed four-vector strips, read in place) give the
     * bits of unprepared ones (packed per call) and of the scalar kernels, for the forward map and the
     * backprojection, with row and column splits, column tails and few rows; the prepared buffer is sealed.
     */
    @Test
    void preparedDenseWeightsGiveTheSameBits() {
        SplittableRandom r = new SplittableRandom(11);
        // The last: each thread's rows of x exceed VectorKernels.A_IN_L2, so the row blocks take the outer loop.
        int[][] shapes = {{3, 200, 150}, {130, 96, 257}, {5, 64, 64}, {40, 33, 130}, {600, 500, 130}};
        for (int[] sh : shapes) {
            int rows = sh[0];
            int in = sh[1];
            int out = sh[2];
            float[] xf = VectorKernelsTest.data(r, rows * in);
            float[] wtf = VectorKernelsTest.data(r, in * out);
            float[] wf = VectorKernelsTest.data(r, out * in);
            float[] bf = VectorKernelsTest.data(r, out);
            float[] gf = VectorKernelsTest.data(r, rows * out);
            float[][] results = new float[3][];
            int t = 0;
            for (CpuBackend.Kernels kind : new CpuBackend.Kernels[] {CpuBackend.Kernels.SCALAR,
                CpuBackend.Kernels.VECTOR, CpuBackend.Kernels.VECTOR}) {
                boolean prepare = t == 2;
                try (CpuBackend be = new CpuBackend(kind, 2)) {
                    Buffer wt = be.upload(wtf);
                    Buffer w = be.upload(wf);
                    if (prepare) {
                        be.prepareDense(wt, in, out);
                        be.prepareDense(w, out, in);
                        assertThrows(InvalidArgumentException.class, () -> be.write(wt, new float[1], 0, 1));
                    }
                    Buffer x = be.upload(xf);
                    Buffer z = be.allocate(rows * out);
                    Buffer rel = be.allocate(rows * in);
                    be.linear(x, wt, be.upload(bf), z, rows, in, out);
                    be.backproject(be.upload(gf), w, x, rel, rows, out, in);
                    float[] both = new float[rows * (out + in)];
                    be.read(z, both, 0, rows * out);
                    float[] rr = read(be, rel);
                    System.arraycopy(rr, 0, both, rows * out, rr.length);
                    results[t++] = both;
                }
            }
            String what = rows + "x" + in + "x" + out;
            assertSameBits(results[0], results[1], "vector vs scalar " + what);
            assertSameBits(results[1], results[2], "prepared vs unprepared " + what);
        }
    }
}
