package org.gpulrp.io.onnx;

import static org.gpulrp.io.onnx.OnnxSampleModelTest.bits;
import static org.gpulrp.io.onnx.OnnxWriter.attrFloat;
import static org.gpulrp.io.onnx.OnnxWriter.attrInt;
import static org.gpulrp.io.onnx.OnnxWriter.attrTensor;
import static org.gpulrp.io.onnx.OnnxWriter.longTensor;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.gpulrp.BackendChoice;
import org.gpulrp.GpuLrp;
import org.gpulrp.Target;
import org.gpulrp.io.onnx.OnnxWriter.Enc;
import org.gpulrp.model.Activation;
import org.gpulrp.model.Dense;
import org.gpulrp.model.Identity;
import org.gpulrp.model.LayerKind;
import org.gpulrp.model.Network;
import org.gpulrp.model.Node;
import org.junit.jupiter.api.Test;

/** Each supported operator and attribute maps to the layer it means. */
class OnnxOperatorsTest {
    /** Weight [out=2, in=3], PyTorch layout. */
    static final float[] W = {1, 2, 3, 4, 5, 6};
    /** The same weight as ONNX MatMul / Gemm(transB=0) stores it: [in=3, out=2]. */
    static final float[] WT = {1, 4, 2, 5, 3, 6};

    static Network load(OnnxWriter w) {
        return OnnxImporter.load(w.build(), "test.onnx", null);
    }

    static Dense dense(Network net, String name) {
        return (Dense) net.node(name).layer();
    }

    static List<String> names(Network net) {
        return net.nodes().stream().map(Node::name).toList();
    }

    private static OnnxWriter gemm(float[] weight, long[] dims, byte[]... attrs) {
        return new OnnxWriter().input("x", "N", 3).output("y")
                .floats("fc.weight", dims, weight, Enc.RAW)
                .node("Gemm", "/fc/Gemm", List.of("x", "fc.weight"), List.of("y"), attrs);
    }

    @Test
    void gemmTransBOneAndZeroGiveTheSameLayer() {
        Dense b1 = dense(load(gemm(W, new long[] {2, 3}, attrInt("transB", 1))), "fc");
        Dense b0 = dense(load(gemm(WT, new long[] {3, 2}, attrInt("transB", 0))), "fc");
        Dense absent = dense(load(gemm(WT, new long[] {3, 2})), "fc");
        for (Dense d : new Dense[] {b1, b0, absent}) {
            assertEquals(3, d.in());
            assertEquals(2, d.out());
            assertArrayEquals(W, d.weight());
            assertArrayEquals(new float[2], d.bias()); // C absent: no bias
        }
    }

    @Test
    void gemmAlphaScalesTheWeightAndBetaTheBias() {
        OnnxWriter w = new OnnxWriter().input("x", "N", 3).output("y")
                .floats("fc.weight", new long[] {2, 3}, W, Enc.RAW)
                .floats("fc.bias", new long[] {1, 2}, new float[] {1, -3}, Enc.RAW)
                .node("Gemm", "g", List.of("x", "fc.weight", "fc.bias"), List.of("y"),
                        attrFloat("alpha", 2f), attrFloat("beta", 0.5f), attrInt("transB", 1));
        Dense d = dense(load(w), "fc");
        assertArrayEquals(new float[] {2, 4, 6, 8, 10, 12}, d.weight());
        assertArrayEquals(new float[] {0.5f, -1.5f}, d.bias());
    }

    @Test
    void gemmBiasMayBeAVectorOrAScalar() {
        for (long[] dims : new long[][] {{2}, {1, 2}}) {
            OnnxWriter w2 = new OnnxWriter().input("x", "N", 3).output("y")
                    .floats("fc.weight", new long[] {2, 3}, W, Enc.RAW)
                    .floats("c", dims, new float[] {7, 8}, Enc.PACKED)
                    .node("Gemm", "g", List.of("x", "fc.weight", "c"), List.of("y"), attrInt("transB", 1));
            assertArrayEquals(new float[] {7, 8}, dense(load(w2), "fc").bias());
        }
        OnnxWriter scalar = new OnnxWriter().input("x", "N", 3).output("y")
                .floats("fc.weight", new long[] {2, 3}, W, Enc.RAW)
                .floats("c", new long[0], new float[] {9}, Enc.RAW)
                .node("Gemm", "g", List.of("x", "fc.weight", "c"), List.of("y"), attrInt("transB", 1));
        assertArrayEquals(new float[] {9, 9}, dense(load(scalar), "fc").bias());
    }

    @Test
    void matMulFollowedByAddBecomesOneDenseWithBias() {
        for (boolean biasFirst : new boolean[] {false, true}) {
            OnnxWriter w = new OnnxWriter().input("x", "batch", 3).output("y")
                    .floats("lin.weight", new long[] {3, 2}, WT, Enc.RAW)
                    .floats("lin.bias", new long[] {2}, new float[] {0.25f, -1}, Enc.RAW)
                    .node("MatMul", "mm", List.of("x", "lin.weight"), List.of("h"))
                    .node("Add", "add", biasFirst ? List.of("lin.bias", "h") : List.of("h", "lin.bias"),
                            List.of("z"))
                    .node("Relu", "act", List.of("z"), List.of("y"));
            Network net = load(w);
            assertEquals(List.of("lin", "act"), names(net));
            assertArrayEquals(W, dense(net, "lin").weight());
            assertArrayEquals(new float[] {0.25f, -1}, dense(net, "lin").bias());
        }
    }

    @Test
    void matMulAloneIsADenseWithoutBiasNamedAfterTheNode() {
        OnnxWriter w = new OnnxWriter().input("x", "batch", 3).output("y")
                .floats("onnx::MatMul_7", new long[] {3, 2}, WT, Enc.UNPACKED)
                .node("MatMul", "mm", List.of("x", "onnx::MatMul_7"), List.of("h"))
                .node("Sigmoid", null, List.of("h"), List.of("y"));
        Network net = load(w);
        assertEquals(List.of("mm", "sigmoid_1"), names(net));
        assertArrayEquals(W, dense(net, "mm").weight());
        assertArrayEquals(new float[2], dense(net, "mm").bias());
        assertEquals(new Activation(Activation.Function.SIGMOID), net.nodes().get(1).layer());
    }

    @Test
    void flattenReshapeIdentityDropoutPassValuesThroughAndSoftmaxEnds() {
        OnnxWriter w = new OnnxWriter().input("x", "N", 1, 2, 3).output("y")
                .floats("fc.weight", new long[] {2, 6}, new float[] {1, 0, 0, 0, 0, 1, 0, 1, 0, 0, 1, 0}, Enc.RAW)
                .init(longTensor("shape", new long[] {-1, 2}, false))
                .node("Flatten", "/Flatten", List.of("x"), List.of("f"), attrInt("axis", 1))
                .node("Gemm", "/fc/Gemm", List.of("f", "fc.weight"), List.of("g"), attrInt("transB", 1))
                .node("Reshape", "/Reshape", List.of("g", "shape"), List.of("r"))
                .node("Identity", "/Identity", List.of("r"), List.of("i"))
                .node("Dropout", "/drop/Dropout", List.of("i"), List.of("d", "mask"))
                .node("Softmax", "/Softmax", List.of("d"), List.of("y"), attrInt("axis", -1));
        Network net = load(w);
        assertEquals(6, net.inputSize());
        assertEquals(2, net.outputSize());
        assertEquals(List.of("Flatten", "fc", "Reshape", "Identity", "drop.Dropout", "Softmax"), names(net));
        for (String id : new String[] {"Flatten", "Reshape", "Identity", "drop.Dropout"}) {
            assertEquals(new Identity(), net.node(id).layer(), id);
        }
        assertEquals(LayerKind.ACTIVATION, net.node("Softmax").kind());
        float[] out = outputs(net, new float[][] {{3, 0, 0, 0, 1, 5}});
        // fc picks features 0+5 = 8 and 1+4 = 1; softmax of (8, 1)
        double e = Math.exp(-7);
        assertEquals(1 / (1 + e), out[0], 1e-6);
        assertEquals(e / (1 + e), out[1], 1e-6);
    }

    @Test
    void reshapeShapeMayComeFromAConstantNodeAndKeepTheBatchWithZero() {
        OnnxWriter w = new OnnxWriter().input("x", "N", 3).output("y")
                .floats("fc.weight", new long[] {2, 3}, W, Enc.RAW)
                .node("Constant", "c", List.of(), List.of("shape"),
                        attrTensor("value", longTensor("", new long[] {0, 2}, true)))
                .node("Gemm", "g", List.of("x", "fc.weight"), List.of("h"), attrInt("transB", 1))
                .node("Reshape", "rs", List.of("h", "shape"), List.of("y"));
        Network net = load(w);
        assertEquals(List.of("fc", "rs"), names(net));
    }

    @Test
    void softmaxWithTheOldDefaultAxisIsAccepted() {
        OnnxWriter w = new OnnxWriter().opset(11).input("x", "N", 3).output("y")
                .node("Softmax", "sm", List.of("x"), List.of("y"));
        Network net = load(w);
        assertEquals(new Activation(Activation.Function.SOFTMAX), net.node("sm").layer());
    }

    @Test
    void batchMayBeSymbolicFixedOrUnknown() {
        for (Object[] dims : new Object[][] {{"batch", 3}, {1, 3}, {"N", "F"}, {}}) {
            OnnxWriter w = new OnnxWriter().input("x", dims).output("y")
                    .floats("fc.weight", new long[] {2, 3}, W, Enc.RAW)
                    .node("Gemm", "g", List.of("x", "fc.weight"), List.of("y"), attrInt("transB", 1));
            Network net = load(w);
            assertEquals(3, net.inputSize(), java.util.Arrays.toString(dims));
            assertEquals(2, net.outputSize());
        }
    }

    @Test
    void generatedAndRepeatedNamesAreMadeUnique() {
        OnnxWriter w = new OnnxWriter().input("x", "N", 3).output("y")
                .node("Relu", "act", List.of("x"), List.of("a"))
                .node("Relu", "act", List.of("a"), List.of("b"))
                .node("Relu", "", List.of("b"), List.of("c"))
                .node("Relu", "/block/Relu", List.of("c"), List.of("y"));
        assertEquals(List.of("act", "act_2", "relu_2", "block.Relu"), names(load(w)));
    }

    @Test
    void loadedGemmComputesTheForwardPass() {
        OnnxWriter w = new OnnxWriter().input("x", "N", 3).output("y")
                .floats("fc.weight", new long[] {2, 3}, W, Enc.RAW)
                .floats("fc.bias", new long[] {2}, new float[] {0.5f, -100}, Enc.RAW)
                .node("Gemm", "g", List.of("x", "fc.weight", "fc.bias"), List.of("h"), attrInt("transB", 1))
                .node("Relu", "r", List.of("h"), List.of("y"));
        float[] out = outputs(load(w), new float[][] {{1, 1, 1}, {1, -1, 2}});
        assertArrayEquals(bits(new float[] {6.5f, 0, 5.5f, 0}), bits(out));
    }

    static float[] outputs(Network net, float[][] x) {
        try (var ex = GpuLrp.explainer(net).backend(BackendChoice.CPU).build()) {
            return ex.explain(x, Target.classIndex(0)).outputs().toArray();
        }
    }
}
