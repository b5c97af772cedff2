package org.gpulrp.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.Random;
import org.gpulrp.BackendChoice;
import org.gpulrp.Explainer;
import org.gpulrp.Explanation;
import org.gpulrp.GpuLrp;
import org.gpulrp.Target;
import org.gpulrp.Tensor;
import org.gpulrp.composite.Composites;
import org.gpulrp.io.Npy;
import org.gpulrp.io.onnx.ImportOptions;
import org.gpulrp.io.onnx.OnnxImporter;
import org.gpulrp.model.Network;
import org.gpulrp.testing.OpenClTestSupport;
import org.junit.jupiter.api.Test;

/**
 * {@link Explainer#score}: the forward pass alone gives the explanation's scores bit for bit, on the CPU path and on
 * OpenCL alike, in chunks of any size; whole evaluations therefore agree bit for bit across backends. And the zero
 * input embedding of token models leaves the original ids' scores unchanged.
 */
class ScoreBitsTest {
    private static float[] bits(Network net, BackendChoice be, Tensor x, int[] t, int chunk) {
        try (Explainer ex = GpuLrp.explainer(net).backend(be).chunkRows(chunk).build()) {
            return ex.score(x, t);
        }
    }

    private static Tensor digits(int copies) {
        Npy.Array a = Npy.read(Path.of("examples/digits/images.npy"));
        float[] d = new float[a.data().length * copies];
        Random r = new Random(3);
        for (int i = 0; i < d.length; i++) {
            d[i] = a.data()[i % a.data().length] * (copies == 1 ? 1f : (float) r.nextDouble());
        }
        return new Tensor(d, copies * a.shape()[0], 1, 8, 8);
    }

    @Test
    void scoresEqualTheExplanationsScoresOnTheCpuPath() {
        Network net = OnnxImporter.load(Path.of("examples/digits/model.onnx"));
        Tensor x = digits(3);
        try (Explainer ex = GpuLrp.explainer(net).composite(Composites.epsilonPlus()).backend(BackendChoice.CPU)
                .chunkRows(7).build()) {
            Explanation e = ex.explain(x, Target.argmax());
            float[] s = ex.score(x, e.targets());
            for (int b = 0; b < s.length; b++) {
                assertEquals(Float.floatToRawIntBits(e.scores()[b]), Float.floatToRawIntBits(s[b]), "sample " + b);
            }
        }
    }

    @Test
    void scoresAndCurvesAreTheSameBitsOnOpenCl() {
        OpenClTestSupport.assumeOpenCl();
        Network net = OnnxImporter.load(Path.of("examples/digits/model.onnx"));
        Tensor x = digits(4);
        int[] t = new int[x.rows()];
        for (int b = 0; b < t.length; b++) {
            t[b] = b % 10;
        }
        float[] cpu = bits(net, BackendChoice.CPU, x, t, 4096);
        assertArrayEquals(toBits(cpu), toBits(bits(net, BackendChoice.OPENCL, x, t, 4096)));
        assertArrayEquals(toBits(cpu), toBits(bits(net, BackendChoice.OPENCL, x, t, 5)));
        Evaluation.Settings s = new Evaluation.Settings(Regions.patches(new int[] {1, 8, 8}, 2),
                Baseline.parse("blur:1"), java.util.List.of(Order.MORF, Order.RANDOM), 16, 1);
        float[][][] curves = new float[2][][];
        BackendChoice[] backends = {BackendChoice.CPU, BackendChoice.OPENCL};
        for (int i = 0; i < 2; i++) {
            try (Explainer ex = GpuLrp.explainer(net).composite(Composites.epsilonGammaBox(0, 1))
                    .backend(backends[i]).build()) {
                curves[i] = Evaluation.run(ex, digits(1), Target.argmax(), s, null).curve(Order.MORF);
            }
        }
        for (int b = 0; b < curves[0].length; b++) {
            assertArrayEquals(toBits(curves[0][b]), toBits(curves[1][b]), "MoRF curve of sample " + b);
        }
    }

    @Test
    void theZeroEmbeddingKeepsTheOriginalIdsScores() {
        Network net = OnnxImporter.load(Path.of("examples/text/fortune-bert.onnx"),
                ImportOptions.defaults().withSequenceLength(6));
        Network zeroable = ZeroEmbedding.prepare(net);
        int vocab = net.tokens().vocab();
        assertEquals(vocab + 1, zeroable.tokens().vocab());
        int size = net.inputSize();
        float[] x = new float[2 * size];
        Random r = new Random(5);
        for (int b = 0; b < 2; b++) {
            for (int p = 0; p < 6; p++) {
                x[b * size + net.tokens().offset("input_ids") + p] = 1 + r.nextInt(vocab - 1);
                if (net.tokens().offset("attention_mask") >= 0) {
                    x[b * size + net.tokens().offset("attention_mask") + p] = 1;
                }
            }
        }
        Tensor ids = new Tensor(x, 2, size);
        int[] t = {0, 1};
        assertArrayEquals(toBits(bits(net, BackendChoice.CPU, ids, t, 64)),
                toBits(bits(zeroable, BackendChoice.CPU, ids, t, 64)));
        // Removing every token: all input embeddings zero, a different score.
        Evaluation.Result e;
        try (Explainer ex = GpuLrp.explainer(zeroable).composite(Composites.attnLrp())
                .backend(BackendChoice.CPU).build()) {
            e = Evaluation.run(ex, ids, Target.argmax(), new Evaluation.Settings(Regions.tokens(zeroable.tokens()),
                    ZeroEmbedding.baseline(zeroable), java.util.List.of(Order.MORF, Order.LERF), 6, 0), null);
        }
        assertEquals(e.curve(Order.MORF)[0][6], e.curve(Order.LERF)[0][6], 0f, "the same input after all removals");
    }

    private static int[] toBits(float[] f) {
        int[] b = new int[f.length];
        for (int i = 0; i < f.length; i++) {
            b[i] = Float.floatToRawIntBits(f[i]);
        }
        return b;
    }
}
