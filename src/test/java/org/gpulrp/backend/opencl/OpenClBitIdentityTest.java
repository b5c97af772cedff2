package org.gpulrp.backend.opencl;

import static org.gpulrp.backend.opencl.ClTestData.assertSameBits;
import static org.gpulrp.backend.opencl.ClTestData.matrix;
import static org.gpulrp.backend.opencl.ClTestData.run;
import static org.gpulrp.backend.opencl.ClTestData.vector;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.gpulrp.backend.Backend;
import org.gpulrp.backend.cpu.CpuBackend;
import org.gpulrp.testing.OpenClTestSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Every primitive on every kernel variant gives the CPU backends' bits (scalar and Vector API), over awkward shapes
 * (1, 15-17, 31-33, odd sizes, chains of 4096, batches up to 300, empty dimensions) and null optional buffers.
 */
class OpenClBitIdentityTest {

    /** (rows, in, out); for backprojection the chain runs over {@code out} and the outputs are {@code in} wide. */
    private static final int[][] DENSE = {
        {1, 1, 1}, {1, 15, 17}, {2, 16, 16}, {3, 17, 15}, {4, 31, 33}, {5, 32, 32}, {7, 33, 31}, {16, 1, 64},
        {17, 64, 1}, {9, 49, 50}, {33, 100, 47}, {64, 48, 96}, {129, 37, 65}, {300, 75, 130}, {3, 4096, 33},
        {2, 33, 4096}, {2, 0, 5}, {0, 4, 5}, {3, 5, 0},
    };
    private static final int[] LENGTHS = {0, 1, 15, 16, 17, 255, 256, 257, 1000, 4099};

    /**
     * Backends under test: each variant with the table's tuning for this device, and each with odd tuning values
     * (tile and register-block sizes that divide nothing, odd work-group sizes): tuning must change speed only.
     */
    enum Config {
        SIMPLE(Map.of("variant", "simple")),
        VECTOR(Map.of("variant", "vector")),
        TILED(Map.of("variant", "tiled")),
        SIMPLE_ODD(Map.of("variant", "simple", "simple.local.x", "7", "simple.local.y", "3", "element.local", "100",
                "sample.local", "24")),
        VECTOR_ODD(Map.of("variant", "vector", "vec.rows", "3", "vec.colv", "1", "vec.colv2", "2", "vec.colv3", "2",
                "vec.local.rows", "2")),
        TILED_ODD(Map.of("variant", "tiled", "tile.t", "8", "tile.w", "3", "tile.k", "5"));

        final Map<String, String> tuning;

        Config(Map<String, String> tuning) {
            this.tuning = tuning;
        }
    }

    private static final Map<Config, OpenClBackend> OPENCL = new EnumMap<>(Config.class);
    private static CpuBackend scalar;
    private static CpuBackend vector;

    @BeforeAll
    static void open() {
        OpenClTestSupport.assumeOpenCl();
        for (Config c : Config.values()) {
            OPENCL.put(c, OpenClBackend.open(null, c.tuning));
        }
        scalar = new CpuBackend(CpuBackend.Kernels.SCALAR, 1);
        vector = new CpuBackend();
    }

    @AfterAll
    static void close() {
        OPENCL.values().forEach(OpenClBackend::close);
        OPENCL.clear();
        if (scalar != null) {
            scalar.close();
            vector.close();
        }
    }

    /** Runs the call on both CPU backends and on {@code v}'s OpenCL backend; all three must agree bit for bit. */
    private static float[][] check(String what, Config v, float[][] in, int[] outLengths, ClTestData.Call call) {
        float[][] ref = run(scalar, in, outLengths, call);
        assertSameBits(what + ": CPU vector vs CPU scalar", ref, run(vector, in, outLengths, call));
        OpenClBackend cl = OPENCL.get(v);
        assertSameBits(what + ": OpenCL " + v + " vs CPU scalar", ref, run(cl, in, outLengths, call));
        assertEquals(0, cl.liveBuffers(), "buffers left open");
        return ref;
    }

    /** Elementwise and per-sample kernels: the table's tuning and odd work-group sizes. */
    private static float[][] checkEach(String what, float[][] in, int[] outLengths, ClTestData.Call call) {
        check(what, Config.SIMPLE_ODD, in, outLengths, call);
        return check(what, Config.VECTOR, in, outLengths, call);
    }

    private static String shape(String op, int[] s) {
        return op + " rows=" + s[0] + " in=" + s[1] + " out=" + s[2];
    }

    @ParameterizedTest
    @EnumSource(Config.class)
    void linear(Config v) {
        Random r = new Random(11);
        for (int[] s : DENSE) {
            int rows = s[0], in = s[1], out = s[2];
            float[][] data = {matrix(r, rows, in), matrix(r, in, out), vector(r, out)};
            for (boolean bias : new boolean[] {true, false}) {
                float[][] ins = {data[0], data[1], bias ? data[2] : null};
                check(shape("linear", s) + " bias=" + bias, v, ins, new int[] {rows * out},
                        (be, i, o) -> be.linear(i[0], i[1], i[2], o[0], rows, in, out));
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Config.class)
    void linearSigned(Config v) {
        Random r = new Random(12);
        for (int[] s : DENSE) {
            int rows = s[0], in = s[1], out = s[2];
            float[][] ins = {matrix(r, rows, in), matrix(r, in, out), matrix(r, in, out), vector(r, out),
                vector(r, out)};
            check(shape("linearSigned", s) + " both", v, ins, new int[] {rows * out, rows * out},
                    (be, i, o) -> be.linearSigned(i[0], i[1], i[2], i[3], i[4], o[0], o[1], rows, in, out));
            check(shape("linearSigned", s) + " outN=null", v, ins, new int[] {rows * out, -1},
                    (be, i, o) -> be.linearSigned(i[0], i[1], i[2], i[3], null, o[0], null, rows, in, out));
        }
    }

    @ParameterizedTest
    @EnumSource(Config.class)
    void linearZBox(Config v) {
        Random r = new Random(13);
        for (int[] s : DENSE) {
            int rows = s[0], in = s[1], out = s[2];
            float[][] ins = {matrix(r, rows, in), matrix(r, in, out), vector(r, in), vector(r, in)};
            check(shape("linearZBox", s), v, ins, new int[] {rows * out},
                    (be, i, o) -> be.linearZBox(i[0], i[1], i[2], i[3], o[0], rows, in, out));
        }
    }

    @ParameterizedTest
    @EnumSource(Config.class)
    void backproject(Config v) {
        Random r = new Random(14);
        for (int[] s : DENSE) {
            int rows = s[0], in = s[1], out = s[2];
            float[][] data = {matrix(r, rows, out), matrix(r, out, in), matrix(r, rows, in)};
            for (boolean x : new boolean[] {true, false}) {
                float[][] ins = {data[0], data[1], x ? data[2] : null};
                check(shape("backproject", s) + " x=" + x, v, ins, new int[] {rows * in},
                        (be, i, o) -> be.backproject(i[0], i[1], i[2], o[0], rows, out, in));
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Config.class)
    void backprojectSigned(Config v) {
        Random r = new Random(15);
        for (int[] s : DENSE) {
            int rows = s[0], in = s[1], out = s[2];
            float[][] ins = {matrix(r, rows, out), matrix(r, rows, out), matrix(r, out, in), matrix(r, out, in),
                matrix(r, rows, in)};
            check(shape("backprojectSigned", s) + " both", v, ins, new int[] {rows * in},
                    (be, i, o) -> be.backprojectSigned(i[0], i[1], i[2], i[3], i[4], o[0], rows, out, in));
            check(shape("backprojectSigned", s) + " hn=null", v, ins, new int[] {rows * in},
                    (be, i, o) -> be.backprojectSigned(i[0], null, i[2], i[3], i[4], o[0], rows, out, in));
        }
    }

    @ParameterizedTest
    @EnumSource(Config.class)
    void backprojectZBox(Config v) {
        Random r = new Random(16);
        for (int[] s : DENSE) {
            int rows = s[0], in = s[1], out = s[2];
            float[][] ins = {matrix(r, rows, out), matrix(r, out, in), matrix(r, out, in), matrix(r, out, in),
                matrix(r, rows, in), vector(r, in), vector(r, in)};
            check(shape("backprojectZBox", s), v, ins, new int[] {rows * in},
                    (be, i, o) -> be.backprojectZBox(i[0], i[1], i[2], i[3], i[4], i[5], i[6], o[0], rows, out, in));
        }
    }

    /** Elementwise data: the dense values plus NaN and infinities (clamps must agree on them too). */
    private static float[] elements(Random r, int n) {
        float[] a = matrix(r, 1, n);
        float[] special = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.MIN_VALUE,
            -Float.MIN_VALUE};
        for (int k = 0; k < n; k += 13) {
            a[k] = special[(k / 13) % special.length];
        }
        return a;
    }

    @Test
    void relu() {
        Random r = new Random(17);
        for (int n : LENGTHS) {
            checkEach("relu n=" + n, new float[][] {elements(r, n)}, new int[] {n},
                    (be, i, o) -> be.relu(i[0], o[0], n));
        }
    }

    @Test
    void splitSign() {
        Random r = new Random(18);
        for (int n : LENGTHS) {
            checkEach("splitSign n=" + n, new float[][] {elements(r, n)}, new int[] {n, n},
                    (be, i, o) -> be.splitSign(i[0], o[0], o[1], n));
        }
    }

    @Test
    void gammaWeights() {
        Random r = new Random(19);
        for (float gamma : new float[] {0.25f, 0f, 1e-3f, 3f}) {
            for (int n : LENGTHS) {
                checkEach("gammaWeights gamma=" + gamma + " n=" + n, new float[][] {elements(r, n)},
                        new int[] {n, n}, (be, i, o) -> be.gammaWeights(i[0], gamma, o[0], o[1], n));
            }
        }
    }

    /** Denominators hitting the stabilizer's edges: 0, -0.0, +-eps, tiny, and ordinary values. */
    private static float[] denominators(Random r, int n, float eps) {
        float[] d = matrix(r, 1, n);
        float[] edge = {0f, -0f, eps, -eps, -eps / 2, 1e-40f, -1e-40f};
        for (int k = 0; k < n; k += 5) {
            d[k] = edge[(k / 5) % edge.length];
        }
        return d;
    }

    @Test
    void normalize() {
        Random r = new Random(20);
        for (float eps : new float[] {1e-6f, 0f, 0.25f}) {
            for (int[] s : new int[][] {{1, 1}, {3, 17}, {16, 33}, {300, 10}, {7, 1000}, {0, 5}, {4, 0}}) {
                int rows = s[0], out = s[1];
                float[] rel = matrix(r, rows, out);
                checkEach("normalize per-sample eps=" + eps + " " + rows + "x" + out,
                        new float[][] {rel, denominators(r, rows * out, eps)}, new int[] {rows * out},
                        (be, i, o) -> be.normalize(i[0], i[1], out, eps, o[0], rows, out));
                checkEach("normalize shared eps=" + eps + " " + rows + "x" + out,
                        new float[][] {rel, denominators(r, out, eps)}, new int[] {rows * out},
                        (be, i, o) -> be.normalize(i[0], i[1], 0, eps, o[0], rows, out));
            }
        }
    }

    @Test
    void normalizeSigned() {
        Random r = new Random(21);
        for (float eps : new float[] {1e-6f, 0f}) {
            for (int[] s : new int[][] {{1, 1}, {3, 17}, {16, 33}, {300, 10}, {0, 3}}) {
                int rows = s[0], out = s[1], len = rows * out;
                float[][] ins = {matrix(r, rows, out), matrix(r, rows, out), denominators(r, len, eps),
                    denominators(r, len, eps)};
                for (boolean mask : new boolean[] {true, false}) {
                    String what = "normalizeSigned eps=" + eps + " mask=" + mask + " " + rows + "x" + out;
                    checkEach(what + " both", ins, new int[] {len, len},
                            (be, i, o) -> be.normalizeSigned(i[0], i[1], i[2], i[3], eps, 2f, -1f, mask, o[0], o[1],
                                    rows, out));
                    checkEach(what + " n=null", ins, new int[] {len, -1},
                            (be, i, o) -> be.normalizeSigned(i[0], mask ? i[1] : null, i[2], null, eps, 1.5f, 0.5f,
                                    mask, o[0], null, rows, out));
                }
            }
        }
    }

    /**
     * The comparison can fail: on this data a chain in another order, or without fma, gives other bits, and some
     * results are subnormal (so flushing denormals would show).
     */
    @Test
    void dataDistinguishesContractBreaks() {
        Random r = new Random(22);
        int rows = 8, in = 4096, out = 33;
        float[] x = matrix(r, rows, in);
        float[] wt = matrix(r, in, out);
        float[] z = run(OPENCL.get(Config.VECTOR), new float[][] {x, wt}, new int[] {rows * out},
                (be, i, o) -> be.linear(i[0], i[1], null, o[0], rows, in, out))[0];
        int reversedDiffers = 0;
        int unfusedDiffers = 0;
        int subnormal = 0;
        for (int b = 0; b < rows; b++) {
            for (int j = 0; j < out; j++) {
                float rev = 0f;
                float mul = 0f;
                for (int i = 0; i < in; i++) {
                    rev = Math.fma(x[b * in + in - 1 - i], wt[(in - 1 - i) * out + j], rev);
                    mul = mul + x[b * in + i] * wt[i * out + j];
                }
                float got = z[b * out + j];
                reversedDiffers += Float.floatToRawIntBits(rev) != Float.floatToRawIntBits(got) ? 1 : 0;
                unfusedDiffers += Float.floatToRawIntBits(mul) != Float.floatToRawIntBits(got) ? 1 : 0;
                subnormal += got != 0f && Math.abs(got) < Float.MIN_NORMAL ? 1 : 0;
            }
        }
        assertTrue(reversedDiffers > rows * out / 2, "a reversed chain differs in most outputs: " + reversedDiffers);
        assertTrue(unfusedDiffers > rows * out / 2, "an unfused chain differs in most outputs: " + unfusedDiffers);
        assertTrue(subnormal > 0, "some outputs are subnormal");
    }
}
