package org.gpulrp.io.onnx;

import static org.gpulrp.io.onnx.OnnxOperatorsTest.load;
import static org.gpulrp.io.onnx.OnnxOperatorsTest.names;
import static org.gpulrp.io.onnx.OnnxWriter.attrInts;
import static org.gpulrp.io.onnx.OnnxWriter.floatTensor;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.function.DoubleUnaryOperator;
import org.gpulrp.io.ModelFormatException;
import org.gpulrp.io.onnx.OnnxWriter.Enc;
import org.gpulrp.model.Activation;
import org.gpulrp.model.LayerNorm;
import org.gpulrp.model.Network;
import org.junit.jupiter.api.Test;

/**
 * The chains of elementary operators the exporters write for LayerNorm, RMSNorm and GELU, in the association orders
 * they use, fuse into one layer each ({@link PatternFusion}) that computes what the chain does; a chain whose
 * intermediate value something else reads stays unfused.
 */
class OnnxPatternFusionTest {
    private static final int H = 4;
    private static final float[] W = {1.5f, -0.5f, 2, 0.25f};
    private static final float[] B = {0.1f, 0.2f, -0.3f, 0};

    /** x [N, 2, 4] float with the constants the chains use. */
    private static OnnxWriter graph() {
        OnnxWriter w = new OnnxWriter().opset(14).input("x", "N", 2, H).output("y")
                .floats("norm.weight", new long[] {H}, W, Enc.RAW).floats("norm.bias", new long[] {H}, B, Enc.RAW);
        for (float c : new float[] {0.5f, 1, 2, 3, 1e-5f, (float) Math.sqrt(2), (float) (1 / Math.sqrt(2)),
                0.044715f, (float) Math.sqrt(2 / Math.PI)}) {
            w.floats(name(c), new long[0], new float[] {c}, Enc.RAW);
        }
        return w;
    }

    private static String name(float c) {
        return "c" + Float.floatToIntBits(c);
    }

    private static double[] sample() {
        double[] x = new double[2 * H];
        for (int i = 0; i < x.length; i++) {
            x[i] = Math.sin(1.3 * i + 0.2) * 2;
        }
        return x;
    }

    private static double[] forward(Network net) {
        double[] in = sample();
        float[] f = new float[in.length];
        for (int i = 0; i < in.length; i++) {
            f[i] = (float) in[i];
        }
        for (int i = 0; i < in.length; i++) {
            in[i] = f[i];
        }
        return Float64Forward.forward(net, in);
    }

    private static void assertNorm(Network net, boolean rms, boolean affine) {
        assertEquals(1, net.nodes().size(), names(net).toString());
        LayerNorm n = (LayerNorm) net.nodes().get(0).layer();
        assertEquals(rms, n.rms());
        assertEquals(1e-5f, n.epsilon(), 0f);
        assertArrayEquals(affine ? W : new float[] {1, 1, 1, 1}, n.gamma());
        double[] x = sample();
        double[] y = forward(net);
        for (int p = 0; p < 2; p++) {
            double mean = 0;
            double sq = 0;
            for (int i = 0; i < H; i++) {
                mean += (float) x[p * H + i] / H;
            }
            mean = rms ? 0 : mean;
            for (int i = 0; i < H; i++) {
                sq += Math.pow((float) x[p * H + i] - mean, 2) / H;
            }
            for (int i = 0; i < H; i++) {
                double want = ((float) x[p * H + i] - mean) / Math.sqrt(sq + 1e-5f) * (affine ? W[i] : 1)
                        + (affine && !rms ? B[i] : 0);
                assertEquals(want, y[p * H + i], 1e-6, "position " + p + " feature " + i);
            }
        }
    }

    @Test
    void layerNormChainsFuse() {
        OnnxWriter w = graph()
                .node("ReduceMean", "/ln/ReduceMean", List.of("x"), List.of("m"), attrInts("axes", -1))
                .node("Sub", "/ln/Sub", List.of("x", "m"), List.of("d"))
                .node("Pow", "/ln/Pow", List.of("d", name(2)), List.of("p"))
                .node("ReduceMean", "/ln/ReduceMean_1", List.of("p"), List.of("v"), attrInts("axes", -1))
                .node("Add", "/ln/Add", List.of("v", name(1e-5f)), List.of("ve"))
                .node("Sqrt", "/ln/Sqrt", List.of("ve"), List.of("s"))
                .node("Div", "/ln/Div", List.of("d", "s"), List.of("n"));
        Network bare = load(w.node("Identity", "/id", List.of("n"), List.of("y")));
        assertEquals(List.of("ln.LayerNormalization", "id"), names(bare));
        assertNorm(load(graph()
                .node("ReduceMean", "/ln/ReduceMean", List.of("x"), List.of("m"), attrInts("axes", -1))
                .node("Sub", "/ln/Sub", List.of("x", "m"), List.of("d"))
                .node("Mul", "/ln/Pow", List.of("d", "d"), List.of("p"))
                .node("ReduceMean", "/ln/ReduceMean_1", List.of("p"), List.of("v"), attrInts("axes", -1))
                .node("Add", "/ln/Add", List.of(name(1e-5f), "v"), List.of("ve"))
                .node("Sqrt", "/ln/Sqrt", List.of("ve"), List.of("s"))
                .node("Div", "/ln/Div", List.of("d", "s"), List.of("n"))
                .node("Mul", "/ln/Mul", List.of("norm.weight", "n"), List.of("g"))
                .node("Add", "/ln/Add_1", List.of("g", "norm.bias"), List.of("y"))), false, true);
    }

    /** Llama's {@code weight * (x * rsqrt(mean(x^2) + eps))}, the products in either order, or {@code x / sqrt}. */
    @Test
    void rmsNormChainsFuse() {
        for (int order = 0; order < 3; order++) {
            OnnxWriter w = graph()
                    .node("Pow", "/rms/Pow", List.of("x", name(2)), List.of("p"))
                    .node("ReduceMean", "/rms/ReduceMean", List.of("p"), List.of("v"), attrInts("axes", -1))
                    .node("Add", "/rms/Add", List.of("v", name(1e-5f)), List.of("ve"))
                    .node("Sqrt", "/rms/Sqrt", List.of("ve"), List.of("s"));
            if (order == 0) {
                w.node("Div", "/rms/Div", List.of(name(1), "s"), List.of("r"))
                        .node("Mul", "/rms/Mul", List.of("x", "r"), List.of("n"))
                        .node("Mul", "/rms/Mul_1", List.of("norm.weight", "n"), List.of("y"));
            } else if (order == 1) {
                w.node("Reciprocal", "/rms/Reciprocal", List.of("s"), List.of("r"))
                        .node("Mul", "/rms/Mul", List.of("norm.weight", "x"), List.of("n"))
                        .node("Mul", "/rms/Mul_1", List.of("n", "r"), List.of("y"));
            } else {
                w.node("Div", "/rms/Div", List.of("x", "s"), List.of("n"))
                        .node("Mul", "/rms/Mul", List.of("n", "norm.weight"), List.of("y"));
            }
            Network net = load(w);
            assertEquals(List.of("norm"), names(net), "order " + order);
            assertNorm(net, true, true);
        }
    }

    private static void assertGelu(Network net, Activation.Function f, DoubleUnaryOperator want) {
        assertEquals(1, net.nodes().size(), names(net).toString());
        assertEquals(new Activation(f), net.nodes().get(0).layer());
        double[] x = sample();
        double[] y = forward(net);
        for (int i = 0; i < x.length; i++) {
            assertEquals(want.applyAsDouble((float) x[i]), y[i], 1e-7, "feature " + i);
        }
    }

    @Test
    void geluChainsFuseInEitherAssociation() {
        DoubleUnaryOperator erf = v -> 0.5 * v * (1 + Float64Forward.erf(v / Math.sqrt(2)));
        // torch's nn.GELU: x * (erf(x / sqrt 2) + 1), then * 0.5
        assertGelu(load(graph()
                .node("Div", "/act/Div", List.of("x", name((float) Math.sqrt(2))), List.of("d"))
                .node("Erf", "/act/Erf", List.of("d"), List.of("e"))
                .node("Add", "/act/Add", List.of("e", name(1)), List.of("a"))
                .node("Mul", "/act/Mul", List.of("x", "a"), List.of("m"))
                .node("Mul", "/act/Mul_1", List.of("m", name(0.5f)), List.of("y"))), Activation.Function.GELU, erf);
        // HuggingFace's python gelu: x * 0.5 first, x * (1 / sqrt 2) inside
        assertGelu(load(graph()
                .node("Mul", "/act/Mul_2", List.of(name((float) (1 / Math.sqrt(2))), "x"), List.of("d"))
                .node("Erf", "/act/Erf", List.of("d"), List.of("e"))
                .node("Add", "/act/Add", List.of(name(1), "e"), List.of("a"))
                .node("Mul", "/act/Mul", List.of("x", name(0.5f)), List.of("h"))
                .node("Mul", "/act/Mul_1", List.of("h", "a"), List.of("y"))), Activation.Function.GELU, erf);
        // the tanh form with Pow(x, 3)
        assertGelu(load(graph()
                .node("Pow", "/act/Pow", List.of("x", name(3)), List.of("c"))
                .node("Mul", "/act/Mul", List.of(name(0.044715f), "c"), List.of("k"))
                .node("Add", "/act/Add", List.of("x", "k"), List.of("i"))
                .node("Mul", "/act/Mul_1", List.of("i", name((float) Math.sqrt(2 / Math.PI))), List.of("t"))
                .node("Tanh", "/act/Tanh", List.of("t"), List.of("th"))
                .node("Add", "/act/Add_1", List.of("th", name(1)), List.of("a"))
                .node("Mul", "/act/Mul_2", List.of(name(0.5f), "x"), List.of("h"))
                .node("Mul", "/act/Mul_3", List.of("h", "a"), List.of("y"))), Activation.Function.GELU_TANH,
                v -> 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v))));
    }

    @Test
    void aChainWhoseInsideIsReadElsewhereStaysUnfused() {
        OnnxWriter w = graph()
                .node("Div", "/act/Div", List.of("x", name((float) Math.sqrt(2))), List.of("d"))
                .node("Erf", "/act/Erf", List.of("d"), List.of("e"))
                .node("Add", "/act/Add", List.of("e", name(1)), List.of("a"))
                .node("Mul", "/act/Mul", List.of("x", "a"), List.of("m"))
                .node("Mul", "/act/Mul_1", List.of("m", name(0.5f)), List.of("g"))
                .node("Add", "/out", List.of("g", "e"), List.of("y"));
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> load(w));
        assertEquals("Erf", e.opType(), e.getMessage());
        assertTrue(e.getMessage().contains("operator not supported"), e.getMessage());
        assertNull(OnnxImporter.load(graph().node("Tanh", "/t", List.of("x"), List.of("y")).build(), "t.onnx", null)
                .tokens(), "a lone Tanh is an activation");
    }

    /** A malformed node (a fuzzed file's) is no part of a chain: the mappers refuse it with the usual line. */
    @Test
    void malformedNodesAreNoChain() {
        OnnxWriter noOutput = graph()
                .node("Div", "/act/Div", List.of("x", name((float) Math.sqrt(2))), List.of("d"))
                .node("Erf", "/act/Erf", List.of("d"), List.of("e"))
                .node("Add", "/act/Add", List.of("e", name(1)), List.of())
                .node("Relu", "/r", List.of("x"), List.of("y"));
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> load(noOutput));
        assertEquals("Erf", e.opType(), e.getMessage());
        OnnxWriter oneInput = graph()
                .node("Pow", "/rms/Pow", List.of("x"), List.of("p"))
                .node("ReduceMean", "/rms/ReduceMean", List.of("p"), List.of("y"), attrInts("axes", -1));
        assertThrows(ModelFormatException.class, () -> load(oneInput));
    }

    @Test
    void constantArithmeticMapsToScalesAndOffsets() {
        Network net = load(graph().init(floatTensor("k", new long[] {1, 1, H}, W, Enc.RAW))
                .node("Sub", "/s", List.of(name(1), "x"), List.of("a"))
                .node("Neg", "/n", List.of("a"), List.of("b"))
                .node("Div", "/d", List.of("b", "k"), List.of("c"))
                .node("Sub", "/s2", List.of("c", "norm.bias"), List.of("y")));
        assertEquals(List.of("s.neg", "s", "n", "d", "s2"), names(net));
        double[] x = sample();
        double[] y = forward(net);
        for (int i = 0; i < x.length; i++) {
            double want = -(1 - (float) x[i]) * (double) (1 / W[i % H]) - B[i % H];
            assertEquals(want, y[i], 1e-6, "feature " + i);
        }
    }
}
