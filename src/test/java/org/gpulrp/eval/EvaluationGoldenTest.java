package org.gpulrp.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.gpulrp.BackendChoice;
import org.gpulrp.Explainer;
import org.gpulrp.GpuLrp;
import org.gpulrp.Tensor;
import org.gpulrp.io.Npy;
import org.gpulrp.model.Network;
import org.junit.jupiter.api.Test;

/**
 * Region perturbation against an independent numpy implementation (scripts/make_evaluation_golden.py): the same
 * models, inputs, relevance and targets; the baselines, the curves of all three orders, AOPC and ABPC must agree.
 * The model runs in float32 here and in float64 there, so scores agree to about 1e-6 of their size.
 */
class EvaluationGoldenTest {
    private static final Path DIR = Path.of("src/test/resources/evaluation");

    private static Npy.Array read(String c, String f) {
        return Npy.read(DIR.resolve(c).resolve(f + ".npy"));
    }

    private static float[] data(String c, String f) {
        return read(c, f).data();
    }

    @Test
    void tabularNoiseBaselineAndCurvesMatchNumpy() throws IOException {
        Network net = Network.builder("mlp", 6)
                .dense("fc1", 5, data("tabular", "w1"), data("tabular", "b1")).relu("relu")
                .dense("fc2", 3, data("tabular", "w2"), data("tabular", "b2")).build();
        Baseline noise = Baseline.parse("noise:3");
        float[] x = data("tabular", "x");
        // Drawn from the same SplitMix64 streams: the same bits.
        assertArrayEquals(data("tabular", "baseline"), noise.values(x, new int[] {6}));
        check("tabular", net, Regions.features(6), noise);
    }

    @Test
    void imagePatchesWithBlurBaselineMatchNumpy() throws IOException {
        Network net = Network.builder("cnn", 2, 6, 7)
                .conv2d("conv", 3, 3, 1, 1, data("image", "conv_w"), data("image", "conv_b")).relu("relu")
                .flatten("flat").dense("fc", 4, data("image", "dense_w"), data("image", "dense_b")).build();
        Baseline blur = Baseline.parse("blur:1.2");
        float[] x = data("image", "x");
        float[] expected = data("image", "baseline");
        float[] got = blur.values(x, new int[] {2, 6, 7});
        for (int i = 0; i < got.length; i++) {
            assertEquals(expected[i], got[i], 1e-6f, "blurred value " + i);
        }
        Regions patches = Regions.patches(new int[] {2, 6, 7}, 4);
        assertEquals(4, patches.count());
        check("image", net, patches, blur);
    }

    private static void check(String c, Network net, Regions regions, Baseline baseline) throws IOException {
        Npy.Array x = read(c, "x");
        float[] t = data(c, "targets");
        int[] targets = new int[t.length];
        for (int b = 0; b < t.length; b++) {
            targets[b] = (int) t[b];
        }
        List<String> golden = Files.readAllLines(DIR.resolve(c).resolve("golden.csv"));
        int steps = Integer.parseInt(golden.get(2).split(",")[3]);
        Evaluation.Settings s = new Evaluation.Settings(regions, baseline, List.of(Order.MORF, Order.LERF,
                Order.RANDOM), steps, 5L);
        Evaluation.Result r;
        try (Explainer ex = GpuLrp.explainer(net).backend(BackendChoice.CPU).build()) {
            r = Evaluation.curves(ex, new Tensor(x.data(), x.shape()), new Tensor(data(c, "relevance"), x.shape()),
                    targets, s, Evaluation.Progress.NONE);
        }
        for (String line : golden.subList(2, golden.size())) {
            String[] f = line.split(",");
            Order o = Order.parse(f[0]);
            Npy.Array curve = read(c, "curve-" + f[0]);
            float[][] got = r.curve(o);
            for (int b = 0; b < got.length; b++) {
                for (int k = 0; k <= steps; k++) {
                    float want = curve.data()[b * (steps + 1) + k];
                    assertEquals(want, got[b][k], 2e-6 * Math.max(1, Math.abs(want)), c + " " + f[0] + " sample "
                            + b + " step " + k);
                }
            }
            assertEquals(Double.parseDouble(f[1]), r.aopc(o), 2e-6, c + " AOPC " + f[0]);
            assertEquals(Double.parseDouble(f[2]), r.abpc(), 2e-6, c + " ABPC");
        }
    }
}
