package org.gpulrp.io.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.List;
import org.gpulrp.BackendChoice;
import org.gpulrp.GpuLrp;
import org.gpulrp.Target;
import org.gpulrp.cli.SampleModel;
import org.gpulrp.io.Npy;
import org.gpulrp.model.Activation;
import org.gpulrp.model.Dense;
import org.gpulrp.model.Network;
import org.gpulrp.model.Node;
import org.junit.jupiter.api.Test;

/** The committed PyTorch export of the breast-cancer example loads to exactly the weights of its .npy files. */
class OnnxSampleModelTest {
    private static final Path DIR = Path.of("examples/breast-cancer");

    @Test
    void weightsAndBiasesMatchTheNpyFilesBitForBit() {
        Network net = OnnxImporter.load(DIR.resolve("model.onnx"));
        assertEquals(10, net.inputSize());
        assertEquals(1, net.outputSize());
        assertEquals("model", net.name());
        List<String> names = net.nodes().stream().map(Node::name).toList();
        assertEquals(List.of("fc1", "Relu", "fc2", "Relu_1", "fc3", "Sigmoid"), names);
        for (String fc : new String[] {"fc1", "fc2", "fc3"}) {
            Dense d = (Dense) net.node(fc).layer();
            Npy.Array w = Npy.read(DIR.resolve(fc + ".weight.npy"));
            Npy.Array b = Npy.read(DIR.resolve(fc + ".bias.npy"));
            assertEquals(w.shape()[0], d.out(), fc);
            assertEquals(w.shape()[1], d.in(), fc);
            assertArrayEquals(bits(w.data()), bits(d.weight()), fc + ".weight");
            assertArrayEquals(bits(b.data()), bits(d.bias()), fc + ".bias");
        }
        assertEquals(new Activation(Activation.Function.RELU), net.node("Relu").layer());
        assertEquals(new Activation(Activation.Function.RELU), net.node("Relu_1").layer());
        assertEquals(new Activation(Activation.Function.SIGMOID), net.node("Sigmoid").layer());
    }

    @Test
    void outputsEqualTheBuiltInSampleModelBitForBit() {
        Network onnx = OnnxImporter.load(DIR.resolve("model.onnx"));
        float[][] x = SampleModel.heldOut().standardized();
        float[] a;
        float[] b;
        try (var ex = GpuLrp.explainer(onnx).backend(BackendChoice.CPU).build()) {
            a = ex.explain(x, Target.classIndex(0)).outputs().toArray();
        }
        try (var ex = GpuLrp.explainer(SampleModel.network()).backend(BackendChoice.CPU).build()) {
            b = ex.explain(x, Target.classIndex(0)).outputs().toArray();
        }
        assertEquals(8, a.length);
        assertArrayEquals(bits(b), bits(a));
    }

    static int[] bits(float[] v) {
        int[] r = new int[v.length];
        for (int k = 0; k < v.length; k++) {
            r[k] = Float.floatToRawIntBits(v[k]);
        }
        return r;
    }
}
