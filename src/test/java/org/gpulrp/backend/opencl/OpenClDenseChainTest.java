package org.gpulrp.backend.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.gpulrp.backend.Backend;
import org.gpulrp.backend.Buffer;
import org.gpulrp.backend.DenseChain;
import org.gpulrp.backend.cpu.CpuBackend;
import org.gpulrp.testing.OpenClTestSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The fused dense chain (kernels/dense_chain.cl) against the CPU path's per-layer primitives, bit for bit: the
 * forward pass to the top and the relevance pass to the input, with a row per float16 lane (the VECTOR variant) and a
 * row per work-item (SIMPLE), on row counts around the lanes, with zeros of both signs, exact zero denominators (rows
 * of zeros against zero biases, with and without a stabilizer), values that overflow, subnormals and a ReLU after
 * some layers and not others.
 */
class OpenClDenseChainTest {
    private static OpenClBackend lanes;
    private static OpenClBackend single;

    @BeforeAll
    static void open() {
        lanes = OpenClTestSupport.openOrSkip(OpenClBackend.Variant.VECTOR);
        single = OpenClTestSupport.openOrSkip(OpenClBackend.Variant.SIMPLE);
    }

    @AfterAll
    static void close() {
        for (OpenClBackend be : new OpenClBackend[] {lanes, single}) {
            if (be != null) {
                be.close();
            }
        }
    }

    /** Widths input to top, ReLU after layer l where bit l of relu is set, the stabilizer, rows. */
    record Case(int[] widths, int relu, float eps, int rows, long seed) {
        @Override
        public String toString() {
            return java.util.Arrays.toString(widths) + " relu=" + Integer.toBinaryString(relu) + " eps=" + eps
                    + " rows=" + rows;
        }
    }

    static List<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        out.add(Arguments.of(new Case(new int[] {10, 32, 16, 1}, 0b011, 1e-6f, 1000, 1)));
        out.add(Arguments.of(new Case(new int[] {10, 32, 16, 1}, 0b011, 0f, 17, 2)));
        out.add(Arguments.of(new Case(new int[] {1, 1}, 0, 0f, 1, 3)));
        out.add(Arguments.of(new Case(new int[] {3, 64, 5}, 0b01, 0.25f, 16, 4)));
        out.add(Arguments.of(new Case(new int[] {64, 64, 64, 64, 3}, 0b0101, 1e-6f, 33, 5)));
        out.add(Arguments.of(new Case(new int[] {7, 13}, 0, 1e-3f, 15, 6)));
        out.add(Arguments.of(new Case(new int[] {5, 9, 9, 2}, 0b110, 1e-6f, 100, 7)));
        out.add(Arguments.of(new Case(new int[] {2, 11, 3, 6, 1}, 0b1111, 0f, 48, 8)));
        return out;
    }

    /** Gaussian values with a sprinkling of +-0, subnormals and, when {@code huge}, values that overflow a chain. */
    static float[] values(SplittableRandom r, int n, double scale, boolean huge) {
        float[] a = new float[n];
        for (int k = 0; k < n; k++) {
            int pick = r.nextInt(huge ? 200 : 40);
            a[k] = switch (pick) {
                case 0 -> 0f;
                case 1 -> -0f;
                case 2 -> Float.MIN_VALUE * (1 + r.nextInt(100));
                case 3 -> (float) (r.nextGaussian() * (huge ? 1e37 : scale));
                default -> (float) (r.nextGaussian() * scale);
            };
        }
        return a;
    }

    private static float[] zeroSome(float[] a, SplittableRandom r) {
        for (int k = 0; k < a.length; k++) {
            a[k] = r.nextInt(8) == 0 ? 0f : a[k];
        }
        return a;
    }

    static List<DenseChain.Layer> layers(Case c, SplittableRandom r) {
        List<DenseChain.Layer> ls = new ArrayList<>();
        for (int l = 0; l + 1 < c.widths().length; l++) {
            int in = c.widths()[l];
            int out = c.widths()[l + 1];
            float[] w = values(r, in * out, 1 / Math.sqrt(in), false);
            float[] b = zeroSome(values(r, out, 0.1, false), r);
            ls.add(new DenseChain.Layer(in, out, w, b, c.eps(), (c.relu() >> l & 1) != 0));
        }
        return ls;
    }

    /** The chain's top output and input relevance by the per-layer primitives on {@code be}. */
    static float[][] primitives(Backend be, List<DenseChain.Layer> ls, float[] x, float[] rTop, int rows) {
        List<Buffer> made = new ArrayList<>();
        try {
            Buffer a = keep(made, be.upload(x));
            List<Buffer> inputs = new ArrayList<>();
            List<Buffer> zs = new ArrayList<>();
            for (DenseChain.Layer y : ls) {
                inputs.add(a);
                Buffer z = keep(made, be.allocate(rows * y.out()));
                be.linear(a, keep(made, be.upload(transpose(y.weight(), y.out(), y.in()))), keep(made,
                        be.upload(y.bias())), z, rows, y.in(), y.out());
                zs.add(z);
                if (y.reluAfter()) {
                    a = keep(made, be.allocate(rows * y.out()));
                    be.relu(z, a, rows * y.out());
                } else {
                    a = z;
                }
            }
            DenseChain.Layer top = ls.get(ls.size() - 1);
            float[] zTop = new float[rows * top.out()];
            be.read(zs.get(zs.size() - 1), zTop, 0, zTop.length);
            Buffer r = keep(made, be.upload(rTop));
            for (int l = ls.size() - 1; l >= 0; l--) {
                DenseChain.Layer y = ls.get(l);
                Buffer g = keep(made, be.allocate(rows * y.out()));
                be.normalize(r, zs.get(l), y.out(), y.eps(), g, rows, y.out());
                Buffer below = keep(made, be.allocate(rows * y.in()));
                be.backproject(g, keep(made, be.upload(y.weight())), inputs.get(l), below, rows, y.out(), y.in());
                r = below;
            }
            float[] rIn = new float[rows * ls.get(0).in()];
            be.read(r, rIn, 0, rIn.length);
            return new float[][] {zTop, rIn};
        } finally {
            made.forEach(Buffer::close);
        }
    }

    static float[][] fused(OpenClBackend be, List<DenseChain.Layer> ls, float[] x, float[] rTop, int rows) {
        int top = ls.get(ls.size() - 1).out();
        try (DenseChain c = be.denseChain(ls); Buffer xb = be.upload(x); Buffer rb = be.upload(rTop);
             Buffer zb = be.allocate(rows * top); Buffer ib = be.allocate(x.length)) {
            assertNotNull(c, "the backend fuses a chain within the limits");
            c.forward(xb, zb, rows);
            c.backward(xb, rb, ib, rows);
            float[] zTop = new float[rows * top];
            float[] rIn = new float[x.length];
            be.read(zb, zTop, 0, zTop.length);
            be.read(ib, rIn, 0, rIn.length);
            return new float[][] {zTop, rIn};
        }
    }

    private static Buffer keep(List<Buffer> made, Buffer b) {
        made.add(b);
        return b;
    }

    static float[] transpose(float[] w, int rows, int cols) {
        float[] t = new float[w.length];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                t[c * rows + r] = w[r * cols + c];
            }
        }
        return t;
    }

    static void assertSameBits(float[] want, float[] got, String what) {
        assertEquals(want.length, got.length, what);
        for (int k = 0; k < want.length; k++) {
            int a = Float.floatToIntBits(want[k]);
            int b = Float.floatToIntBits(got[k]);
            if (a != b) {
                throw new AssertionError(what + " element " + k + ": " + want[k] + " (0x" + Integer.toHexString(a)
                        + ") expected, got " + got[k] + " (0x" + Integer.toHexString(b) + ")");
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void sameBitsAsThePrimitives(Case c) {
        SplittableRandom r = new SplittableRandom(c.seed());
        List<DenseChain.Layer> ls = layers(c, r);
        int rows = c.rows();
        float[] x = values(r, rows * c.widths()[0], 1, true);
        for (int b = 3; b < rows; b += 7) {
            // an all-zero row: every denominator is the bias, exactly zero where the bias is (the stabilizer's sign)
            java.util.Arrays.fill(x, b * c.widths()[0], (b + 1) * c.widths()[0], 0f);
        }
        float[] rTop = values(r, rows * c.widths()[c.widths().length - 1], 1, true);
        float[][] want;
        try (CpuBackend cpu = new CpuBackend(CpuBackend.Kernels.AUTO, 2)) {
            want = primitives(cpu, ls, x, rTop, rows);
        }
        int nonZero = 0;
        for (float v : want[1]) {
            nonZero += v != 0 && Float.isFinite(v) ? 1 : 0;
        }
        assertTrue(nonZero > want[1].length / 4, "relevance reaches the input: " + nonZero + " of " + want[1].length);
        for (OpenClBackend be : new OpenClBackend[] {lanes, single}) {
            float[][] got = fused(be, ls, x, rTop, rows);
            assertSameBits(want[0], got[0], be.variant() + " forward");
            assertSameBits(want[1], got[1], be.variant() + " relevance");
            assertSameBits(want[0], primitives(be, ls, x, rTop, rows)[0], be.variant() + " OpenCL primitives");
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("tooLarge")
    void refusesChainsPastTheLimits(int[] widths) {
        Case c = new Case(widths, 0, 0f, 1, 9);
        List<DenseChain.Layer> ls = layers(c, new SplittableRandom(9));
        assertTrue(!DenseChain.fits(ls));
        assertNull(lanes.denseChain(ls));
        try (CpuBackend cpu = new CpuBackend(CpuBackend.Kernels.AUTO, 1)) {
            assertNull(cpu.denseChain(layers(new Case(new int[] {2, 2}, 0, 0f, 1, 9), new SplittableRandom(9))),
                    "the CPU path runs chains as its primitives");
        }
    }

    static List<Arguments> tooLarge() {
        return List.of(Arguments.of((Object) new int[] {65, 4}), Arguments.of((Object) new int[] {4, 65}),
                Arguments.of((Object) new int[] {64, 64, 64, 64, 64, 64}));
    }
}
