package org.gpulrp.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.gpulrp.backend.ConvCases;
import org.gpulrp.model.ConvGeometry;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The Vector API convolution kernels against the scalar oracle, bit for bit, over {@link ConvCases} (interiors of
 * zero to several vectors, strided and dilated rows, groups) with zeros, -0.0 and subnormal products, each with
 * the tiling for 16 vector registers and the one for 32 (docs/DESIGN.md section 3: tiles change speed, never bits).
 */
class VectorConvTest {
    private static final ConvKernels SCALAR = new ScalarConv();
    /** The kernels tiled for 16 and for 32 vector registers, both checked on any machine. */
    private static final ConvKernels[] TILINGS = {new VectorConv(16), new VectorConv(32)};

    static Stream<Arguments> cases() {
        return ConvCases.conv().stream().flatMap(c -> Stream.of(Arguments.of(c, 16), Arguments.of(c, 32)));
    }

    private static ConvKernels vector(int registers) {
        return TILINGS[registers == 16 ? 0 : 1];
    }

    private static float[] data(SplittableRandom r, int n) {
        return VectorKernelsTest.data(r, n);
    }

    private static void assertBits(float[] e, float[] a, String what) {
        for (int k = 0; k < e.length; k++) {
            if (Float.floatToRawIntBits(e[k]) != Float.floatToRawIntBits(a[k])) {
                throw new AssertionError(what + " differs at " + k + " of " + e.length + ": scalar " + e[k]
                        + " vs vector " + a[k]);
            }
        }
    }

    @ParameterizedTest(name = "{0}, {1} registers")
    @MethodSource("cases")
    void forwardMatchesScalar(ConvCases.Conv c, int registers) {
        ConvKernels vector = vector(registers);
        ConvGeometry g = c.g();
        int rows = c.rows();
        SplittableRandom r = new SplittableRandom(g.hashCode());
        float[] x = data(r, rows * g.inSize());
        float[] w = data(r, g.weightSize());
        float[] v = data(r, g.weightSize());
        float[] b1 = data(r, g.outChannels());
        float[] b2 = data(r, g.outChannels());
        float[] lo = data(r, g.inSize());
        float[] hi = data(r, g.inSize());
        int n = rows * g.outSize();
        for (float[] bias : new float[][] {b1, null}) {
            float[] e = new float[n];
            float[] a = new float[n];
            SCALAR.conv(x, w, bias, e, 0, rows, g);
            vector.conv(x, w, bias, a, 0, rows, g);
            assertBits(e, a, "conv bias=" + (bias != null));
        }
        for (boolean both : new boolean[] {true, false}) {
            float[] ep = new float[n];
            float[] en = both ? new float[n] : null;
            float[] ap = new float[n];
            float[] an = both ? new float[n] : null;
            SCALAR.convSigned(x, w, v, b1, both ? b2 : null, ep, en, 0, rows, g);
            vector.convSigned(x, w, v, b1, both ? b2 : null, ap, an, 0, rows, g);
            assertBits(ep, ap, "convSigned P");
            if (both) {
                assertBits(en, an, "convSigned N");
            }
        }
        // ZBox with these weights, and with their +0 weights made -0 (strided rows then run padded copies, which
        // weights of exactly +0 rule out: StridedConv.forwardZBox).
        float[] noPlusZero = w.clone();
        for (int k = 0; k < noPlusZero.length; k++) {
            noPlusZero[k] = Float.floatToRawIntBits(noPlusZero[k]) == 0 ? -0f : noPlusZero[k];
        }
        for (float[] ws : new float[][] {w, noPlusZero}) {
            float[] e = new float[n];
            float[] a = new float[n];
            SCALAR.convZBox(x, ws, lo, hi, e, 0, rows, g);
            vector.convZBox(x, ws, lo, hi, a, 0, rows, g);
            assertBits(e, a, "convZBox" + (ws == w ? "" : ", no +0 weights"));
        }
    }

    /**
     * ZBox chains that underflow to -0 (every product about -1e-50) keep their sign at the borders: the padding taps
     * of the vector form must add -0, never +0, whatever the weight's sign, as the scalar form adds nothing there.
     */
    @ParameterizedTest(name = "{0}, {1} registers")
    @MethodSource("cases")
    void zboxChainsAtNegativeZeroKeepTheirSign(ConvCases.Conv c, int registers) {
        ConvGeometry g = c.g();
        int rows = c.rows();
        int n = rows * g.outSize();
        for (float sign : new float[] {1f, -1f, 0f}) {
            float[][] xw = ConvCases.underflowZBox(g, rows, sign);
            float[] x = xw[0];
            float[] w = xw[1];
            float[] bounds = new float[g.inSize()];
            float[] e = new float[n];
            float[] a = new float[n];
            SCALAR.convZBox(x, w, bounds, bounds, e, 0, rows, g);
            vector(registers).convZBox(x, w, bounds, bounds, a, 0, rows, g);
            assertTrue(sign == 0f || Float.floatToRawIntBits(e[0]) == Float.floatToRawIntBits(-0f),
                    "the case underflows to -0");
            assertBits(e, a, "convZBox, weights of sign " + sign);
        }
    }

    @org.junit.jupiter.api.Test
    void theCasesCoverBothBorderFormsOfTheSpatialBackprojection() {
        long padded = ConvCases.conv().stream().map(ConvCases.Conv::g)
                .filter(g -> SpatialConv.applies(g) && SpatialConv.mostlyBorders(g)).count();
        long masked = ConvCases.conv().stream().map(ConvCases.Conv::g)
                .filter(g -> SpatialConv.applies(g) && !SpatialConv.mostlyBorders(g)).count();
        assertTrue(padded > 0 && masked > 0, "padded rows: " + padded + ", masked rows: " + masked);
    }

    @org.junit.jupiter.api.Test
    void theCasesRunTheProductsBothWays() {
        // ConvGemm: planes that keep their size, grouped and dilated among them, with the border chains it recomputes
        long fwd = ConvCases.conv().stream().map(ConvCases.Conv::g).filter(g -> ConvGemm.applies(g, false)).count();
        long back = ConvCases.conv().stream().map(ConvCases.Conv::g).filter(g -> ConvGemm.applies(g, true)).count();
        long grouped = ConvCases.conv().stream().map(ConvCases.Conv::g)
                .filter(g -> ConvGemm.applies(g, false) && g.groups() > 1 && g.dilationW() > 1).count();
        assertTrue(fwd >= 5 && back >= 5 && grouped > 0, "forward " + fwd + ", backward " + back + ", " + grouped);
    }

    /**
     * Weights that are not finite: -0 times an infinity is NaN, so the products, which add the padding as -0 times the
     * weight, leave such layers to the kernels that skip those taps. Infinite and NaN weights in a layer of 64
     * channels whose planes keep their size, against the scalar oracle.
     */
    @ParameterizedTest(name = "{0} registers")
    @ValueSource(ints = {16, 32})
    void nonFiniteWeightsKeepTheSkippedTapsSkipped(int registers) {
        ConvGeometry g = ConvGeometry.of(64, 5, 21, 32, 3, 1, 1);
        assertTrue(ConvGemm.applies(g, false) && ConvGemm.applies(g, true));
        SplittableRandom r = new SplittableRandom(5);
        int rows = 2;
        float[] x = data(r, rows * g.inSize());
        float[] gr = data(r, rows * g.outSize());
        for (float bad : new float[] {Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN}) {
            float[] w = data(r, g.weightSize());
            w[0] = bad; // the first tap of output channel 0, input channel 0: in the padding at borders
            float[] e = new float[rows * g.outSize()];
            float[] a = new float[rows * g.outSize()];
            SCALAR.conv(x, w, null, e, 0, rows, g);
            vector(registers).conv(x, w, null, a, 0, rows, g);
            assertBits(e, a, "conv, a weight " + bad);
            float[] eb = new float[rows * g.inSize()];
            float[] ab = new float[rows * g.inSize()];
            SCALAR.convBackproject(gr, w, x, eb, 0, rows, g);
            vector(registers).convBackproject(gr, w, x, ab, 0, rows, g);
            assertBits(eb, ab, "convBackproject, a weight " + bad);
        }
    }

    /**
     * Infinite weights in every kernel's first row, on every case and every primitive: a tap in the padding (or between
     * strides) is skipped, never multiplied, so the chains that skip those taps stay finite, as the scalar oracle's.
     */
    @ParameterizedTest(name = "{0}, {1} registers")
    @MethodSource("cases")
    void infiniteWeightsAtSkippedTapsStaySkipped(ConvCases.Conv c, int registers) {
        ConvKernels vector = vector(registers);
        ConvGeometry g = c.g();
        int rows = c.rows();
        SplittableRandom r = new SplittableRandom(g.hashCode() + 1);
        float[] x = data(r, rows * g.inSize());
        float[] gr = data(r, rows * g.outSize());
        float[] lo = data(r, g.inSize());
        float[] hi = data(r, g.inSize());
        float[] w = data(r, g.weightSize());
        ConvCases.infiniteFirstRows(w, g);
        float[] v = w.clone();
        int n = rows * g.outSize();
        int m = rows * g.inSize();
        float[][] eo = {new float[n], new float[n], new float[n], new float[m], new float[m], new float[m]};
        float[][] ao = {new float[n], new float[n], new float[n], new float[m], new float[m], new float[m]};
        for (int k = 0; k < 2; k++) {
            ConvKernels kk = k == 0 ? SCALAR : vector;
            float[][] o = k == 0 ? eo : ao;
            kk.conv(x, w, null, o[0], 0, rows, g);
            kk.convSigned(x, w, v, null, null, o[1], null, 0, rows, g);
            kk.convZBox(x, w, lo, hi, o[2], 0, rows, g);
            kk.convBackproject(gr, w, x, o[3], 0, rows, g);
            kk.convBackprojectSigned(gr, null, w, v, x, o[4], 0, rows, g);
            kk.convBackprojectZBox(gr, w, w, v, x, lo, hi, o[5], 0, rows, g);
        }
        String[] names = {"conv", "convSigned", "convZBox", "convBackproject", "convBackprojectSigned",
            "convBackprojectZBox"};
        for (int k = 0; k < names.length; k++) {
            assertBits(eo[k], ao[k], names[k] + ", infinite weights in the first kernel row");
        }
    }

    /**
     * As {@link #zboxChainsAtNegativeZeroKeepTheirSign} for the ZBox backprojection's three chains: the bounds are
     * chosen so the result is -0 only where each chain kept its sign.
     */
    @ParameterizedTest(name = "{0}, {1} registers")
    @MethodSource("cases")
    void zboxBackprojectChainsAtNegativeZeroKeepTheirSign(ConvCases.Conv c, int registers) {
        ConvGeometry g = c.g();
        int rows = c.rows();
        int n = rows * g.inSize();
        for (float sign : new float[] {1f, -1f}) {
            float[] gr = new float[rows * g.outSize()];
            java.util.Arrays.fill(gr, -sign * 1e-20f);
            float[] w = new float[g.weightSize()];
            java.util.Arrays.fill(w, sign * 1e-30f);
            float[] wpos = new float[g.weightSize()];
            java.util.Arrays.fill(wpos, 1e-30f);
            float[] wneg = new float[g.weightSize()];
            java.util.Arrays.fill(wneg, -1e-30f);
            float[] x = new float[n];
            java.util.Arrays.fill(x, 1f);
            float[] lo = new float[g.inSize()];
            java.util.Arrays.fill(lo, -sign);
            float[] hi = new float[g.inSize()];
            java.util.Arrays.fill(hi, sign);
            float[] e = new float[n];
            float[] a = new float[n];
            SCALAR.convBackprojectZBox(gr, w, wpos, wneg, x, lo, hi, e, 0, rows, g);
            vector(registers).convBackprojectZBox(gr, w, wpos, wneg, x, lo, hi, a, 0, rows, g);
            boolean negativeZero = false;
            for (float v : e) {
                negativeZero |= Float.floatToRawIntBits(v) == Float.floatToRawIntBits(-0f);
            }
            assertTrue(negativeZero, "the case gives -0");
            assertBits(e, a, "convBackprojectZBox, weights of sign " + sign);
        }
    }

    /** As {@link #zboxChainsAtNegativeZeroKeepTheirSign} for the plain forward's borders. */
    @ParameterizedTest(name = "{0}, {1} registers")
    @MethodSource("cases")
    void forwardChainsAtNegativeZeroKeepTheirSign(ConvCases.Conv c, int registers) {
        ConvGeometry g = c.g();
        int rows = c.rows();
        for (float sign : new float[] {1f, -1f, 0f}) {
            float[] x = new float[rows * g.inSize()];
            java.util.Arrays.fill(x, sign == 0f ? -1e-20f : -sign * 1e-20f);
            float[] w = new float[g.weightSize()];
            java.util.Arrays.fill(w, sign * 1e-30f);
            if (sign == 0f) {
                // weights of +0 after one tiny positive one per output channel: the first product underflows to -0
                for (int k = 0; k < w.length; k += g.weightSize() / g.outChannels()) {
                    w[k] = 1e-30f;
                }
            }
            float[] e = new float[rows * g.outSize()];
            float[] a = new float[rows * g.outSize()];
            SCALAR.conv(x, w, null, e, 0, rows, g);
            vector(registers).conv(x, w, null, a, 0, rows, g);
            assertBits(e, a, "conv, weights of sign " + sign);
        }
    }

    /** As {@link #zboxChainsAtNegativeZeroKeepTheirSign} for the plain backprojection's borders. */
    @ParameterizedTest(name = "{0}, {1} registers")
    @MethodSource("cases")
    void backprojectChainsAtNegativeZeroKeepTheirSign(ConvCases.Conv c, int registers) {
        ConvGeometry g = c.g();
        int rows = c.rows();
        int n = rows * g.inSize();
        for (float sign : new float[] {1f, -1f, 0f}) {
            float[] gr = new float[rows * g.outSize()];
            java.util.Arrays.fill(gr, sign == 0f ? -1e-20f : -sign * 1e-20f);
            float[] w = new float[g.weightSize()];
            java.util.Arrays.fill(w, sign * 1e-30f);
            if (sign == 0f) {
                // weights of +0 after one tiny positive one per output channel: the first product underflows to -0
                for (int k = 0; k < w.length; k += g.weightSize() / g.outChannels()) {
                    w[k] = 1e-30f;
                }
            }
            float[] x = new float[n];
            java.util.Arrays.fill(x, 1f);
            float[] e = new float[n];
            float[] a = new float[n];
            SCALAR.convBackproject(gr, w, x, e, 0, rows, g);
            vector(registers).convBackproject(gr, w, x, a, 0, rows, g);
            assertBits(e, a, "convBackproject, weights of sign " + sign);
        }
    }

    @ParameterizedTest(name = "{0}, {1} registers")
    @MethodSource("cases")
    void backwardMatchesScalar(ConvCases.Conv c, int registers) {
        ConvKernels vector = vector(registers);
        ConvGeometry g = c.g();
        int rows = c.rows();
        SplittableRandom r = new SplittableRandom(g.hashCode() * 31L);
        float[] gr = data(r, rows * g.outSize());
        float[] hn = data(r, rows * g.outSize());
        float[] w = data(r, g.weightSize());
        float[] u = data(r, g.weightSize());
        float[] v = data(r, g.weightSize());
        float[] x = data(r, rows * g.inSize());
        float[] lo = data(r, g.inSize());
        float[] hi = data(r, g.inSize());
        int n = rows * g.inSize();
        for (boolean mulX : new boolean[] {true, false}) {
            float[] e = new float[n];
            float[] a = new float[n];
            SCALAR.convBackproject(gr, w, mulX ? x : null, e, 0, rows, g);
            vector.convBackproject(gr, w, mulX ? x : null, a, 0, rows, g);
            assertBits(e, a, "convBackproject mulX=" + mulX);
        }
        for (boolean both : new boolean[] {true, false}) {
            float[] e = new float[n];
            float[] a = new float[n];
            SCALAR.convBackprojectSigned(gr, both ? hn : null, u, v, x, e, 0, rows, g);
            vector.convBackprojectSigned(gr, both ? hn : null, u, v, x, a, 0, rows, g);
            assertBits(e, a, "convBackprojectSigned hn=" + both);
        }
        float[] e = new float[n];
        float[] a = new float[n];
        SCALAR.convBackprojectZBox(gr, w, u, v, x, lo, hi, e, 0, rows, g);
        vector.convBackprojectZBox(gr, w, u, v, x, lo, hi, a, 0, rows, g);
        assertBits(e, a, "convBackprojectZBox");
    }

    @ParameterizedTest(name = "{0} registers")
    @ValueSource(ints = {16, 32})
    void rowRangesComposeToTheWholeBatch(int registers) {
        ConvKernels vector = vector(registers);
        ConvGeometry g = ConvGeometry.of(3, 9, 35, 16, 3, 1, 1);
        SplittableRandom r = new SplittableRandom(3);
        int rows = 3;
        float[] x = data(r, rows * g.inSize());
        float[] w = data(r, g.weightSize());
        float[] whole = new float[rows * g.outSize()];
        float[] parts = new float[rows * g.outSize()];
        vector.conv(x, w, null, whole, 0, rows, g);
        for (int b = 0; b < rows; b++) {
            vector.conv(x, w, null, parts, b, b + 1, g);
        }
        assertBits(whole, parts, "row split");
        assertTrue(whole[whole.length - 1] != 0f || whole[0] != 0f, "the output was written");
    }
}
