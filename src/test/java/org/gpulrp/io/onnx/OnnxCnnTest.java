package org.gpulrp.io.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.gpulrp.BackendChoice;
import org.gpulrp.GpuLrp;
import org.gpulrp.Target;
import org.gpulrp.io.Npy;
import org.gpulrp.io.torch.StateDict;
import org.gpulrp.model.AvgPool2d;
import org.gpulrp.model.BatchNorm;
import org.gpulrp.model.Conv2d;
import org.gpulrp.model.Dense;
import org.gpulrp.model.MaxPool2d;
import org.gpulrp.model.Network;
import org.gpulrp.model.Node;
import org.junit.jupiter.api.Test;

/** CNN exports (the digits example and the fixtures of scripts/make_cnn_onnx_fixtures.py) import to torch's outputs. */
class OnnxCnnTest {
    private static final Path DIGITS = Path.of("examples/digits");
    private static final Path FIXTURES = Path.of("src/test/resources/onnx-cnn");

    static float[][] rows(Npy.Array a) {
        int n = a.shape()[0];
        int w = a.data().length / n;
        float[][] x = new float[n][w];
        for (int i = 0; i < n; i++) {
            System.arraycopy(a.data(), i * w, x[i], 0, w);
        }
        return x;
    }

    static float[] outputs(Network net, float[][] x) {
        try (var ex = GpuLrp.explainer(net).backend(BackendChoice.CPU).build()) {
            return ex.explain(x, Target.argmax()).outputs().toArray();
        }
    }

    private static int[] bits(float[] v) {
        int[] b = new int[v.length];
        for (int i = 0; i < v.length; i++) {
            b[i] = Float.floatToRawIntBits(v[i]);
        }
        return b;
    }

    @Test
    void digitsWeightsEqualTheStateDictBitForBit() {
        Network net = OnnxImporter.load(DIGITS.resolve("model.onnx"));
        assertArrayEquals(new int[] {1, 8, 8}, net.inputShape());
        assertEquals(10, net.outputSize());
        StateDict sd = StateDict.read(DIGITS.resolve("model_weights.pth"));
        for (String c : new String[] {"conv1", "conv2"}) {
            Conv2d conv = (Conv2d) net.node(c).layer();
            assertArrayEquals(bits(sd.tensors().get(c + ".weight").data()), bits(conv.weight()), c);
            assertArrayEquals(bits(sd.tensors().get(c + ".bias").data()), bits(conv.bias()), c);
            assertEquals(1, conv.geometry().padH());
        }
        for (String f : new String[] {"fc1", "fc2"}) {
            Dense d = (Dense) net.node(f).layer();
            assertArrayEquals(bits(sd.tensors().get(f + ".weight").data()), bits(d.weight()), f);
            assertArrayEquals(bits(sd.tensors().get(f + ".bias").data()), bits(d.bias()), f);
        }
        assertTrue(net.nodes().stream().anyMatch(n -> n.layer() instanceof MaxPool2d));
    }

    @Test
    void digitsPredictionsMatchLabelsCsv() throws IOException {
        Network net = OnnxImporter.load(DIGITS.resolve("model.onnx"));
        float[][] x = rows(Npy.read(DIGITS.resolve("images.npy")));
        float[] y = outputs(net, x);
        List<String> lines = Files.readAllLines(DIGITS.resolve("labels.csv"));
        assertEquals(x.length + 1, lines.size());
        for (int i = 0; i < x.length; i++) {
            String[] f = lines.get(i + 1).split(",");
            int predicted = Integer.parseInt(f[2].trim());
            double probability = Double.parseDouble(f[3].trim());
            int arg = 0;
            double max = Double.NEGATIVE_INFINITY;
            for (int c = 0; c < 10; c++) {
                if (y[i * 10 + c] > max) {
                    max = y[i * 10 + c];
                    arg = c;
                }
            }
            double sum = 0;
            for (int c = 0; c < 10; c++) {
                sum += Math.exp(y[i * 10 + c] - max);
            }
            assertEquals(predicted, arg, "row " + i);
            assertEquals(probability, 1 / sum, 1e-5, "row " + i);
        }
    }

    private static Network fixture(String name, float[][] x, float[] expected) {
        Network net = OnnxImporter.load(FIXTURES.resolve(name + ".onnx"));
        float[] y = outputs(net, x);
        assertEquals(expected.length, y.length, name);
        for (int i = 0; i < y.length; i++) {
            assertEquals(expected[i], y[i], 1e-5 * Math.max(1, Math.abs(expected[i])), name + " output " + i);
        }
        return net;
    }

    private static Network fixture(String name) {
        float[][] x = rows(Npy.read(FIXTURES.resolve(name + "_input.npy")));
        return fixture(name, x, Npy.read(FIXTURES.resolve(name + "_output.npy")).data());
    }

    @Test
    void convNetWithPaddingStrideDilationGroupsAndPadMatchesTorch() {
        Network net = fixture("convnet");
        List<Conv2d> convs = net.nodes().stream().map(Node::layer).filter(l -> l instanceof Conv2d)
                .map(l -> (Conv2d) l).toList();
        assertEquals(3, convs.size());
        assertEquals(2, convs.get(1).geometry().groups());
        assertEquals(2, convs.get(1).geometry().dilationH());
        assertEquals(2, convs.get(1).geometry().strideH());
        assertEquals(1, convs.get(2).geometry().padH(), "the Pad is merged into conv3");
    }

    @Test
    void residualBlockWithBatchNormIsFoldedAndMatchesTorch() {
        for (String name : new String[] {"resblock_bn", "resblock_folded"}) {
            Network net = fixture(name);
            assertTrue(net.nodes().stream().noneMatch(n -> n.layer() instanceof BatchNorm), name);
            assertTrue(net.nodes().stream().anyMatch(n -> n.layer() instanceof org.gpulrp.model.Add), name);
            assertTrue(net.nodes().stream().anyMatch(n -> n.layer() instanceof AvgPool2d), name);
        }
    }

    @Test
    void tinyVggAndConcatMatchTorch() {
        fixture("tinyvgg");
        Network net = fixture("concat");
        assertEquals(2, net.nodes().stream().filter(n -> n.layer() instanceof org.gpulrp.model.Concat).count());
    }
}
