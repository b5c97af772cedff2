package org.gpulrp.bench;

import java.util.SplittableRandom;
import org.gpulrp.composite.Composite;
import org.gpulrp.composite.Composites;
import org.gpulrp.model.Network;

/** The benchmarked networks (seeded random weights), their batch sizes and their work per sample. */
final class Models {
    private Models() {
    }

    /** Layer widths: input first. */
    static int[] widths(String model) {
        return switch (model) {
            case "sample" -> new int[] {10, 32, 16, 1};
            case "mlp" -> new int[] {784, 1024, 1024, 1024, 10};
            default -> throw new IllegalArgumentException("unknown model " + model);
        };
    }

    static int batch(String model) {
        return model.equals("sample") ? 65536 : 4096;
    }

    static Network network(String model) {
        int[] w = widths(model);
        SplittableRandom rnd = new SplittableRandom(42);
        Network.Builder b = Network.builder(model, w[0]);
        for (int l = 1; l < w.length; l++) {
            int in = w[l - 1];
            int out = w[l];
            float[] weight = new float[in * out];
            float scale = (float) Math.sqrt(2.0 / in);
            for (int k = 0; k < weight.length; k++) {
                weight[k] = (float) (rnd.nextGaussian() * scale);
            }
            float[] bias = new float[out];
            for (int k = 0; k < out; k++) {
                bias[k] = (float) (rnd.nextGaussian() * 0.01);
            }
            b.dense("fc" + l, out, weight, bias);
            if (l + 1 < w.length) {
                b.relu("relu" + l);
            }
        }
        if (model.equals("sample")) {
            b.sigmoid("sigmoid");
        }
        return b.build();
    }

    static float[] inputs(String model, int rows) {
        int in = widths(model)[0];
        SplittableRandom rnd = new SplittableRandom(7);
        float[] x = new float[rows * in];
        for (int k = 0; k < x.length; k++) {
            x[k] = (float) rnd.nextGaussian();
        }
        return x;
    }

    static Composite composite(String name) {
        return switch (name) {
            case "epsilon" -> Composites.epsilon();
            case "epsilon-plus" -> Composites.epsilonPlus();
            default -> throw new IllegalArgumentException("unknown composite " + name);
        };
    }

    /**
     * Floating-point operations per sample for dense Epsilon: the forward pass ({@code 2 K N} per layer) and the
     * backprojection ({@code 2 K N}); normalization and activations are O(N) and left out.
     */
    static double flopsPerSample(String model) {
        int[] w = widths(model);
        double f = 0;
        for (int l = 1; l < w.length; l++) {
            f += 4.0 * w[l - 1] * w[l];
        }
        return f;
    }
}
