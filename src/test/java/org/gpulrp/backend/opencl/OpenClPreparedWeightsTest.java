package org.gpulrp.backend.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.Random;
import org.gpulrp.InvalidArgumentException;
import org.gpulrp.backend.Backend;
import org.gpulrp.backend.Buffer;
import org.gpulrp.backend.Op;
import org.gpulrp.backend.cpu.CpuBackend;
import org.gpulrp.model.ConvGeometry;
import org.gpulrp.testing.OpenClTestSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Prepared convolution weights on OpenCL ({@link OpenClBackend#prepareConv}): where a VECTOR conv kernel runs, the
 * weights are arranged once per combination and kept on the device with them; calls read that copy, give the same bits
 * as unprepared buffers (arranged per call, nothing kept) and as the CPU; prepared buffers refuse writes, and closing
 * one releases the copies it is part of.
 */
class OpenClPreparedWeightsTest {
    private static final ConvGeometry G = ConvGeometry.of(32, 5, 7, 48, 3, 1, 1);
    private static final int ROWS = 2;
    private static OpenClBackend tableTuned;
    private static OpenClBackend vector;
    /** VECTOR without the products: the plain maps read channel lanes too. */
    private static OpenClBackend lanes;

    @BeforeAll
    static void open() {
        tableTuned = OpenClTestSupport.openOrSkip();
        vector = OpenClBackend.open(null, Map.of("conv.variant", "vector", "conv.vec.min", "1"));
        lanes = OpenClBackend.open(null, Map.of("conv.variant", "vector", "conv.vec.min", "1",
                "conv.mm.rows.min", "100000"));
    }

    @AfterAll
    static void close() {
        for (OpenClBackend be : new OpenClBackend[] {tableTuned, vector, lanes}) {
            if (be != null) {
                be.close();
            }
        }
    }

    /** Every conv map, its weights prepared as the explainer prepares them (or not); outputs in order. */
    private static float[][] all(Backend be, float[] xf, float[] uf, float[] vf, boolean prepare) {
        Buffer x = be.upload(xf);
        Buffer u = be.upload(uf);
        Buffer v = be.upload(vf);
        Buffer lo = be.upload(new float[G.inSize()]);
        float[] ones = new float[G.inSize()];
        java.util.Arrays.fill(ones, 1f);
        Buffer hi = be.upload(ones);
        if (prepare) {
            be.prepareConv(Op.CONV, G, u);
            be.prepareConv(Op.CONV_SIGNED, G, u, v);
            be.prepareConv(Op.CONV_SIGNED_P, G, u, v);
            be.prepareConv(Op.CONV_ZBOX, G, u);
            be.prepareConv(Op.CONV_BACKPROJECT, G, u);
            be.prepareConv(Op.CONV_BACKPROJECT_SIGNED, G, u, v);
            be.prepareConv(Op.CONV_BACKPROJECT_ZBOX, G, u, u, v);
        }
        int out = ROWS * G.outSize();
        int in = ROWS * G.inSize();
        Buffer z = be.allocate(out);
        Buffer p = be.allocate(out);
        Buffer n = be.allocate(out);
        Buffer p1 = be.allocate(out);
        Buffer d = be.allocate(out);
        Buffer r1 = be.allocate(in);
        Buffer r2 = be.allocate(in);
        Buffer r3 = be.allocate(in);
        Buffer r4 = be.allocate(in);
        be.conv(x, u, null, z, ROWS, G);
        be.convSigned(x, u, v, null, null, p, n, ROWS, G);
        be.convSigned(x, u, v, null, null, p1, null, ROWS, G);
        be.convZBox(x, u, lo, hi, d, ROWS, G);
        be.convBackproject(z, u, x, r1, ROWS, G);
        be.convBackprojectSigned(p, n, u, v, x, r2, ROWS, G);
        be.convBackprojectSigned(p, null, u, v, x, r3, ROWS, G);
        be.convBackprojectZBox(z, u, u, v, x, lo, hi, r4, ROWS, G);
        return new float[][] {ClTestData.read(be, z), ClTestData.read(be, p), ClTestData.read(be, n), ClTestData.read(be, p1), ClTestData.read(be, d), ClTestData.read(be, r1),
            ClTestData.read(be, r2), ClTestData.read(be, r3), ClTestData.read(be, r4)};
    }

    @Test
    void preparedAndUnpreparedWeightsGiveTheCpuBits() {
        Random rnd = new Random(21);
        float[] x = ClTestData.data(rnd, ROWS * G.inSize());
        float[] u = ClTestData.data(rnd, G.weightSize());
        float[] v = ClTestData.data(rnd, G.weightSize());
        float[][] e;
        try (CpuBackend scalar = new CpuBackend(CpuBackend.Kernels.SCALAR, 1)) {
            e = all(scalar, x, u, v, false);
        }
        for (OpenClBackend be : new OpenClBackend[] {tableTuned, vector, lanes}) {
            for (boolean prepare : new boolean[] {false, true}) {
                float[][] a = all(be, x, u, v, prepare);
                ClTestData.assertSameBits(be + (prepare ? " prepared" : " unprepared"), e, a);
            }
        }
    }

    @Test
    void callsReadTheArrangedCopyAndUnpreparedBuffersKeepNone() {
        Random rnd = new Random(22);
        Buffer x = vector.upload(ClTestData.data(rnd, ROWS * G.inSize()));
        Buffer w = vector.upload(ClTestData.data(rnd, G.weightSize()));
        Buffer z = vector.allocate(ROWS * G.outSize());
        Buffer r = vector.allocate(ROWS * G.inSize());
        vector.conv(x, w, null, z, ROWS, G);
        vector.convBackproject(z, w, x, r, ROWS, G);
        assertEquals(0, vector.arrangedCopies(w), "an unprepared buffer keeps no arranged copy");

        vector.prepareConv(Op.CONV, G, w);
        vector.prepareConv(Op.CONV, G, w);
        vector.prepareConv(Op.CONV_ZBOX, G, w);
        vector.prepareConv(Op.CONV_BACKPROJECT, G, w);
        assertEquals("conv_fwd_mm", vector.convKernel(Op.CONV, G));
        assertEquals(3, vector.arrangedCopies(w), "one copy per direction and arrangement: the plain maps' products "
                + "read row panels, ZBox channel lanes");
        try (Buffer wl = lanes.upload(ClTestData.read(vector, w))) {
            lanes.prepareConv(Op.CONV, G, wl);
            lanes.prepareConv(Op.CONV_ZBOX, G, wl); // the same arrangement as CONV's there
            assertEquals(1, lanes.arrangedCopies(wl));
        }
        vector.fillArranged(w, 0f);
        vector.conv(x, w, null, z, ROWS, G);
        for (float f : ClTestData.read(vector, z)) {
            assertEquals(0f, Math.abs(f), "the forward map reads the arranged copy");
        }
        vector.write(z, ClTestData.data(rnd, z.length()), 0, z.length());
        vector.convBackproject(z, w, x, r, ROWS, G);
        for (float f : ClTestData.read(vector, r)) {
            assertEquals(0f, Math.abs(f), "the backprojection reads the arranged copy");
        }
        x.close();
        w.close();
        z.close();
        r.close();
    }

    @Test
    void preparedBuffersAreSealedAndClosingReleasesTheirCopies() {
        Random rnd = new Random(23);
        int live = vector.liveBuffers();
        float[] wf = ClTestData.data(rnd, G.weightSize());
        Buffer u = vector.upload(wf);
        Buffer v = vector.upload(wf);
        vector.prepareConv(Op.CONV_BACKPROJECT_SIGNED, G, u, v);
        assertEquals(1, vector.arrangedCopies(u));
        assertEquals(1, vector.arrangedCopies(v), "the pair's copy is kept by both");
        InvalidArgumentException e = assertThrows(InvalidArgumentException.class,
                () -> vector.write(v, wf, 0, wf.length));
        assertTrue(e.getMessage().contains("prepareConv"), e.getMessage());
        assertThrows(InvalidArgumentException.class,
                () -> vector.splitSign(vector.upload(wf), u, vector.allocate(wf.length), wf.length));
        assertTrue(u.toString().contains("sealed"), u.toString());
        v.close();
        assertEquals(0, vector.arrangedCopies(u), "closing either weight releases the pair's copy");
        u.close();
        // The buffers made for the splitSign call above stay open (2); every weight buffer is gone.
        assertEquals(live + 2, vector.liveBuffers());
        // Not arranged where no VECTOR kernel runs: still sealed.
        try (OpenClBackend simple = OpenClBackend.open(null, Map.of("conv.variant", "simple"))) {
            Buffer w = simple.upload(wf);
            simple.prepareConv(Op.CONV, G, w);
            assertEquals(0, simple.arrangedCopies(w));
            assertThrows(InvalidArgumentException.class, () -> simple.write(w, wf, 0, wf.length));
        }
    }
}
