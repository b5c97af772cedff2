package org.gpulrp.eval;

import java.util.Locale;
import org.gpulrp.InvalidArgumentException;
import org.gpulrp.ShapeMismatchException;

/**
 * What a removed region is replaced by (docs/DESIGN.md section 2.10): per sample, a full replacement input whose values
 * at a region's features take the place of the sample's own. {@code zeros}; {@code mean}, each feature's mean over the
 * data set given; {@code blur:SIGMA}, the sample blurred by a Gaussian of SIGMA pixels per channel;
 * {@code noise[:SEED]}, uniform noise over the data set's value range; {@code value:V}, one constant. Token models
 * replace a token's input embedding by zeros instead ({@link ZeroEmbedding}), which is a {@code value} baseline of
 * the zero row's id.
 */
public sealed interface Baseline {
    /**
     * The replacement inputs of all samples, {@code [samples, features]} row-major.
     *
     * @param data        the samples, row-major
     * @param sampleShape one sample's shape ({@code [channels, height, width]} for images)
     */
    float[] values(float[] data, int[] sampleShape);

    /** The name as written on the command line, e.g. {@code blur:1.5}. */
    String describe();

    static Baseline zeros() {
        return new Value(0f);
    }

    /**
     * Parses {@code zeros}, {@code mean}, {@code blur:SIGMA} (pixels, > 0), {@code noise} or {@code noise:SEED},
     * {@code value:V}.
     */
    static Baseline parse(String spec) {
        String s = spec.strip();
        String name = s.contains(":") ? s.substring(0, s.indexOf(':')) : s;
        String arg = s.contains(":") ? s.substring(s.indexOf(':') + 1).strip() : null;
        try {
            switch (name.toLowerCase(Locale.ROOT)) {
                case "zeros":
                    return arg == null ? zeros() : fail(spec, "zeros takes no value");
                case "mean":
                    return arg == null ? new Mean() : fail(spec, "mean takes no value");
                case "blur":
                    return new Blur(Double.parseDouble(arg == null ? "" : arg));
                case "noise":
                    return new Noise(arg == null ? 0L : Long.parseLong(arg));
                case "value":
                    return new Value(Float.parseFloat(arg == null ? "" : arg));
                default:
                    return fail(spec, "unknown baseline; use zeros, mean, blur:SIGMA, noise[:SEED] or value:V");
            }
        } catch (NumberFormatException e) {
            return fail(spec, "not a number after ':' (" + (arg == null || arg.isEmpty() ? "missing" : arg) + ")");
        }
    }

    private static Baseline fail(String spec, String why) {
        throw new InvalidArgumentException("baseline", "'" + spec + "': " + why);
    }

    /** One constant everywhere. */
    record Value(float value) implements Baseline {
        public Value {
            InvalidArgumentException.check(Float.isFinite(value), "baseline", "value must be finite, got " + value);
        }

        @Override
        public float[] values(float[] data, int[] sampleShape) {
            float[] v = new float[data.length];
            java.util.Arrays.fill(v, value);
            return v;
        }

        @Override
        public String describe() {
            return value == 0f && Float.floatToRawIntBits(value) == 0 ? "zeros" : "value:" + value;
        }
    }

    /** Each feature's mean over the samples given (a double sum in sample order, rounded to float once). */
    record Mean() implements Baseline {
        @Override
        public float[] values(float[] data, int[] sampleShape) {
            int n = size(sampleShape);
            int rows = data.length / n;
            double[] sum = new double[n];
            for (int b = 0; b < rows; b++) {
                for (int i = 0; i < n; i++) {
                    sum[i] += data[b * n + i];
                }
            }
            float[] v = new float[data.length];
            for (int b = 0; b < rows; b++) {
                for (int i = 0; i < n; i++) {
                    v[b * n + i] = (float) (sum[i] / rows);
                }
            }
            return v;
        }

        @Override
        public String describe() {
            return "mean";
        }
    }

    /**
     * Uniform noise over the data set's range [min, max]: value {@code min + (max - min) * u} in double, rounded to
     * float, with {@code u} from {@link SplitMix#unit()} of the sample's stream, features in order.
     */
    record Noise(long seed) implements Baseline {
        @Override
        public float[] values(float[] data, int[] sampleShape) {
            int n = size(sampleShape);
            double lo = Double.POSITIVE_INFINITY;
            double hi = Double.NEGATIVE_INFINITY;
            for (float x : data) {
                lo = Math.min(lo, x);
                hi = Math.max(hi, x);
            }
            float[] v = new float[data.length];
            for (int b = 0; b < data.length / n; b++) {
                SplitMix r = new SplitMix(seed, b);
                for (int i = 0; i < n; i++) {
                    v[b * n + i] = (float) (lo + (hi - lo) * r.unit());
                }
            }
            return v;
        }

        @Override
        public String describe() {
            return "noise:" + seed;
        }
    }

    /** The sample blurred per channel by a Gaussian of {@code sigma} pixels ({@link GaussianBlur}). */
    record Blur(double sigma) implements Baseline {
        public Blur {
            InvalidArgumentException.check(sigma > 0 && Double.isFinite(sigma), "baseline", "blur needs a sigma "
                    + "> 0 in pixels, got " + sigma);
        }

        @Override
        public float[] values(float[] data, int[] sampleShape) {
            if (sampleShape.length != 3) {
                throw new ShapeMismatchException("input for the blur baseline", "images [channels, height, width]",
                        java.util.Arrays.toString(sampleShape));
            }
            return GaussianBlur.apply(data, sampleShape[1], sampleShape[2], sigma);
        }

        @Override
        public String describe() {
            return "blur:" + sigma;
        }
    }

    private static int size(int[] shape) {
        int n = 1;
        for (int d : shape) {
            n *= d;
        }
        return n;
    }
}
