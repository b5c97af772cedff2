package org.gpulrp.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The Vector API kernels against the scalar oracle, bit for bit, over shapes around the vector width. */
class VectorKernelsTest {
    private static final CpuKernels SCALAR = new ScalarKernels();
    /** The kernels tiled for 16 and for 32 vector registers: both run on any machine, with the same bits. */
    private static final CpuKernels[] VECTOR = {new VectorKernels(16), new VectorKernels(32)};

    private static CpuKernels vector(int registers) {
        return VECTOR[registers == 16 ? 0 : 1];
    }

    static Stream<Arguments> shapes() {
        return Stream.of(16, 32).flatMap(registers -> shapesOnce().map(a -> {
            Object[] g = a.get();
            return Arguments.of(registers, g[0], g[1], g[2]);
        }));
    }

    static Stream<Arguments> shapesOnce() {
        int[] sizes = {1, 2, 7, 15, 16, 17, 31, 32, 33, 48, 63, 64, 65, 100};
        int[] rows = {1, 3, 4, 5, 9};
        Stream.Builder<Arguments> s = Stream.builder();
        for (int k = 0; k < sizes.length; k++) {
            s.add(Arguments.of(rows[k % rows.length], sizes[k], sizes[(k * 5 + 3) % sizes.length]));
            s.add(Arguments.of(rows[(k + 2) % rows.length], sizes[(k * 3 + 1) % sizes.length], sizes[k]));
        }
        s.add(Arguments.of(6, 4096, 17));
        s.add(Arguments.of(2, 33, 4096));
        // Four-vector strips with tap blocks (K > 128: chains continued across blocks), row blocks of 60 with
        // 6, 10 or 5 rows left over (six-row tiles with 1-5 rows left), and column tails of two vectors, one vector
        // and fewer.
        s.add(Arguments.of(7, 700, 130));
        s.add(Arguments.of(3, 520, 200));
        s.add(Arguments.of(70, 257, 64));
        s.add(Arguments.of(66, 300, 147));
        s.add(Arguments.of(125, 200, 64));
        // Passes whose rows of the left operand exceed DenseProduct.A_IN_L2 (128 Ki floats): row blocks outside,
        // each packed once for every strip.
        s.add(Arguments.of(700, 200, 70));
        s.add(Arguments.of(700, 200, 140));
        s.add(Arguments.of(130, 1100, 40));
        // Rows of the left operand beyond A_IN_L2 with a 2 MiB L2 (1.9 MB against 1.25 MB): packed a chunk of row
        // blocks at a time (360 rows, then 240), each chunk serving every strip.
        s.add(Arguments.of(600, 800, 260));
        // Many rows of one column (lanes over rows, gathered) and of fewer than a vector of columns (whole-vector
        // stores up to the pass's end), each way, with rows left over.
        s.add(Arguments.of(40, 16, 1));
        s.add(Arguments.of(40, 1, 16));
        s.add(Arguments.of(53, 32, 10));
        s.add(Arguments.of(53, 10, 32));
        return s.build();
    }

    /** Values with both signs, exact zeros, negative zeros and tiny magnitudes whose products are denormal. */
    static float[] data(SplittableRandom r, int n) {
        float[] a = new float[n];
        for (int k = 0; k < n; k++) {
            int kind = r.nextInt(20);
            a[k] = switch (kind) {
                case 0 -> 0f;
                case 1 -> -0f;
                case 2 -> (float) (r.nextDouble(-1, 1) * 1e-20);
                default -> (float) r.nextGaussian();
            };
        }
        return a;
    }

    private static void assertBits(float[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length);
        for (int k = 0; k < expected.length; k++) {
            int e = Float.floatToRawIntBits(expected[k]);
            int a = Float.floatToRawIntBits(actual[k]);
            if (e != a) {
                throw new AssertionError(what + " differs at " + k + ": scalar " + expected[k] + " vs vector "
                        + actual[k]);
            }
        }
    }

    @ParameterizedTest(name = "registers={0} B={1} K={2} N={3}")
    @MethodSource("shapes")
    void forwardPrimitivesMatchScalar(int registers, int rows, int in, int out) {
        SplittableRandom r = new SplittableRandom(in * 1000L + out * 7L + rows);
        float[] x = data(r, rows * in);
        float[] wt = data(r, in * out);
        float[] vt = data(r, in * out);
        float[] b1 = data(r, out);
        float[] b2 = data(r, out);
        float[] lo = data(r, in);
        float[] hi = data(r, in);
        for (boolean withBias : new boolean[] {true, false}) {
            float[] e = new float[rows * out];
            float[] a = new float[rows * out];
            SCALAR.linear(x, wt, withBias ? b1 : null, e, 0, rows, in, out, 0, out);
            vector(registers).linear(x, wt, withBias ? b1 : null, a, 0, rows, in, out, 0, out);
            assertBits(e, a, "linear bias=" + withBias);
        }
        for (boolean both : new boolean[] {true, false}) {
            float[] ep = new float[rows * out];
            float[] en = both ? new float[rows * out] : null;
            float[] ap = new float[rows * out];
            float[] an = both ? new float[rows * out] : null;
            SCALAR.linearSigned(x, wt, vt, b1, b2, ep, en, 0, rows, in, out);
            vector(registers).linearSigned(x, wt, vt, b1, b2, ap, an, 0, rows, in, out);
            assertBits(ep, ap, "linearSigned P");
            if (both) {
                assertBits(en, an, "linearSigned N");
            }
        }
        float[] e = new float[rows * out];
        float[] a = new float[rows * out];
        SCALAR.linearZBox(x, wt, lo, hi, e, 0, rows, in, out);
        vector(registers).linearZBox(x, wt, lo, hi, a, 0, rows, in, out);
        assertBits(e, a, "linearZBox");
    }

    @ParameterizedTest(name = "registers={0} B={1} K={2} N={3}")
    @MethodSource("shapes")
    void backwardPrimitivesMatchScalar(int registers, int rows, int in, int out) {
        SplittableRandom r = new SplittableRandom(in * 31L + out * 1009L + rows);
        float[] g = data(r, rows * out);
        float[] h = data(r, rows * out);
        float[] w = data(r, out * in);
        float[] v = data(r, out * in);
        float[] u = data(r, out * in);
        float[] x = data(r, rows * in);
        float[] lo = data(r, in);
        float[] hi = data(r, in);
        for (boolean mulX : new boolean[] {true, false}) {
            float[] e = new float[rows * in];
            float[] a = new float[rows * in];
            SCALAR.backproject(g, w, mulX ? x : null, e, 0, rows, out, in, 0, in);
            vector(registers).backproject(g, w, mulX ? x : null, a, 0, rows, out, in, 0, in);
            assertBits(e, a, "backproject mulX=" + mulX);
        }
        for (boolean both : new boolean[] {true, false}) {
            float[] e = new float[rows * in];
            float[] a = new float[rows * in];
            SCALAR.backprojectSigned(g, both ? h : null, u, v, x, e, 0, rows, out, in);
            vector(registers).backprojectSigned(g, both ? h : null, u, v, x, a, 0, rows, out, in);
            assertBits(e, a, "backprojectSigned hn=" + both);
        }
        float[] e = new float[rows * in];
        float[] a = new float[rows * in];
        SCALAR.backprojectZBox(g, w, u, v, x, lo, hi, e, 0, rows, out, in);
        vector(registers).backprojectZBox(g, w, u, v, x, lo, hi, a, 0, rows, out, in);
        assertBits(e, a, "backprojectZBox");
    }

    @ParameterizedTest(name = "registers={0} B={1} K={2} N={3}")
    @MethodSource("shapes")
    void elementwisePrimitivesMatchScalar(int registers, int rows, int in, int out) {
        SplittableRandom r = new SplittableRandom(rows * 17L + in + out * 3L);
        float[] a = data(r, rows * out);
        float[] d = data(r, rows * out);
        float[] z = data(r, rows * out);
        float[] n = data(r, rows * out);
        // Exact zeros in the denominator reach the safe-division branch when eps is 0; NaN must clamp to 0.
        d[0] = 0f;
        a[a.length - 1] = Float.NaN;
        float[] e1 = new float[a.length];
        float[] v1 = new float[a.length];
        SCALAR.relu(a, e1, 0, a.length);
        vector(registers).relu(a, v1, 0, a.length);
        assertBits(e1, v1, "relu");
        for (float eps : new float[] {0f, 1e-6f, 0.25f}) {
            float[] e = new float[a.length];
            float[] v = new float[a.length];
            SCALAR.normalize(a, d, out, eps, e, 0, rows, out);
            vector(registers).normalize(a, d, out, eps, v, 0, rows, out);
            assertBits(e, v, "normalize eps=" + eps);
            SCALAR.normalize(a, d, 0, eps, e, 0, rows, out);
            vector(registers).normalize(a, d, 0, eps, v, 0, rows, out);
            assertBits(e, v, "normalize shared denominator eps=" + eps);
            for (boolean gamma : new boolean[] {true, false}) {
                float[] ep = new float[a.length];
                float[] en = new float[a.length];
                float[] vp = new float[a.length];
                float[] vn = new float[a.length];
                SCALAR.normalizeSigned(a, z, d, n, eps, 2f, -1f, gamma, ep, en, 0, a.length);
                vector(registers).normalizeSigned(a, z, d, n, eps, 2f, -1f, gamma, vp, vn, 0, a.length);
                assertBits(ep, vp, "normalizeSigned P gamma=" + gamma);
                assertBits(en, vn, "normalizeSigned N gamma=" + gamma);
            }
        }
    }

    @ParameterizedTest(name = "registers={0} B={1} K={2} N={3}")
    @MethodSource("shapes")
    void rowRangesComposeToTheWholeBatch(int registers, int rows, int in, int out) {
        SplittableRandom r = new SplittableRandom(5);
        float[] x = data(r, rows * in);
        float[] wt = data(r, in * out);
        float[] whole = new float[rows * out];
        float[] parts = new float[rows * out];
        vector(registers).linear(x, wt, null, whole, 0, rows, in, out, 0, out);
        for (int b = 0; b < rows; b++) {
            vector(registers).linear(x, wt, null, parts, b, b + 1, in, out, 0, out);
        }
        assertBits(whole, parts, "row split");
        assertTrue(rows >= 1);
    }

    @ParameterizedTest(name = "registers={0} B={1} K={2} N={3}")
    @MethodSource("shapes")
    void columnRangesComposeToTheWholeMap(int registers, int rows, int in, int out) {
        SplittableRandom r = new SplittableRandom(7);
        float[] x = data(r, rows * in);
        float[] wt = data(r, in * out);
        float[] bias = data(r, out);
        float[] g = data(r, rows * out);
        float[] whole = new float[rows * out];
        float[] parts = new float[rows * out];
        float[] back = new float[rows * in];
        float[] backParts = new float[rows * in];
        vector(registers).linear(x, wt, bias, whole, 0, rows, in, out, 0, out);
        vector(registers).backproject(g, wt, x, back, 0, rows, out, in, 0, in);
        // Ranges at the CPU backend's 64-feature alignment and at odd places.
        for (int step : new int[] {64, 37}) {
            java.util.Arrays.fill(parts, Float.NaN);
            java.util.Arrays.fill(backParts, Float.NaN);
            for (int c0 = 0; c0 < out; c0 += step) {
                vector(registers).linear(x, wt, bias, parts, 0, rows, in, out, c0, Math.min(out, c0 + step));
            }
            for (int c0 = 0; c0 < in; c0 += step) {
                vector(registers).backproject(g, wt, x, backParts, 0, rows, out, in, c0, Math.min(in, c0 + step));
            }
            assertBits(whole, parts, "linear column split " + step);
            assertBits(back, backParts, "backproject column split " + step);
        }
    }

    /** The prepared column strips (one layout per register count) give the unprepared maps' bits, whole or split. */
    @ParameterizedTest(name = "registers={0} B={1} K={2} N={3}")
    @MethodSource("shapes")
    void preparedStripsMatchScalar(int registers, int rows, int in, int out) {
        SplittableRandom r = new SplittableRandom(in * 13L + out + rows);
        CpuKernels v = vector(registers);
        float[] x = data(r, rows * in);
        float[] wt = data(r, in * out);
        float[] bias = data(r, out);
        float[] g = data(r, rows * out);
        float[] expected = new float[rows * out];
        float[] expectedBack = new float[rows * in];
        SCALAR.linear(x, wt, bias, expected, 0, rows, in, out, 0, out);
        SCALAR.backproject(g, wt, x, expectedBack, 0, rows, out, in, 0, in);
        float[] forwardStrips = v.denseStrips(wt, in, out);
        float[] backStrips = v.denseStrips(wt, out, in);
        float[] z = new float[rows * out];
        float[] back = new float[rows * in];
        // Outputs hold garbage before the call: every chain must start at +0.0 by itself.
        java.util.Arrays.fill(z, Float.NaN);
        java.util.Arrays.fill(back, -0f);
        for (int c0 = 0; c0 < out; c0 += 64) {
            v.linear(x, wt, forwardStrips, bias, z, 0, rows, in, out, c0, Math.min(out, c0 + 64));
        }
        for (int c0 = 0; c0 < in; c0 += 64) {
            v.backproject(g, wt, backStrips, x, back, 0, rows, out, in, c0, Math.min(in, c0 + 64));
        }
        assertBits(expected, z, "linear, prepared strips");
        assertBits(expectedBack, back, "backproject, prepared strips");
    }
}
