package org.gpulrp.io.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.gpulrp.BackendChoice;
import org.gpulrp.Explainer;
import org.gpulrp.Explanation;
import org.gpulrp.GpuLrp;
import org.gpulrp.Target;
import org.gpulrp.Tensor;
import org.gpulrp.backend.opencl.OpenClBackend;
import org.gpulrp.composite.Composite;
import org.gpulrp.composite.Composites;
import org.gpulrp.io.torch.Architecture;
import org.gpulrp.io.torch.StateDict;
import org.gpulrp.model.Add;
import org.gpulrp.model.AvgPool2d;
import org.gpulrp.model.BatchNorm;
import org.gpulrp.model.Conv2d;
import org.gpulrp.model.Dense;
import org.gpulrp.model.Layer;
import org.gpulrp.model.MaxPool2d;
import org.gpulrp.model.Network;
import org.gpulrp.model.Node;
import org.gpulrp.testing.OpenClTestSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * LRP on the torchvision-style exports of {@code TorchvisionOnnxTest}: the imported graphs have torchvision's
 * structure, EpsilonPlus and EpsilonGammaBox give the same bits on the CPU and OpenCL paths, relevance is conserved
 * where it must be, and the VGGs load from their state dicts through an {@link Architecture} spec. (The ResNets do not:
 * the spec language describes chains, not residual graphs.)
 */
class TorchvisionLrpTest {
    /** One export per model (both flatten forms, BatchNorm folded by torch or by gpulrp, opsets 11 and 17). */
    static final List<String> EXPLAINED = List.of("vgg-o17-dyn-fold.onnx", "vgg_bn-o17-dyn-keepbn.onnx",
            "resnet18-o17-dyn-fold.onnx", "resnet18-view-o11-dyn-keepbn.onnx", "resnet50-o17-dyn-fold.onnx");

    /** State-dict specs of torchvision's VGG layout (features.N / classifier.N), as the fixtures' script builds it. */
    static final Map<String, String> VGG_SPECS = Map.of(
            // cfg (8, M, 8, M, 8, 8): the last map is 7x7, so AdaptiveAvgPool2d((7, 7)) is a 1x1 average pool
            "vgg", "features.0:conv2d(padding=1),relu,maxpool2d(2),features.3:conv2d(padding=1),relu,maxpool2d(2),"
                    + "features.6:conv2d(padding=1),relu,features.8:conv2d(padding=1),relu,avgpool2d(1),flatten,"
                    + "classifier.0:linear,relu,dropout,classifier.3:linear,relu,dropout,classifier.6:linear",
            // cfg (8, M, 8, 8, 8) with BatchNorm: a 14x14 map, AdaptiveAvgPool2d((7, 7)) is a 2x2 average pool
            "vgg_bn", "features.0:conv2d(padding=1),features.1:batchnorm2d,relu,maxpool2d(2),"
                    + "features.4:conv2d(padding=1),features.5:batchnorm2d,relu,"
                    + "features.7:conv2d(padding=1),features.8:batchnorm2d,relu,"
                    + "features.10:conv2d(padding=1),features.11:batchnorm2d,relu,avgpool2d(2),flatten,"
                    + "classifier.0:linear,relu,dropout,classifier.3:linear,relu,dropout,classifier.6:linear");

    private static OpenClBackend device;

    @BeforeAll
    static void open() {
        // opened lazily by the OpenCL test so that the CPU tests run where OpenCL is missing
    }

    @AfterAll
    static void close() {
        if (device != null) {
            device.close();
            device = null;
        }
    }

    /** ZBox bounds that hold every input value (the inputs are standard normal draws). */
    static Composite gammaBox(Tensor x) {
        float lo = 0;
        float hi = 0;
        for (float v : x.toArray()) {
            lo = Math.min(lo, v);
            hi = Math.max(hi, v);
        }
        return Composites.epsilonGammaBox((float) Math.floor(lo), (float) Math.ceil(hi));
    }

    static Explanation explain(Explainer.Builder b, Composite c, Tensor x) {
        try (Explainer e = b.composite(c).build()) {
            return e.explain(x, Target.argmax());
        }
    }

    private static long count(Network net, Class<? extends Layer> kind) {
        return net.nodes().stream().filter(n -> kind.isInstance(n.layer())).count();
    }

    private static void assertSameBits(String what, float[] want, float[] got) {
        assertEquals(want.length, got.length, what + ": length");
        for (int k = 0; k < want.length; k++) {
            if (Float.floatToRawIntBits(want[k]) != Float.floatToRawIntBits(got[k])) {
                fail(String.format("%s: first difference at %d: %s vs %s", what, k, want[k], got[k]));
            }
        }
    }

    /** Convolutions, residual additions, pools and dense layers of each torchvision layout; no BatchNorm left. */
    @TestFactory
    Stream<DynamicTest> importedGraphsHaveTorchvisionsStructure() {
        // model -> {Conv2d, Add, MaxPool2d, AvgPool2d, Dense}
        Map<String, long[]> want = Map.of("vgg", new long[] {4, 0, 2, 1, 3}, "vgg_bn", new long[] {4, 0, 1, 1, 3},
                "resnet18", new long[] {1 + 8 * 2 + 3, 8, 1, 1, 1}, "resnet50", new long[] {1 + 16 * 3 + 4, 16, 1, 1, 1});
        return TorchvisionOnnxTest.files().stream().map(f -> DynamicTest.dynamicTest(f, () -> {
            Network net = TorchvisionOnnxTest.network(f);
            long[] counts = {count(net, Conv2d.class), count(net, Add.class), count(net, MaxPool2d.class),
                    count(net, AvgPool2d.class), count(net, Dense.class)};
            assertArrayEquals(want.get(TorchvisionOnnxTest.model(f)), counts, f + ": Conv2d, Add, MaxPool2d, "
                    + "AvgPool2d, Dense");
            assertEquals(0, count(net, BatchNorm.class), f + ": BatchNorm is folded");
            assertEquals(10, net.outputSize(), f);
            if (f.contains("keepbn")) {
                // torch keeps the parameter names when it does not fuse: the layers carry the state dict's names
                String conv = f.startsWith("vgg") ? "features.0" : "layer1.0.conv1";
                assertTrue(net.node(conv).layer() instanceof Conv2d, f + ": " + conv);
            }
        }));
    }

    /**
     * Conservation, checked in two ways. (1) With every bias set to zero and LRP-epsilon (eps 1e-6) on every layer,
     * each layer hands on exactly what it receives up to the stabilizer, so the input relevance must add up to the
     * explained logit within 1e-3 relative for each sample: a mis-wired residual addition, a lost branch or a
     * double-counted one breaks this. (2) With the biases as imported and the presets EpsilonPlus and
     * EpsilonGammaBox, which lose (or, through negative relevance on residual branches, gain) relevance at biases and
     * at neurons with no positive contribution, the ratio must stay positive and below 2 (measured: 0.28 to 1.23).
     */
    @TestFactory
    Stream<DynamicTest> relevanceIsConserved() {
        return EXPLAINED.stream().map(f -> DynamicTest.dynamicTest(f, () -> {
            Network net = TorchvisionOnnxTest.network(f);
            Tensor x = TorchvisionOnnxTest.inputs(TorchvisionOnnxTest.model(f));
            Explanation exact = explain(GpuLrp.explainer(withoutBiases(net)).backend(BackendChoice.CPU),
                    Composites.epsilon(), x);
            for (int b = 0; b < x.shape()[0]; b++) {
                assertEquals(1.0, exact.conservation(b).ratio(), 1e-3, f + " sample " + b + ", LRP-epsilon without "
                        + "biases: " + exact.conservation(b));
            }
            for (Composite c : new Composite[] {Composites.epsilonPlus(), gammaBox(x)}) {
                Explanation e = explain(GpuLrp.explainer(net).backend(BackendChoice.CPU), c, x);
                for (int b = 0; b < x.shape()[0]; b++) {
                    double r = e.conservation(b).ratio();
                    assertTrue(r > 0 && r < 2, f + " " + c + " sample " + b + ": " + e.conservation(b));
                }
            }
        }));
    }

    /** The same graph with zero biases in every convolution and dense layer. */
    static Network withoutBiases(Network net) {
        int[] s = net.inputShape();
        Network.Builder b = Network.builder(net.name() + "-nobias", s[0], s[1], s[2]);
        for (Node n : net.nodes()) {
            Layer l = n.layer();
            if (l instanceof Conv2d c) {
                l = new Conv2d(c.geometry(), c.weight(), new float[c.bias().length]);
            } else if (l instanceof Dense d) {
                l = new Dense(d.in(), d.out(), d.weight(), new float[d.out()]);
            }
            b.add(n.name(), l, n.sources().toArray(new String[0]));
        }
        return b.build();
    }

    @TestFactory
    Stream<DynamicTest> openClGivesTheCpuBits() {
        return EXPLAINED.stream().map(f -> DynamicTest.dynamicTest(f, () -> {
            if (device == null) {
                device = OpenClTestSupport.openOrSkip();
            }
            Network net = TorchvisionOnnxTest.network(f);
            Tensor x = TorchvisionOnnxTest.inputs(TorchvisionOnnxTest.model(f));
            for (Composite c : new Composite[] {Composites.epsilonPlus(), gammaBox(x)}) {
                Explanation cpu = explain(GpuLrp.explainer(net).backend(BackendChoice.CPU), c, x);
                Explanation cl = explain(GpuLrp.explainer(net).backend(device), c, x);
                assertSameBits(f + " " + c + ": relevance", cpu.relevance().toArray(), cl.relevance().toArray());
                assertSameBits(f + " " + c + ": outputs", cpu.outputs().toArray(), cl.outputs().toArray());
                assertArrayEquals(cpu.targets(), cl.targets(), f);
            }
        }));
    }

    /**
     * The VGGs' state dicts bound to torchvision's layout give torch's output and, against the ONNX export whose
     * weights are the same float32 values (vgg: no BatchNorm; vgg_bn: BatchNorm kept in the export and folded by
     * gpulrp in both), the same relevance bits.
     */
    @Test
    void vggStateDictsLoadThroughTheArchitectureSpec() {
        for (String[] m : new String[][] {{"vgg", "vgg-o17-dyn-fold.onnx"}, {"vgg_bn", "vgg_bn-o17-dyn-keepbn.onnx"}}) {
            Network pth = Architecture.parse(VGG_SPECS.get(m[0])).bind(
                    StateDict.read(TorchvisionOnnxTest.DIR.resolve(m[0] + ".pth")), 3, 28, 28);
            Tensor x = TorchvisionOnnxTest.inputs(m[0]);
            float[] y = TorchvisionOnnxTest.forward(pth, x);
            double[] ref = TorchvisionOnnxTest.reference(m[0]);
            for (int i = 0; i < y.length; i++) {
                assertEquals(ref[i], y[i], TorchvisionOnnxTest.TOLERANCE * Math.max(1, Math.abs(ref[i])), m[0] + " " + i);
            }
            Network onnx = TorchvisionOnnxTest.network(m[1]);
            List<String> kinds = new ArrayList<>();
            for (Composite c : new Composite[] {Composites.epsilonPlus(), gammaBox(x)}) {
                Explanation a = explain(GpuLrp.explainer(pth).backend(BackendChoice.CPU), c, x);
                Explanation b = explain(GpuLrp.explainer(onnx).backend(BackendChoice.CPU), c, x);
                assertSameBits(m[0] + " " + c + ": state dict vs ONNX", b.relevance().toArray(), a.relevance().toArray());
                kinds.add(c.toString());
            }
            assertEquals(2, kinds.size());
        }
    }
}
