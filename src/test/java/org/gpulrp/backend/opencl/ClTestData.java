package org.gpulrp.backend.opencl;

import static org.junit.jupiter.api.Assertions.fail;

import java.util.Arrays;
import java.util.Random;
import org.gpulrp.backend.Backend;
import org.gpulrp.backend.Buffer;

/**
 * Seeded data with the values that break sloppy kernels (zeros, -0.0, tiny values whose products and sums are
 * subnormal, mixed signs), a runner that calls one primitive on any backend from host arrays, and a bit-exact
 * comparison.
 */
final class ClTestData {
    /** Fills output buffers, including {@link #PAD} floats past the end that no primitive may touch. */
    static final float SENTINEL = Float.intBitsToFloat(0x7fc5a5a5);
    static final int PAD = 3;

    private ClTestData() {
    }

    /** {@code n} values of {@link #value}. */
    static float[] data(Random r, int n) {
        float[] a = new float[n];
        for (int k = 0; k < n; k++) {
            a[k] = value(r);
        }
        return a;
    }

    /** All of buffer {@code b}'s floats. */
    static float[] read(Backend be, Buffer b) {
        float[] out = new float[b.length()];
        be.read(b, out, 0, out.length);
        return out;
    }

    /** One value: mostly Gaussian, some exact zeros, -0.0, tiny and integer values. */
    static float value(Random r) {
        int k = r.nextInt(20);
        if (k == 0) {
            return 0f;
        }
        if (k == 1) {
            return -0f;
        }
        if (k == 2) {
            return (float) r.nextGaussian() * 1e-20f;
        }
        if (k == 3) {
            return r.nextInt(7) - 3;
        }
        return (float) r.nextGaussian();
    }

    /**
     * A row-major [rows, cols] matrix of {@link #value}s; about one row in five and one column in five is scaled by
     * 1e-21, so that products within such a row and column are subnormal and whole chains stay subnormal.
     */
    static float[] matrix(Random r, int rows, int cols) {
        float[] rowScale = scales(r, rows);
        float[] colScale = scales(r, cols);
        float[] m = new float[rows * cols];
        for (int b = 0; b < rows; b++) {
            for (int j = 0; j < cols; j++) {
                m[b * cols + j] = value(r) * rowScale[b] * colScale[j];
            }
        }
        return m;
    }

    private static float[] scales(Random r, int n) {
        float[] s = new float[n];
        for (int i = 0; i < n; i++) {
            s[i] = r.nextInt(5) == 0 ? 1e-21f : 1f;
        }
        return s;
    }

    static float[] vector(Random r, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = value(r);
        }
        return v;
    }

    /** A primitive called with device buffers: inputs as given (null stays null), outputs prefilled. */
    interface Call {
        void run(Backend be, Buffer[] in, Buffer[] out);
    }

    /**
     * Uploads {@code inputs} (null entries stay null), makes one output per {@code outLengths} entry ({@code -1}: a
     * null output) holding {@link #SENTINEL} with {@link #PAD} extra floats, runs {@code call}, and returns every
     * output's full contents. Releases every buffer it made.
     */
    static float[][] run(Backend be, float[][] inputs, int[] outLengths, Call call) {
        Buffer[] in = new Buffer[inputs.length];
        Buffer[] out = new Buffer[outLengths.length];
        try {
            for (int i = 0; i < inputs.length; i++) {
                in[i] = inputs[i] == null ? null : be.upload(inputs[i]);
            }
            for (int i = 0; i < outLengths.length; i++) {
                if (outLengths[i] >= 0) {
                    float[] init = new float[outLengths[i] + PAD];
                    Arrays.fill(init, SENTINEL);
                    out[i] = be.upload(init);
                }
            }
            call.run(be, in, out);
            float[][] result = new float[outLengths.length][];
            for (int i = 0; i < out.length; i++) {
                if (out[i] != null) {
                    result[i] = new float[out[i].length()];
                    be.read(out[i], result[i], 0, result[i].length);
                }
            }
            return result;
        } finally {
            for (Buffer b : in) {
                if (b != null) {
                    b.close();
                }
            }
            for (Buffer b : out) {
                if (b != null) {
                    b.close();
                }
            }
        }
    }

    /** Fails unless every output of {@code actual} has the same raw bits as {@code expected}'s. */
    static void assertSameBits(String what, float[][] expected, float[][] actual) {
        for (int o = 0; o < expected.length; o++) {
            assertSameBits(what + ", output " + o, expected[o], actual[o]);
        }
    }

    static void assertSameBits(String what, float[] expected, float[] actual) {
        if (expected == null || actual == null) {
            if (expected != actual) {
                fail(what + ": one side has no output");
            }
            return;
        }
        if (expected.length != actual.length) {
            fail(what + ": length " + actual.length + ", expected " + expected.length);
        }
        int bad = 0;
        int first = -1;
        for (int k = 0; k < expected.length; k++) {
            if (Float.floatToRawIntBits(expected[k]) != Float.floatToRawIntBits(actual[k])) {
                if (first < 0) {
                    first = k;
                }
                bad++;
            }
        }
        if (bad > 0) {
            fail(String.format("%s: %d of %d floats differ; first at %d: expected %s (0x%08x), got %s (0x%08x)%s",
                    what, bad, expected.length, first, expected[first], Float.floatToRawIntBits(expected[first]),
                    actual[first], Float.floatToRawIntBits(actual[first]),
                    first >= expected.length - PAD ? " (in the padding past the output: an out-of-range write)" : ""));
        }
    }
}
