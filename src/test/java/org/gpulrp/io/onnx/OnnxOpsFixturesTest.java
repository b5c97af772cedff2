package org.gpulrp.io.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.gpulrp.Tensor;
import org.gpulrp.io.Npy;
import org.gpulrp.model.Activation;
import org.gpulrp.model.AvgPool2d;
import org.gpulrp.model.Layer;
import org.gpulrp.model.MaxPool2d;
import org.gpulrp.model.Multiply;
import org.gpulrp.model.Network;
import org.gpulrp.model.Node;
import org.gpulrp.model.Permute;
import org.gpulrp.model.Scale;
import org.gpulrp.model.Slice;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * The exports of {@code scripts/make_onnx_ops_fixtures.py} (torchvision's DenseNet, GoogLeNet, Inception, MobileNet
 * v2/v3, EfficientNet, ShuffleNet, RegNet, MNASNet and SqueezeNet blocks in small networks, plus "misc"; opsets
 * 11/13/17, dynamic batch, folded or not) import and give torch's float64 forward output within 1e-4 of the sample's
 * largest |logit|; the layers they map to are the ones the issue names.
 */
class OnnxOpsFixturesTest {
    static final Path DIR = Path.of("src/test/resources/onnx-ops");

    static List<String> files() {
        return TorchvisionOnnxTest.listed(DIR);
    }

    static String model(String file) {
        return TorchvisionOnnxTest.model(file);
    }

    static Tensor inputs(String model) {
        Npy.Array a = Npy.read(DIR.resolve(model + "_input.npy"));
        return new Tensor(a.data(), a.shape());
    }

    static double[] reference(String model) {
        Npy.Array a = Npy.read(DIR.resolve(model + "_output.npy"));
        double[] d = new double[a.data().length];
        for (int i = 0; i < d.length; i++) {
            d[i] = a.data()[i];
        }
        return d;
    }

    @TestFactory
    Stream<DynamicTest> everyExportMatchesTorchsForwardOutput() {
        return files().stream().map(f -> DynamicTest.dynamicTest(f, () -> {
            String m = model(f);
            Tensor x = inputs(m);
            float[] y = TorchvisionOnnxTest.forward(OnnxImporter.load(DIR.resolve(f)), x);
            double[] want = reference(m);
            assertEquals(want.length, y.length, f + ": output size");
            int rows = x.shape()[0];
            int cols = want.length / rows;
            for (int b = 0; b < rows; b++) {
                double max = 0;
                for (int j = 0; j < cols; j++) {
                    max = Math.max(max, Math.abs(want[b * cols + j]));
                }
                for (int j = 0; j < cols; j++) {
                    double err = Math.abs(y[b * cols + j] - want[b * cols + j]);
                    if (!(err <= TorchvisionOnnxTest.TOLERANCE * max)) {
                        fail(String.format("%s: sample %d logit %d: torch %.9g, gpulrp %.9g (|error| %.3g)", f, b, j,
                                want[b * cols + j], y[b * cols + j], err));
                    }
                }
            }
        }));
    }

    private static Set<String> kinds(String file) {
        Network net = OnnxImporter.load(DIR.resolve(file));
        return net.nodes().stream().map(Node::layer).map(OnnxOpsFixturesTest::describe).collect(Collectors.toSet());
    }

    private static String describe(Layer l) {
        if (l instanceof Activation a) {
            return a.function().name();
        }
        if (l instanceof MaxPool2d p) {
            return p.geometry().ceilMode() ? "MaxPool2d(ceil)" : "MaxPool2d";
        }
        if (l instanceof Multiply m) {
            return m.spatial() == 1 ? "Multiply(1)" : "Multiply(gate)";
        }
        return l.getClass().getSimpleName();
    }

    @Test
    void eachBlockMapsToTheLayersItNeeds() {
        for (String opset : new String[] {"o11-nofold", "o13-fold", "o17-fold", "o17-nofold"}) {
            Set<String> v2 = kinds("mobilenet_v2-" + opset + ".onnx");
            assertTrue(v2.contains("RELU6"), opset + " " + v2);
            Set<String> v3 = kinds("mobilenet_v3-" + opset + ".onnx");
            assertTrue(v3.containsAll(List.of("HARDSWISH", "HARDSIGMOID", "Multiply(gate)")), opset + " " + v3);
            Set<String> eff = kinds("efficientnet-" + opset + ".onnx");
            assertTrue(eff.containsAll(List.of("SILU", "SIGMOID", "Multiply(gate)")), opset + " " + eff);
            Set<String> shuffle = kinds("shufflenet-" + opset + ".onnx");
            assertTrue(shuffle.containsAll(List.of("Slice", "Permute", "AvgPool2d")), opset + " " + shuffle);
            assertTrue(kinds("googlenet-" + opset + ".onnx").contains("MaxPool2d(ceil)"), opset);
            assertTrue(kinds("squeezenet-" + opset + ".onnx").contains("MaxPool2d(ceil)"), opset);
            Set<String> misc = kinds("misc-" + opset + ".onnx");
            assertTrue(misc.containsAll(List.of("Scale", "Slice", "Permute", "HARDSIGMOID")), opset + " " + misc);
        }
    }

    @Test
    void siluLeavesNoSigmoidBehindAndGatesReadTheFeatureMapFirst() {
        Network net = OnnxImporter.load(DIR.resolve("efficientnet-o17-fold.onnx"));
        long silu = net.nodes().stream().filter(n -> n.layer() instanceof Activation a
                && a.function() == Activation.Function.SILU).count();
        long sigmoid = net.nodes().stream().filter(n -> n.layer() instanceof Activation a
                && a.function() == Activation.Function.SIGMOID).count();
        assertEquals(9, silu, "3 blocks x (expand or depthwise, SE squeeze) + the head's SiLU");
        assertEquals(3, sigmoid, "one SE gate per block");
        for (Node n : net.nodes()) {
            if (n.layer() instanceof Multiply m) {
                assertTrue(m.spatial() > 1, n.name());
                assertEquals(n.outputSize(), n.inputSize() - n.outputSize() / m.spatial(), n.name());
            }
        }
    }

    @Test
    void poolingVariantsMapAsTheIssueSays() {
        // inception: F.avg_pool2d(x, 3, 1, 1) is Pad + AveragePool, folded into one AvgPool2d with padding 1
        Network inc = OnnxImporter.load(DIR.resolve("inception-o17-fold.onnx"));
        assertTrue(inc.nodes().stream().anyMatch(n -> n.layer() instanceof AvgPool2d p
                && p.geometry().padH() == 1 && p.geometry().kernelH() == 3), inc.toString());
        // misc: count_include_pad=False becomes AvgPool2d + a Scale of kH*kW/count (9/4 in the corners)
        Network misc = OnnxImporter.load(DIR.resolve("misc-o11-nofold.onnx"));
        Scale count = misc.nodes().stream().filter(n -> n.name().endsWith(".count")).map(n -> (Scale) n.layer())
                .findFirst().orElseThrow();
        assertEquals(9f / 4f, count.factors()[0], 0f);
        assertEquals(9f / 6f, count.factors()[1], 0f);
        // the shuffle of 8 channels in 4 groups: channel c of the output is channel (c % 4) * 2 + c / 4 of the input
        Permute p = misc.nodes().stream().filter(n -> n.layer() instanceof Permute).map(n -> (Permute) n.layer())
                .findFirst().orElseThrow();
        assertEquals(8, p.runs().length);
        int plane = p.index().length / 8;
        for (int c = 0; c < 8; c++) {
            assertEquals(((c % 4) * 2 + c / 4) * plane, p.index()[c * plane], "channel " + c);
        }
        assertTrue(misc.nodes().stream().anyMatch(n -> n.layer() instanceof Slice s && s.length() == 3 * plane));
    }
}
