package org.gpulrp.io.torch;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.gpulrp.BackendChoice;
import org.gpulrp.GpuLrp;
import org.gpulrp.InvalidArgumentException;
import org.gpulrp.ShapeMismatchException;
import org.gpulrp.Target;
import org.gpulrp.cli.SampleModel;
import org.gpulrp.io.ModelFormatException;
import org.gpulrp.io.Npy;
import org.gpulrp.model.Network;
import org.gpulrp.model.Node;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Binding state dicts to layer lists: the article's one-call load, Sequential names, and every binding error. */
class ArchitectureTest {
    private static final Path PTH = Path.of("examples/breast-cancer/model_weights.pth");

    @TempDir
    Path tmp;

    private static float[] outputs(Network net, float[][] x) {
        try (var ex = GpuLrp.explainer(net).backend(BackendChoice.CPU).build()) {
            return ex.explain(x, Target.classIndex(0)).outputs().toArray();
        }
    }

    @Test
    void sampleModelFromThePthEqualsTheBuiltInExampleBitForBit() {
        Network fromPth = Architecture.sampleModel().bind(StateDict.read(PTH));
        Network builtIn = SampleModel.network();
        assertEquals(List.of("fc1", "relu1", "fc2", "relu2", "fc3", "sigmoid"),
                fromPth.nodes().stream().map(Node::name).toList());
        assertEquals(10, fromPth.inputSize());
        float[][] x = SampleModel.heldOut().standardized();
        assertArrayEquals(outputs(builtIn, x), outputs(fromPth, x));
        assertEquals("fc1:linear,relu1:relu,fc2:linear,relu2:relu,fc3:linear,sigmoid:sigmoid",
                Architecture.sampleModel().toString());
    }

    @Test
    void sequentialSafetensorsFromPythonGiveTorchsOutputs() throws IOException {
        StateDict sd = StateDict.read(TorchFiles.resource("sequential.safetensors"));
        Network net = Architecture.parse("0:linear, relu, dropout, 3:linear, softmax").bind(sd);
        assertEquals(List.of("0", "relu", "dropout", "3", "softmax"),
                net.nodes().stream().map(Node::name).toList());
        Map<String, Npy.Array> io = TorchFiles.npz(TorchFiles.resource("sequential-io.npz"));
        float[] x = io.get("x").data();
        float[][] rows = new float[3][4];
        for (int b = 0; b < 3; b++) {
            System.arraycopy(x, 4 * b, rows[b], 0, 4);
        }
        float[] got = outputs(net, rows);
        float[] want = io.get("y").data();
        assertEquals(want.length, got.length);
        for (int k = 0; k < want.length; k++) {
            assertEquals(want[k], got[k], 1e-6, "output " + k); // summation order differs from torch's
        }
    }

    @Test
    void biasIsOptionalAndLeadingActivationsAreKept() {
        Map<String, TorchFiles.Tensor> t = new LinkedHashMap<>();
        t.put("a.weight", TorchFiles.f32(new long[] {1, 2}, 2f, -1f));
        Network net = Architecture.parse("identity,a:linear").bind(StateDict.read(
                TorchFiles.safetensors(tmp.resolve("nobias.safetensors"), t)));
        assertEquals(2, net.inputSize());
        assertArrayEquals(new float[] {2f * 3f - 4f}, outputs(net, new float[][] {{3f, 4f}}));
    }

    @Test
    void missingTensorIsNamedWithWhatTheFileHas() {
        ModelFormatException e = assertThrows(ModelFormatException.class,
                () -> Architecture.parse("fc1:linear,relu,fc2:linear,relu,fc9:linear").bind(StateDict.read(PTH)));
        assertTrue(e.getMessage().contains("'fc9.weight'") && e.getMessage().contains("which is missing")
                && e.getMessage().contains("fc3.weight, fc3.bias"), e.getMessage());
    }

    @Test
    void extraTensorsAreNamed() {
        ModelFormatException e = assertThrows(ModelFormatException.class,
                () -> Architecture.parse("fc1:linear,relu,fc2:linear,sigmoid").bind(StateDict.read(PTH)));
        assertTrue(e.getMessage().contains("the state dict has tensors the architecture does not use: fc3.weight, "
                + "fc3.bias"), e.getMessage());
    }

    @Test
    void misShapedWeightAndBiasAndBrokenChainsGiveExpectedVersusActual() {
        Map<String, TorchFiles.Tensor> t = new LinkedHashMap<>();
        t.put("a.weight", TorchFiles.f32(new long[] {2, 3}, 1, 2, 3, 4, 5, 6));
        t.put("a.bias", TorchFiles.f32(new long[] {3}, 1, 2, 3));
        StateDict badBias = StateDict.read(TorchFiles.safetensors(tmp.resolve("bias.safetensors"), t));
        ShapeMismatchException e = assertThrows(ShapeMismatchException.class,
                () -> Architecture.parse("a:linear").bind(badBias));
        assertEquals("a.bias", e.what());
        assertEquals("[2]", e.expected());
        assertEquals("[3]", e.actual());

        t.put("a.bias", TorchFiles.f32(new long[] {2}, 1, 2));
        t.put("b.weight", TorchFiles.f32(new long[] {1, 3}, 1, 2, 3)); // a gives 2 features, b wants 3
        StateDict chain = StateDict.read(TorchFiles.safetensors(tmp.resolve("chain.safetensors"), t));
        e = assertThrows(ShapeMismatchException.class, () -> Architecture.parse("a:linear,relu,b:linear").bind(chain));
        assertTrue(e.expected().contains("in = 2") && e.expected().contains("outputs of a"), e.getMessage());
        assertEquals("[1, 3]", e.actual());

        t.clear();
        t.put("a.weight", TorchFiles.f32(new long[] {6}, 1, 2, 3, 4, 5, 6));
        StateDict flat = StateDict.read(TorchFiles.safetensors(tmp.resolve("flat.safetensors"), t));
        e = assertThrows(ShapeMismatchException.class, () -> Architecture.parse("a:linear").bind(flat));
        assertEquals("[6]", e.actual());
    }

    @Test
    void badSpecsSayWhatIsWrong() {
        String[][] cases = {
            {"", "is empty"},
            {"fc1:linear,,relu", "entry 2"},
            {"fc1:conv", "unknown layer kind 'conv'"},
            {"linear,relu", "needs a name"},
            {"fc1:linear,fc1:linear", "'fc1' appears twice"},
            {"a:b:linear", "more than one ':'"},
            {"relu,sigmoid", "no linear layer"},
            {"fc 1:linear", "bad name 'fc 1'"},
        };
        for (String[] c : cases) {
            InvalidArgumentException e = assertThrows(InvalidArgumentException.class, () -> Architecture.parse(c[0]),
                    c[0]);
            assertTrue(e.getMessage().contains(c[1]), c[0] + " -> " + e.getMessage());
        }
        assertThrows(InvalidArgumentException.class, () -> Architecture.parse(null));
    }

    @Test
    void unnamedActivationsAreNumberedOnlyWhenRepeated() {
        assertEquals(List.of("l1", "relu1", "l2", "relu2", "l3", "softmax"),
                Architecture.parse("l1:linear,relu,l2:linear,ReLU,l3:linear,softmax").layerNames());
        assertEquals(List.of("relu", "relu_", "x"), Architecture.parse("relu:linear,relu,x:linear").layerNames());
    }
}
