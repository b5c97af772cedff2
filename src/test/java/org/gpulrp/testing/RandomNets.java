package org.gpulrp.testing;

import java.util.SplittableRandom;
import org.gpulrp.model.Network;

/**
 * Seeded random dense networks and input batches for tests: the same seed always gives the same floats.
 *
 * <p>Networks are built fluently; weights are uniform with variance 1/in (so activations stay O(1) at any depth),
 * about 2% of weights are exactly 0 (sign-split edge cases), biases are non-zero unless {@link Spec#zeroBias()}:
 * <pre>{@code
 * Network n = RandomNets.net(42, 10).dense(32).relu().dense(16).relu().dense(1).sigmoid().build();
 * float[][] x = RandomNets.inputs(7, 100, 10);
 * }</pre>
 * Node names: dense layers {@code fc1, fc2, ...}; activations {@code relu1, sigmoid2, softmax3, id4, ...} numbered
 * after the dense layer they follow. The random stream is consumed by dense layers only, in order, so two specs that
 * differ only in activations (e.g. with and without a final sigmoid) get the same weights.
 */
public final class RandomNets {
    private RandomNets() {
    }

    /** Starts a network of {@code inputs} features whose weights come from {@code seed}. */
    public static Spec net(long seed, int inputs) {
        return new Spec(seed, inputs);
    }

    /** A ReLU MLP with the given widths (input first), no final activation, non-zero biases. */
    public static Network mlp(long seed, int... widths) {
        Spec s = net(seed, widths[0]);
        for (int k = 1; k < widths.length; k++) {
            s.dense(widths[k]);
            if (k < widths.length - 1) {
                s.relu();
            }
        }
        return s.build();
    }

    /** A fluent, seeded network description; each call appends one layer. */
    public static final class Spec {
        private final SplittableRandom rnd;
        private final Network.Builder b;
        private int width;
        private int dense;
        private boolean zeroBias;
        private double biasScale = 0.3;
        private double zeroWeightFraction = 0.02;

        private Spec(long seed, int inputs) {
            this.rnd = new SplittableRandom(seed);
            this.b = Network.builder("random-" + seed, inputs);
            this.width = inputs;
        }

        /** Following dense layers get bias 0 (for conservation checks). */
        public Spec zeroBias() {
            this.zeroBias = true;
            return this;
        }

        /** Following dense layers get biases uniform in {@code [-scale, scale]} (default 0.3). */
        public Spec biasScale(double scale) {
            this.biasScale = scale;
            return this;
        }

        /** Fraction of weights set to exactly 0 in following dense layers (default 0.02). */
        public Spec zeroWeights(double fraction) {
            this.zeroWeightFraction = fraction;
            return this;
        }

        public Spec dense(int out) {
            dense++;
            float[] w = weights(rnd, out, width, zeroWeightFraction);
            float[] bias = new float[out];
            for (int j = 0; j < out; j++) {
                double v = (2 * rnd.nextDouble() - 1) * biasScale;
                bias[j] = zeroBias ? 0f : (float) v;
            }
            b.dense("fc" + dense, out, w, bias);
            width = out;
            return this;
        }

        public Spec relu() {
            b.relu("relu" + dense);
            return this;
        }

        public Spec sigmoid() {
            b.sigmoid("sigmoid" + dense);
            return this;
        }

        public Spec softmax() {
            b.softmax("softmax" + dense);
            return this;
        }

        public Spec identity() {
            b.identity("id" + dense);
            return this;
        }

        public Network build() {
            return b.build();
        }
    }

    /** {@code [out*in]} PyTorch-layout weights, uniform with variance 1/in, about {@code zeroFraction} exact zeros. */
    public static float[] weights(SplittableRandom rnd, int out, int in, double zeroFraction) {
        double scale = Math.sqrt(3.0 / in);
        float[] w = new float[out * in];
        for (int k = 0; k < w.length; k++) {
            double u = 2 * rnd.nextDouble() - 1;
            w[k] = rnd.nextDouble() < zeroFraction ? 0f : (float) (u * scale);
        }
        return w;
    }

    /**
     * A {@code [rows][features]} batch uniform in {@code [-2, 2]}, about 10% exact zeros (a few of them -0.0) and
     * never an all-zero row.
     */
    public static float[][] inputs(long seed, int rows, int features) {
        return inputs(seed, rows, features, -2f, 2f);
    }

    /** As {@link #inputs(long, int, int)}, uniform in {@code [low, high]} (zeros only where the range holds 0). */
    public static float[][] inputs(long seed, int rows, int features, float low, float high) {
        SplittableRandom rnd = new SplittableRandom(seed);
        boolean zeroOk = low <= 0 && high >= 0;
        float[][] x = new float[rows][features];
        for (int b = 0; b < rows; b++) {
            boolean nonZero = false;
            for (int i = 0; i < features; i++) {
                double p = rnd.nextDouble();
                double u = rnd.nextDouble();
                if (zeroOk && p < 0.08) {
                    x[b][i] = 0f;
                } else if (zeroOk && p < 0.10) {
                    x[b][i] = -0f;
                } else {
                    x[b][i] = (float) (low + (high - low) * u);
                }
                nonZero |= x[b][i] != 0f;
            }
            if (!nonZero) {
                x[b][features - 1] = high != 0 ? high : low;
            }
        }
        return x;
    }

    /** The rows of {@code x} as one row-major array. */
    public static float[] flatten(float[][] x) {
        int n = x.length == 0 ? 0 : x[0].length;
        float[] out = new float[x.length * n];
        for (int b = 0; b < x.length; b++) {
            System.arraycopy(x[b], 0, out, b * n, n);
        }
        return out;
    }
}
