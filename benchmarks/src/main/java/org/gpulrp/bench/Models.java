package org.gpulrp.bench;

import java.util.SplittableRandom;
import org.gpulrp.composite.Composite;
import org.gpulrp.composite.Presets;
import org.gpulrp.model.Network;
import org.gpulrp.rules.ZBox;

/** The benchmarked networks (seeded random weights), their batch sizes and their composites. */
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
        return switch (model) {
            case "sample" -> 65536;
            case "cnn" -> 1024;
            case "vgg16", "vit-b16" -> 8;
            case "bert-base" -> 32;
            default -> 4096;
        };
    }

    /** Input features per sample. */
    static int inputSize(String model) {
        return switch (model) {
            case "cnn" -> 28 * 28;
            case "vgg16" -> 3 * 224 * 224;
            default -> widths(model)[0];
        };
    }

    /** Whether the model is one of {@link TransformerModels}'. */
    static boolean transformer(String model) {
        return model.equals("bert-base") || model.equals("vit-b16");
    }

    /** Rows on which setup checks that the CPU path and OpenCL agree bit for bit (a few for the transformers). */
    static int checkRows(String model) {
        return transformer(model) ? 1 : Math.min(512, batch(model));
    }

    static Network network(String model) {
        if (transformer(model)) {
            return TransformerModels.network(model);
        }
        if (model.equals("cnn") || model.equals("vgg16")) {
            return convNet(model);
        }
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

    /** He-initialized weights with small biases, seeded. */
    private static float[] weights(SplittableRandom rnd, int n, int fanIn) {
        float[] w = new float[n];
        float scale = (float) Math.sqrt(2.0 / fanIn);
        for (int k = 0; k < n; k++) {
            w[k] = (float) (rnd.nextGaussian() * scale);
        }
        return w;
    }

    private static float[] biases(SplittableRandom rnd, int n) {
        float[] b = new float[n];
        for (int k = 0; k < n; k++) {
            b[k] = (float) (rnd.nextGaussian() * 0.01);
        }
        return b;
    }

    /**
     * {@code cnn}: 1x28x28, conv 32 (3x3, pad 1), ReLU, max pool 2, conv 64, ReLU, max pool 2, dense 128, ReLU,
     * dense 10. {@code vgg16}: VGG-16's layer shapes at 3x224x224 (13 convolutions, 5 max pools, dense 4096, 4096,
     * 1000), random weights.
     */
    private static Network convNet(String model) {
        SplittableRandom rnd = new SplittableRandom(42);
        boolean vgg = model.equals("vgg16");
        Network.Builder b = vgg ? Network.builder(model, 3, 224, 224) : Network.builder(model, 1, 28, 28);
        int[] plan = vgg ? new int[] {64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512, 0}
                : new int[] {32, 0, 64, 0};
        int k = 0;
        for (int c : plan) {
            k++;
            if (c == 0) {
                b.maxPool2d("pool" + k, 2, 2);
                continue;
            }
            int in = b.shapeOf(b.last())[0];
            b.conv2d("conv" + k, c, 3, 1, 1, weights(rnd, c * in * 9, in * 9), biases(rnd, c)).relu("relu" + k);
        }
        b.flatten("flatten");
        int[] dense = vgg ? new int[] {4096, 4096, 1000} : new int[] {128, 10};
        for (int l = 0; l < dense.length; l++) {
            int in = b.shapeOf(b.last())[0];
            b.dense("fc" + (l + 1), dense[l], weights(rnd, dense[l] * in, in), biases(rnd, dense[l]));
            if (l + 1 < dense.length) {
                b.relu("fcrelu" + (l + 1));
            }
        }
        return b.build();
    }

    static float[] inputs(String model, int rows) {
        if (transformer(model)) {
            return TransformerModels.inputs(network(model), rows);
        }
        int in = inputSize(model);
        SplittableRandom rnd = new SplittableRandom(7);
        float[] x = new float[rows * in];
        for (int k = 0; k < x.length; k++) {
            x[k] = (float) rnd.nextGaussian();
        }
        return x;
    }

    /**
     * A composite by name ({@link Presets#parseCompositeOrRule}: a preset, or a rule name such as {@code epsilon} on
     * every linear layer); ZBox bounds not written are [-3, 3], which holds nearly all of the N(0, 1) inputs.
     */
    static Composite composite(String name) {
        return Presets.parseCompositeOrRule(name).resolve(new ZBox(-3f, 3f));
    }
}
