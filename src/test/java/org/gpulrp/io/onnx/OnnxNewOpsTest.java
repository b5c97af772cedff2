package org.gpulrp.io.onnx;

import static org.gpulrp.io.onnx.OnnxOperatorsTest.load;
import static org.gpulrp.io.onnx.OnnxOperatorsTest.names;
import static org.gpulrp.io.onnx.OnnxWriter.attrFloat;
import static org.gpulrp.io.onnx.OnnxWriter.attrInt;
import static org.gpulrp.io.onnx.OnnxWriter.attrInts;
import static org.gpulrp.io.onnx.OnnxWriter.floatTensor;
import static org.gpulrp.io.onnx.OnnxWriter.longTensor;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.gpulrp.Tensor;
import org.gpulrp.io.ModelFormatException;
import org.gpulrp.io.onnx.OnnxWriter.Enc;
import org.gpulrp.model.Activation;
import org.gpulrp.model.Activation.Function;
import org.gpulrp.model.AvgPool2d;
import org.gpulrp.model.Identity;
import org.gpulrp.model.Index;
import org.gpulrp.model.Multiply;
import org.gpulrp.model.Network;
import org.gpulrp.model.Permute;
import org.gpulrp.model.Scale;
import org.gpulrp.model.Slice;
import org.junit.jupiter.api.Test;

/**
 * The operators of issue 14's importer part on small hand-written graphs: what each maps to, the forward values
 * where a mapping could go wrong (fusions, gates, padding, permutations), and a one-line refusal naming the node for
 * everything outside the supported forms.
 */
class OnnxNewOpsTest {
    /** x: [N, c, h, w], y the output. */
    private static OnnxWriter image(long opset, int c, int h, int w) {
        return new OnnxWriter().opset(opset).input("x", "N", c, h, w).output("y");
    }

    private static float[] sample(int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) Math.sin(1.7 * i + 0.3) * 4;
        }
        return x;
    }

    private static float[] forward(Network net, float[] x) {
        int[] shape = new int[net.inputShape().length + 1];
        shape[0] = 1;
        System.arraycopy(net.inputShape(), 0, shape, 1, net.inputShape().length);
        return TorchvisionOnnxTest.forward(net, new Tensor(x, shape));
    }

    private static Function function(Network net, String node) {
        return ((Activation) net.node(node).layer()).function();
    }

    private static void nodeError(OnnxWriter w, String node, String op, String... fragments) {
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> load(w));
        assertEquals(node, e.node(), e.getMessage());
        assertEquals(op, e.opType(), e.getMessage());
        assertTrue(!e.getMessage().contains("\n"), "one line: " + e.getMessage());
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "missing '" + f + "' in: " + e.getMessage());
        }
    }

    @Test
    void xTimesSigmoidOfXIsOneSiluAndTheSigmoidGoes() {
        Network net = load(image(17, 2, 2, 2).node("Sigmoid", "s", List.of("x"), List.of("s"))
                .node("Mul", "m", List.of("x", "s"), List.of("y")));
        assertEquals(List.of("m"), names(net));
        assertEquals(Function.SILU, function(net, "m"));
        float[] x = sample(8);
        float[] y = forward(net, x);
        for (int i = 0; i < 8; i++) {
            assertEquals(x[i] / (1 + Math.exp(-x[i])), y[i], 1e-5, "feature " + i);
        }
        // read elsewhere too, the Sigmoid stays; the operand order does not matter
        Network kept = load(image(17, 2, 2, 2).node("Sigmoid", "s", List.of("x"), List.of("s"))
                .node("Mul", "m", List.of("s", "x"), List.of("m"))
                .node("Add", "a", List.of("m", "s"), List.of("y")));
        assertEquals(List.of("s", "m", "a"), names(kept));
        assertEquals(Function.SIGMOID, function(kept, "s"));
        assertEquals(Function.SILU, function(kept, "m"));
        assertEquals(List.of("m", "s"), kept.node("a").inputs());
    }

    @Test
    void hardSwishBothWaysAndHardSigmoidOnlyWithPyTorchsConstants() {
        Network before14 = load(image(13, 1, 2, 2).node("HardSigmoid", "hs", List.of("x"), List.of("h"),
                attrFloat("alpha", 1f / 6)).node("Mul", "m", List.of("x", "h"), List.of("y")));
        assertEquals(List.of("m"), names(before14));
        assertEquals(Function.HARDSWISH, function(before14, "m"));
        float[] x = {-4, -1, 2, 5};
        float[] y = forward(before14, x);
        for (int i = 0; i < 4; i++) {
            assertEquals(x[i] * Math.min(Math.max(x[i] / 6 + 0.5, 0), 1), y[i], 1e-6, "feature " + i);
        }
        Network op14 = load(image(14, 1, 2, 2).node("HardSwish", "hs", List.of("x"), List.of("y")));
        assertEquals(Function.HARDSWISH, function(op14, "hs"));
        Network gate = load(image(17, 1, 2, 2).node("HardSigmoid", "hs", List.of("x"), List.of("y"),
                attrFloat("alpha", 0.16666667f), attrFloat("beta", 0.5f)));
        assertEquals(Function.HARDSIGMOID, function(gate, "hs"));
        nodeError(image(17, 1, 2, 2).node("HardSigmoid", "hs", List.of("x"), List.of("y")), "hs", "HardSigmoid",
                "alpha=0.2", "alpha=1/6");
        nodeError(image(17, 1, 2, 2).node("HardSigmoid", "hs", List.of("x"), List.of("y"),
                attrFloat("alpha", 1f / 6), attrFloat("beta", 0.4f)), "hs", "HardSigmoid", "beta=0.4");
    }

    @Test
    void clipIsReluSixOrRelu() {
        OnnxWriter six = image(11, 1, 2, 2)
                .init(floatTensor("lo", new long[0], new float[] {0}, Enc.RAW))
                .init(floatTensor("hi", new long[0], new float[] {6}, Enc.RAW))
                .node("Clip", "c", List.of("x", "lo", "hi"), List.of("y"));
        assertEquals(Function.RELU6, function(load(six), "c"));
        assertArrayEquals(new float[] {0, 0, 6, 6}, forward(load(six), new float[] {-3, 0, 6, 9}));
        OnnxWriter relu = image(13, 1, 2, 2).init(floatTensor("lo", new long[0], new float[] {0}, Enc.RAW))
                .node("Clip", "c", List.of("x", "lo", ""), List.of("y"));
        assertEquals(Function.RELU, function(load(relu), "c"));
        OnnxWriter attrs = image(9, 1, 2, 2).node("Clip", "c", List.of("x"), List.of("y"), attrFloat("min", 0),
                attrFloat("max", 6));
        assertEquals(Function.RELU6, function(load(attrs), "c"));
        nodeError(image(9, 1, 2, 2).node("Clip", "c", List.of("x"), List.of("y"), attrFloat("min", 0),
                attrFloat("max", 5)), "c", "Clip", "clips to [0.0, 5.0]", "ReLU6");
        nodeError(image(13, 1, 2, 2).node("Relu", "r", List.of("x"), List.of("r"))
                .node("Clip", "c", List.of("x", "r"), List.of("y")), "c", "Clip", "'r' is not a constant");
    }

    /** x [4, 2, 2] -> Relu a; GlobalAveragePool -> Sigmoid g [4, 1, 1]; y = g * a (gate first, as torchvision). */
    @Test
    void aSqueezeExcitationGateReadsTheFeatureMapFirst() {
        Network net = load(image(17, 4, 2, 2).node("Relu", "a", List.of("x"), List.of("a"))
                .node("GlobalAveragePool", "p", List.of("x"), List.of("p"))
                .node("Sigmoid", "g", List.of("p"), List.of("g"))
                .node("Mul", "m", List.of("g", "a"), List.of("y")));
        Multiply m = (Multiply) net.node("m").layer();
        assertEquals(4, m.spatial());
        assertEquals(List.of("a", "g"), net.node("m").inputs());
        float[] x = sample(16);
        float[] y = forward(net, x);
        for (int c = 0; c < 4; c++) {
            double mean = (x[4 * c] + x[4 * c + 1] + x[4 * c + 2] + x[4 * c + 3]) / 4.0;
            double gate = 1 / (1 + Math.exp(-mean));
            for (int i = 0; i < 4; i++) {
                assertEquals(Math.max(x[4 * c + i], 0) * gate, y[4 * c + i], 1e-5, "channel " + c);
            }
        }
        Network same = load(image(17, 4, 2, 2).node("Relu", "a", List.of("x"), List.of("a"))
                .node("Sigmoid", "g", List.of("x"), List.of("g"))
                .node("Mul", "m", List.of("a", "g"), List.of("y")));
        assertEquals(1, ((Multiply) same.node("m").layer()).spatial());
        // shapes that broadcast (numpy rules) repeat the smaller operand, then multiply elementwise
        Network broadcast = load(image(17, 4, 2, 2).node("MaxPool", "p", List.of("x"), List.of("p"),
                attrInts("kernel_shape", 1, 2)).node("Mul", "m", List.of("x", "p"), List.of("y")));
        assertEquals(1, ((Multiply) broadcast.node("m").layer()).spatial());
        assertArrayEquals(new int[] {0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7},
                ((Index) broadcast.node("m.broadcast.1").layer()).index());
        nodeError(image(17, 4, 2, 2).init(longTensor("st", new long[] {0}, true))
                .init(longTensor("en", new long[] {2}, true)).init(longTensor("ax", new long[] {1}, true))
                .node("Slice", "s", List.of("x", "st", "en", "ax"), List.of("p"))
                .node("Mul", "m", List.of("x", "p"), List.of("y")), "m", "Mul",
                "multiplies shapes [4, 2, 2] and [2, 2, 2]", "per-channel gate");
        nodeError(image(17, 4, 2, 2).node("Relu", "a", List.of("x"), List.of("a"))
                .node("Div", "d", List.of("x", "a"), List.of("y")), "d", "Div", "divides two graph values");
    }

    @Test
    void productsWithConstantsAreScales() {
        OnnxWriter w = image(17, 2, 1, 2)
                .init(floatTensor("k", new long[] {2, 1, 1}, new float[] {2, -3}, Enc.RAW))
                .init(floatTensor("four", new long[0], new float[] {4}, Enc.RAW))
                .node("Mul", "m", List.of("k", "x"), List.of("m"))
                .node("Div", "d", List.of("m", "four"), List.of("y"));
        Network net = load(w);
        assertArrayEquals(new float[] {2, 2, -3, -3}, ((Scale) net.node("m").layer()).factors());
        assertArrayEquals(new float[] {0.25f}, ((Scale) net.node("d").layer()).factors());
        assertArrayEquals(new float[] {0.5f, 1, -1.5f, -3}, forward(net, new float[] {1, 2, 2, 4}));
        // a full-shape constant with a batch axis of 1
        Network full = load(image(17, 1, 1, 2).init(floatTensor("k", new long[] {1, 1, 1, 2}, new float[] {3, 5},
                Enc.RAW)).node("Mul", "m", List.of("x", "k"), List.of("y")));
        assertArrayEquals(new float[] {3, 5}, ((Scale) full.node("m").layer()).factors());
        nodeError(image(17, 2, 1, 2).init(floatTensor("k", new long[] {3}, new float[] {1, 2, 3}, Enc.RAW))
                .node("Mul", "m", List.of("x", "k"), List.of("y")), "m", "Mul", "'k' has shape [3]", "broadcast");
        nodeError(image(17, 2, 1, 2).init(floatTensor("k", new long[] {1}, new float[] {Float.NaN}, Enc.RAW))
                .node("Mul", "m", List.of("x", "k"), List.of("y")), "m", "Mul", "constant 'k'", "NaN");
        nodeError(image(17, 2, 1, 2).init(floatTensor("k", new long[] {1}, new float[] {0}, Enc.RAW))
                .node("Div", "d", List.of("x", "k"), List.of("y")), "d", "Div", "Infinity");
        nodeError(image(17, 2, 1, 2).init(floatTensor("k", new long[] {1}, new float[] {2}, Enc.RAW))
                .node("Div", "d", List.of("k", "x"), List.of("y")), "d", "Div", "divides a constant by a graph value");
    }

    @Test
    void reduceMeanOverHeightAndWidthIsAGlobalAverage() {
        Network flat = load(image(13, 3, 2, 2).node("ReduceMean", "r", List.of("x"), List.of("y"),
                attrInts("axes", 2, 3), attrInt("keepdims", 0)));
        AvgPool2d p = (AvgPool2d) flat.node("r").layer();
        assertEquals(2, p.geometry().kernelH());
        assertEquals(3, flat.outputSize());
        float[] y = forward(flat, sample(12));
        float[] x = sample(12);
        assertEquals((x[4] + x[5] + x[6] + x[7]) / 4, y[1], 1e-6);
        Network axesInput = load(image(18, 3, 2, 2).init(longTensor("ax", new long[] {-1, -2}, true))
                .node("ReduceMean", "r", List.of("x", "ax"), List.of("r"))
                .node("Flatten", "f", List.of("r"), List.of("y")));
        assertEquals(3, axesInput.outputSize());
        nodeError(image(13, 3, 2, 2).node("ReduceMean", "r", List.of("x"), List.of("y"), attrInts("axes", 1)), "r",
                "ReduceMean", "axes [1]", "height and width");
    }

    @Test
    void splitAndSliceTakeChannelRanges() {
        OnnxWriter split13 = image(13, 6, 1, 2).init(longTensor("sizes", new long[] {2, 4}, true))
                .node("Split", "s", List.of("x", "sizes"), List.of("a", "b"), attrInt("axis", 1))
                .node("Relu", "r", List.of("b"), List.of("y"));
        Network net = load(split13);
        assertEquals(List.of("s.1", "r"), names(net), "the unused part makes no node");
        assertEquals(new Slice(4, 8), net.node("s.1").layer());
        OnnxWriter split11 = image(11, 6, 1, 2)
                .node("Split", "s", List.of("x"), List.of("a", "b"), attrInt("axis", -3), attrInts("split", 2, 4))
                .node("Concat", "c", List.of("b", "a"), List.of("y"), attrInt("axis", 1));
        float[] x = sample(12);
        float[] y = forward(load(split11), x);
        float[] want = new float[12];
        System.arraycopy(x, 4, want, 0, 8);
        System.arraycopy(x, 0, want, 8, 4);
        assertArrayEquals(want, y);
        OnnxWriter slice = image(13, 6, 1, 2).init(longTensor("st", new long[] {2}, true))
                .init(longTensor("en", new long[] {-1}, true)).init(longTensor("ax", new long[] {1}, true))
                .node("Slice", "sl", List.of("x", "st", "en", "ax"), List.of("y"));
        assertEquals(new Slice(4, 6), load(slice).node("sl").layer());
        // along the width, each part is every other value: an Index
        Network width = load(image(13, 6, 1, 2).node("Split", "s", List.of("x"), List.of("a", "b"), attrInt("axis", 3))
                .node("Relu", "r", List.of("b"), List.of("y")));
        assertArrayEquals(new int[] {1, 3, 5, 7, 9, 11}, ((Index) width.node("s.1").layer()).index());
        nodeError(image(11, 6, 1, 2).node("Split", "s", List.of("x"), List.of("a", "b"), attrInt("axis", 1),
                attrInts("split", 2, 3)), "s", "Split", "must add up");
        Network stepped = load(image(13, 6, 1, 2).init(longTensor("st", new long[] {0}, true))
                .init(longTensor("en", new long[] {6}, true)).init(longTensor("ax", new long[] {1}, true))
                .init(longTensor("sp", new long[] {2}, true))
                .node("Slice", "sl", List.of("x", "st", "en", "ax", "sp"), List.of("y")));
        assertArrayEquals(new int[] {0, 1, 4, 5, 8, 9}, ((Index) stepped.node("sl").layer()).index(), "step 2");
        nodeError(image(13, 6, 1, 2).init(longTensor("st", new long[] {0}, true))
                .init(longTensor("en", new long[] {1}, true)).init(longTensor("ax", new long[] {0}, true))
                .node("Slice", "sl", List.of("x", "st", "en", "ax"), List.of("y")), "sl", "Slice", "batch axis");
        Network last = load(image(13, 6, 1, 2).init(longTensor("st", new long[] {1}, true))
                .init(longTensor("en", new long[] {2}, true)).init(longTensor("ax", new long[] {3}, true))
                .node("Slice", "sl", List.of("x", "st", "en", "ax"), List.of("y")));
        assertArrayEquals(new int[] {1, 3, 5, 7, 9, 11}, ((Index) last.node("sl").layer()).index(), "axis 3");
    }

    /** Channel shuffle of 6 channels in 2 groups, with constant shapes: Reshape, Transpose, Reshape. */
    @Test
    void aChannelShuffleIsOnePermute() {
        OnnxWriter w = image(17, 6, 1, 2).init(longTensor("s5", new long[] {-1, 2, 3, 1, 2}, true))
                .init(longTensor("s4", new long[] {0, -1, 1, 2}, true))
                .node("Reshape", "r1", List.of("x", "s5"), List.of("r1"))
                .node("Transpose", "t", List.of("r1"), List.of("t"), attrInts("perm", 0, 2, 1, 3, 4))
                .node("Reshape", "r2", List.of("t", "s4"), List.of("r2"))
                .node("Relu", "y", List.of("r2"), List.of("y"));
        Network net = load(w);
        assertEquals(List.of("t", "y"), names(net), "the reshapes to rank 5 and back are views");
        Permute p = (Permute) net.node("t").layer();
        assertArrayEquals(new int[] {0, 1, 6, 7, 2, 3, 8, 9, 4, 5, 10, 11}, p.index());
        float[] x = sample(12);
        float[] y = forward(net, x);
        for (int i = 0; i < 12; i++) {
            assertEquals(Math.max(x[p.index()[i]], 0), y[i], 0f);
        }
        // moving the batch axis moves no values; the graph output must have it first again
        ModelFormatException moved = assertThrows(ModelFormatException.class, () -> load(image(17, 6, 1, 2)
                .node("Transpose", "t", List.of("x"), List.of("t"), attrInts("perm", 1, 0, 2, 3))
                .node("Relu", "r", List.of("t"), List.of("y"))));
        assertTrue(moved.getMessage().contains("[6, batch, 1, 2]"), moved.getMessage());
        assertTrue(moved.getMessage().contains("batch axis first"), moved.getMessage());
        Network same = load(image(17, 6, 1, 2).node("Transpose", "t", List.of("x"), List.of("t"),
                attrInts("perm", 0, 1, 2, 3)).node("Relu", "y", List.of("t"), List.of("y")));
        assertEquals(List.of("y"), names(same));
        nodeError(image(17, 6, 1, 2).init(longTensor("s", new long[] {0, 5, -1}, true))
                .node("Reshape", "r", List.of("x", "s"), List.of("y")), "r", "Reshape", "12 features per sample",
                "[0, 5, -1]");
        nodeError(image(17, 6, 1, 2).init(longTensor("s", new long[] {-1, 5, -1}, true))
                .node("Reshape", "r", List.of("x", "s"), List.of("y")), "r", "Reshape", "reshapes to [-1, 5, -1]",
                "batch axis first");
    }

    @Test
    void averagePoolPaddingIsFoldedOrCorrected() {
        // Pad + AveragePool (count_include_pad=True as torch exports it) is one AvgPool2d with padding 1
        OnnxWriter padded = image(11, 1, 3, 3).init(longTensor("pads", new long[] {0, 0, 1, 1, 0, 0, 1, 1}, true))
                .node("Pad", "pad", List.of("x", "pads"), List.of("p"))
                .node("AveragePool", "ap", List.of("p"), List.of("y"), attrInts("kernel_shape", 3, 3));
        Network net = load(padded);
        assertEquals(List.of("ap"), names(net));
        assertEquals(1, ((AvgPool2d) net.node("ap").layer()).geometry().padH());
        float[] x = {1, 2, 3, 4, 5, 6, 7, 8, 9};
        float[] y = forward(net, x);
        assertEquals((1 + 2 + 4 + 5) / 9f, y[0], 1e-6);
        assertEquals(45 / 9f, y[4], 1e-6);
        // count_include_pad=0 with padding: AvgPool2d and a Scale of kH*kW/count
        Network exclude = load(image(11, 1, 3, 3).node("AveragePool", "ap", List.of("x"), List.of("y"),
                attrInts("kernel_shape", 3, 3), attrInts("pads", 1, 1, 1, 1)));
        assertEquals(List.of("ap", "ap.count"), names(exclude));
        float[] z = forward(exclude, x);
        assertEquals((1 + 2 + 4 + 5) / 4f, z[0], 1e-6);
        assertEquals((1 + 2 + 3 + 4 + 5 + 6) / 6f, z[1], 1e-6);
        assertEquals(5f, z[4], 1e-6);
        nodeError(image(11, 1, 3, 3).init(longTensor("pads", new long[] {0, 0, 1, 1, 0, 0, 1, 1}, true))
                .node("Pad", "pad", List.of("x", "pads"), List.of("p"))
                .node("MaxPool", "mp", List.of("p"), List.of("y"), attrInts("kernel_shape", 3, 3)), "pad", "Pad",
                "feeds MaxPool node 'mp'", "Conv or an AveragePool");
        nodeError(image(11, 1, 3, 3).init(longTensor("pads", new long[] {0, 0, 2, 2, 0, 0, 2, 2}, true))
                .node("Pad", "pad", List.of("x", "pads"), List.of("p"))
                .node("AveragePool", "ap", List.of("p"), List.of("y"), attrInts("kernel_shape", 3, 3)), "ap",
                "AveragePool", "padH");
    }

    @Test
    void concatOfOneIsAnIdentityAndOtherOperatorsStayRefused() {
        Network one = load(image(17, 2, 2, 2).node("Concat", "c", List.of("x"), List.of("y"), attrInt("axis", 1)));
        assertTrue(one.node("c").layer() instanceof Identity);
        assertEquals(8, one.outputSize());
        nodeError(image(17, 2, 2, 2).node("Relu", "r", List.of("x"), List.of("r"))
                .node("Sub", "s", List.of("x", "r"), List.of("y")), "s", "Sub", "Sub only on shapes");
        nodeError(image(17, 2, 2, 2).node("Erf", "e", List.of("x"), List.of("y")), "e", "Erf",
                "operator not supported");
        nodeError(image(17, 2, 2, 2).node("Einsum", "es", List.of("x"), List.of("y")), "es", "Einsum",
                "operator not supported");
    }
}
