package org.gpulrp.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.gpulrp.InvalidArgumentException;
import org.gpulrp.ShapeMismatchException;
import org.gpulrp.backend.cpu.CpuBackend;
import org.gpulrp.backend.opencl.OpenClBackend;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.gpulrp.model.ConvGeometry;
import org.gpulrp.model.PoolGeometry;

/**
 * The convolution and pooling primitives against float64 formulas written here from PyTorch's definitions: conv
 * forward (a gather), backprojection (a scatter, the other way round), the adjoint identity between the two, max
 * pooling's first-maximum rule and the order of routed sums; plus argument errors. CPU backends always; OpenCL too
 * where this machine has it (its bits are compared to the CPU's in OpenClConvBitIdentityTest).
 */
class ConvReferenceTest {

    private static final List<Backend> BACKENDS = new ArrayList<>();

    @BeforeAll
    static void open() {
        BACKENDS.add(new CpuBackend(CpuBackend.Kernels.SCALAR, 1));
        BACKENDS.add(new CpuBackend());
        if (OpenClBackend.isAvailable()) {
            BACKENDS.add(OpenClBackend.open());
        }
    }

    @AfterAll
    static void close() {
        BACKENDS.forEach(Backend::close);
        BACKENDS.clear();
    }

    private static String name(Backend be) {
        return be.info().kind() + " (" + be.info().device() + ")";
    }

    private static float[] gauss(SplittableRandom r, int n) {
        float[] a = new float[n];
        for (int k = 0; k < n; k++) {
            a[k] = (float) r.nextGaussian();
        }
        return a;
    }

    private static float[] call(Backend be, float[] x, float[] w, float[] bias, int rows, ConvGeometry g,
                                boolean forward) {
        try (Buffer xb = be.upload(x); Buffer wb = be.upload(w); Buffer bb = bias == null ? null : be.upload(bias);
             Buffer out = be.allocate(rows * (forward ? g.outSize() : g.inSize()))) {
            if (forward) {
                be.conv(xb, wb, bb, out, rows, g);
            } else {
                be.convBackproject(xb, wb, null, out, rows, g);
            }
            float[] o = new float[out.length()];
            be.read(out, o, 0, o.length);
            return o;
        }
    }

    /** z and sum |terms| per output, in float64, gathering over PyTorch's definition of Conv2d. */
    private static double[][] forward64(float[] x, float[] w, float[] bias, int rows, ConvGeometry g) {
        int oh = g.outH();
        int ow = g.outW();
        int cin = g.inChannels() / g.groups();
        double[] z = new double[rows * g.outSize()];
        double[] mag = new double[z.length];
        for (int b = 0; b < rows; b++) {
            for (int oc = 0; oc < g.outChannels(); oc++) {
                int grp = oc / (g.outChannels() / g.groups());
                for (int y = 0; y < oh; y++) {
                    for (int q = 0; q < ow; q++) {
                        double s = bias == null ? 0 : bias[oc];
                        double m = Math.abs(s);
                        for (int cl = 0; cl < cin; cl++) {
                            for (int i = 0; i < g.kernelH(); i++) {
                                for (int j = 0; j < g.kernelW(); j++) {
                                    int ih = y * g.strideH() - g.padH() + i * g.dilationH();
                                    int iw = q * g.strideW() - g.padW() + j * g.dilationW();
                                    if (ih >= 0 && ih < g.inH() && iw >= 0 && iw < g.inW()) {
                                        int ci = grp * cin + cl;
                                        double t = (double) x[((b * g.inChannels() + ci) * g.inH() + ih) * g.inW() + iw]
                                                * w[((oc * cin + cl) * g.kernelH() + i) * g.kernelW() + j];
                                        s += t;
                                        m += Math.abs(t);
                                    }
                                }
                            }
                        }
                        int o = ((b * g.outChannels() + oc) * oh + y) * ow + q;
                        z[o] = s;
                        mag[o] = m;
                    }
                }
            }
        }
        return new double[][] {z, mag};
    }

    /** c and sum |terms| per input, in float64, scattering every output's signal along its taps. */
    private static double[][] backward64(float[] gr, float[] w, int rows, ConvGeometry g) {
        int oh = g.outH();
        int ow = g.outW();
        int cin = g.inChannels() / g.groups();
        double[] c = new double[rows * g.inSize()];
        double[] mag = new double[c.length];
        for (int b = 0; b < rows; b++) {
            for (int oc = 0; oc < g.outChannels(); oc++) {
                int grp = oc / (g.outChannels() / g.groups());
                for (int y = 0; y < oh; y++) {
                    for (int q = 0; q < ow; q++) {
                        double gv = gr[((b * g.outChannels() + oc) * oh + y) * ow + q];
                        for (int cl = 0; cl < cin; cl++) {
                            for (int i = 0; i < g.kernelH(); i++) {
                                for (int j = 0; j < g.kernelW(); j++) {
                                    int ih = y * g.strideH() - g.padH() + i * g.dilationH();
                                    int iw = q * g.strideW() - g.padW() + j * g.dilationW();
                                    if (ih >= 0 && ih < g.inH() && iw >= 0 && iw < g.inW()) {
                                        int e = ((b * g.inChannels() + grp * cin + cl) * g.inH() + ih) * g.inW() + iw;
                                        double t = gv * w[((oc * cin + cl) * g.kernelH() + i) * g.kernelW() + j];
                                        c[e] += t;
                                        mag[e] += Math.abs(t);
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return new double[][] {c, mag};
    }

    private static void assertClose(String what, double[][] ref, float[] got, double rel) {
        for (int k = 0; k < ref[0].length; k++) {
            double tol = rel * Math.max(ref[1][k], 1e-30);
            if (!(Math.abs(got[k] - ref[0][k]) <= tol)) {
                throw new AssertionError(what + " at " + k + ": " + got[k] + " vs float64 " + ref[0][k]);
            }
        }
    }

    @Test
    void forwardAndBackprojectionMatchFloat64() {
        for (ConvCases.Conv c : ConvCases.conv()) {
            ConvGeometry g = c.g();
            int rows = c.rows();
            SplittableRandom r = new SplittableRandom(g.hashCode() + 7L);
            float[] x = gauss(r, rows * g.inSize());
            float[] w = gauss(r, g.weightSize());
            float[] bias = gauss(r, g.outChannels());
            float[] gr = gauss(r, rows * g.outSize());
            double[][] zRef = forward64(x, w, bias, rows, g);
            double[][] cRef = backward64(gr, w, rows, g);
            for (Backend be : BACKENDS) {
                String name = name(be) + " " + c;
                assertClose("conv " + name, zRef, call(be, x, w, bias, rows, g, true), 1e-5);
                assertClose("convBackproject " + name, cRef, call(be, gr, w, null, rows, g, false), 1e-5);
            }
        }
    }

    @Test
    void tapsOutsideTheInputAreSkippedNotMultipliedByZero() {
        // Each product -1e-50 rounds to -0.0, so every chain from +0.0f ends at -0.0; one fma(0, w > 0, acc) for a
        // padding tap (or a tap between strides) would turn it into +0.0.
        for (ConvCases.Conv c : ConvCases.conv()) {
            ConvGeometry g = c.g();
            int rows = c.rows();
            float[] x = new float[rows * g.inSize()];
            float[] gr = new float[rows * g.outSize()];
            float[] w = new float[g.weightSize()];
            java.util.Arrays.fill(x, -1e-30f);
            java.util.Arrays.fill(gr, -1e-30f);
            java.util.Arrays.fill(w, 1e-20f);
            // An output (or input) that no tap reaches is an empty chain: +0.0.
            double[] zTaps = forward64(x, w, null, rows, g)[1];
            double[] tTaps = backward64(gr, w, rows, g)[1];
            for (Backend be : BACKENDS) {
                float[] z = call(be, x, w, null, rows, g, true);
                float[] t = call(be, gr, w, null, rows, g, false);
                for (int side = 0; side < 2; side++) {
                    float[] o = side == 0 ? z : t;
                    double[] taps = side == 0 ? zTaps : tTaps;
                    for (int k = 0; k < o.length; k++) {
                        float expect = taps[k] > 0 ? -0f : 0f;
                        if (Float.floatToRawIntBits(o[k]) != Float.floatToRawIntBits(expect)) {
                            throw new AssertionError(name(be) + " " + c + (side == 0 ? " conv" : " convBackproject")
                                    + " at " + k + ": " + o[k] + " instead of " + expect
                                    + " (a skipped tap was fma'd, or a tap was lost)");
                        }
                    }
                }
            }
        }
    }

    @Test
    void backprojectionIsTheAdjointOfConv() {
        for (ConvCases.Conv c : ConvCases.conv()) {
            ConvGeometry g = c.g();
            int rows = c.rows();
            SplittableRandom r = new SplittableRandom(g.hashCode() + 11L);
            float[] x = gauss(r, rows * g.inSize());
            float[] y = gauss(r, rows * g.outSize());
            float[] w = gauss(r, g.weightSize());
            for (Backend be : BACKENDS) {
                float[] z = call(be, x, w, null, rows, g, true);
                float[] t = call(be, y, w, null, rows, g, false);
                double lhs = 0;
                double lmag = 0;
                for (int k = 0; k < y.length; k++) {
                    lhs += (double) z[k] * y[k];
                    lmag += Math.abs((double) z[k] * y[k]);
                }
                double rhs = 0;
                for (int k = 0; k < x.length; k++) {
                    rhs += (double) x[k] * t[k];
                }
                assertTrue(Math.abs(lhs - rhs) <= 1e-4 * lmag, name(be) + " " + c + ": <conv(x), y> = " + lhs
                        + " but <x, convBackproject(y)> = " + rhs);
            }
        }
    }

    private static float[][] pool(Backend be, float[] x, int rows, PoolGeometry p) {
        try (Buffer xb = be.upload(x); Buffer y = be.allocate(rows * p.outSize());
             Buffer arg = be.allocate(rows * p.outSize())) {
            be.maxPool(xb, y, arg, rows, p);
            float[] yo = new float[y.length()];
            float[] ao = new float[arg.length()];
            be.read(y, yo, 0, yo.length);
            be.read(arg, ao, 0, ao.length);
            return new float[][] {yo, ao};
        }
    }

    private static float[] route(Backend be, float[] rel, float[] arg, int rows, PoolGeometry p) {
        try (Buffer rb = be.upload(rel); Buffer ab = be.upload(arg); Buffer out = be.upload(new float[rows
                * p.inSize()])) {
            be.maxPoolRoute(rb, ab, out, rows, p);
            float[] o = new float[out.length()];
            be.read(out, o, 0, o.length);
            return o;
        }
    }

    @Test
    void maxPoolPicksTheFirstMaximumInScanOrder() {
        // One channel, 3x4, window 2x2 stride 2 padding 1: windows hold 1, 2, 2, 1, 2, ... inputs; ties everywhere.
        PoolGeometry p = new PoolGeometry(2, 3, 4, 2, 2, 2, 2, 1, 1);
        float[] x = {
            -0f, 0f, -0f, 5f,
            2f, 7f, 7f, 1f,
            2f, 7f, 7f, 7f,
            // second channel: all equal, so every window picks its first valid tap
            7f, 7f, 7f, 7f,
            7f, 7f, 7f, 7f,
            7f, 7f, 7f, 7f,
        };
        // Windows (oh, ow) cover rows 2oh-1..2oh and columns 2ow-1..2ow; window (0,1) ties +0.0 with a later -0.0.
        float[] expectArg = {0, 1, 3, 4, 5, 11, 12, 13, 15, 16, 17, 19};
        for (Backend be : BACKENDS) {
            float[][] yo = pool(be, x, 1, p);
            for (int k = 0; k < expectArg.length; k++) {
                assertEquals(expectArg[k], yo[1][k], name(be) + " arg at " + k);
                assertEquals(Float.floatToRawIntBits(x[(int) expectArg[k]]), Float.floatToRawIntBits(yo[0][k]),
                        name(be) + " value at " + k);
            }
            assertEquals(Float.floatToRawIntBits(-0f), Float.floatToRawIntBits(yo[0][0]),
                    "window (0,0) holds only -0.0");
        }
    }

    /** The first maximum in scan order of each window, written out plainly (padding skipped). */
    private static float[][] poolReference(float[] x, int rows, PoolGeometry p) {
        float[] y = new float[rows * p.outSize()];
        float[] arg = new float[y.length];
        int o = 0;
        for (int b = 0; b < rows; b++) {
            for (int c = 0; c < p.channels(); c++) {
                for (int oy = 0; oy < p.outH(); oy++) {
                    for (int ox = 0; ox < p.outW(); ox++, o++) {
                        int best = -1;
                        for (int i = 0; i < p.kernelH(); i++) {
                            for (int j = 0; j < p.kernelW(); j++) {
                                int ih = oy * p.strideH() - p.padH() + i;
                                int iw = ox * p.strideW() - p.padW() + j;
                                int e = (c * p.inH() + ih) * p.inW() + iw;
                                if (ih >= 0 && ih < p.inH() && iw >= 0 && iw < p.inW()
                                        && (best < 0 || x[b * p.inSize() + e] > x[b * p.inSize() + best])) {
                                    best = e;
                                }
                            }
                        }
                        y[o] = x[b * p.inSize() + best];
                        arg[o] = best;
                    }
                }
            }
        }
        return new float[][] {y, arg};
    }

    @Test
    void maxPoolMatchesAPlainScanWithTies() {
        // Values from a few levels (ties in most windows, +0.0 against -0.0 among them) over the pooling cases, 2x2
        // windows without padding included (the CPU path has a straight-line kernel for them).
        float[] levels = {-0f, 0f, 1f, -2f, 3f};
        for (ConvCases.Pool c : ConvCases.pool()) {
            PoolGeometry p = c.p();
            SplittableRandom r = new SplittableRandom(p.hashCode());
            float[] x = new float[c.rows() * p.inSize()];
            for (int k = 0; k < x.length; k++) {
                x[k] = levels[r.nextInt(levels.length)];
            }
            float[][] want = poolReference(x, c.rows(), p);
            for (Backend be : BACKENDS) {
                float[][] got = pool(be, x, c.rows(), p);
                for (int k = 0; k < want[0].length; k++) {
                    assertEquals(want[1][k], got[1][k], name(be) + " " + c + " arg at " + k);
                    assertEquals(Float.floatToRawIntBits(want[0][k]), Float.floatToRawIntBits(got[0][k]),
                            name(be) + " " + c + " max at " + k);
                }
            }
        }
    }

    @Test
    void overlappingWindowsRouteInAscendingOutputOrder() {
        // Kernel 3 stride 1 over 1x5: the centre 9 is the maximum of all three windows; routed relevances
        // 1, 1e8, -1e8 sum to ((0 + 1) + 1e8) - 1e8 = 0 in float32 in ascending order (1 in any other).
        PoolGeometry p = new PoolGeometry(1, 1, 5, 1, 3, 1, 1, 0, 0);
        float[] x = {0f, 1f, 9f, 1f, 0f, /* second row: */ 4f, 4f, 4f, 4f, 4f};
        float[] rel = {1f, 1e8f, -1e8f, /* second row */ 2f, 3f, 5f};
        for (Backend be : BACKENDS) {
            float[][] yo = pool(be, x, 2, p);
            assertEquals(2f, yo[1][0]);
            assertEquals(2f, yo[1][2]);
            float[] ri = route(be, rel, yo[1], 2, p);
            float ordered = ((0f + 1f) + 1e8f) + -1e8f;
            assertEquals(0f, ordered, "the data must make the order visible");
            float[] expect = {0f, 0f, ordered, 0f, 0f, 2f, 3f, 5f, 0f, 0f};
            for (int k = 0; k < expect.length; k++) {
                assertEquals(Float.floatToRawIntBits(expect[k]), Float.floatToRawIntBits(ri[k]),
                        name(be) + " rIn[" + k + "] = " + ri[k] + ", expected " + expect[k]);
            }
        }
    }

    @Test
    void addMulAndCopyRowsComputeWhatTheySay() {
        for (Backend be : BACKENDS) {
            try (Buffer a = be.upload(new float[] {1f, -2f, 0.5f, 3f}); Buffer b = be.upload(new float[] {4f, 2f,
                    0.25f, -1f}); Buffer o = be.allocate(4); Buffer d = be.upload(new float[] {9, 9, 9, 9, 9, 9})) {
                float[] out = new float[4];
                be.add(a, b, o, 4);
                be.read(o, out, 0, 4);
                assertEquals(List.of(5f, 0f, 0.75f, 2f), List.of(out[0], out[1], out[2], out[3]));
                be.mul(a, b, o, 3);
                be.read(o, out, 0, 4);
                assertEquals(List.of(4f, -4f, 0.125f, 2f), List.of(out[0], out[1], out[2], out[3]));
                // a as 2 rows of 2; copy column 1 of each row into column 2 of 3-wide rows.
                be.copyRows(a, 2, 1, d, 3, 2, 1, 2);
                float[] dst = new float[6];
                be.read(d, dst, 0, 6);
                assertEquals(List.of(9f, 9f, -2f, 9f, 9f, 3f), List.of(dst[0], dst[1], dst[2], dst[3], dst[4],
                        dst[5]));
            }
        }
    }

    @Test
    void badArgumentsAreTypedErrors() {
        ConvGeometry g = ConvGeometry.of(2, 5, 5, 3, 3, 1, 1);
        PoolGeometry p = PoolGeometry.of(1, 4, 4, 2, 2, 0);
        for (Backend be : BACKENDS) {
            try (Buffer small = be.allocate(10); Buffer x = be.allocate(g.inSize()); Buffer w = be.allocate(
                    g.weightSize()); Buffer z = be.allocate(g.outSize())) {
                ShapeMismatchException e = assertThrows(ShapeMismatchException.class,
                        () -> be.conv(small, w, null, z, 1, g), name(be));
                assertEquals("x", e.what());
                assertEquals("w", assertThrows(ShapeMismatchException.class,
                        () -> be.conv(x, small, null, z, 1, g)).what());
                assertThrows(InvalidArgumentException.class, () -> be.conv(x, w, null, z, -1, g));
                assertEquals("srcOffset", assertThrows(InvalidArgumentException.class,
                        () -> be.copyRows(x, 5, 3, z, 5, 0, 3, 1)).parameter());
                assertEquals("dstOffset", assertThrows(InvalidArgumentException.class,
                        () -> be.copyRows(x, 5, 0, z, 4, 2, 3, 1)).parameter());
                assertEquals("rIn", assertThrows(ShapeMismatchException.class,
                        () -> be.maxPoolRoute(x, x, small, 1, p)).what());
            }
        }
        try (CpuBackend cpu = new CpuBackend(); Buffer r = cpu.upload(new float[4]);
             Buffer arg = cpu.upload(new float[] {0, 1, 99, 2}); Buffer out = cpu.allocate(16)) {
            assertEquals("arg", assertThrows(InvalidArgumentException.class,
                    () -> cpu.maxPoolRoute(r, arg, out, 1, p)).parameter());
        }
    }
}
