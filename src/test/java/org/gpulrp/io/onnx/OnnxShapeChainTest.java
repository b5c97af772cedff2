package org.gpulrp.io.onnx;

import static org.gpulrp.io.onnx.OnnxOperatorsTest.load;
import static org.gpulrp.io.onnx.OnnxWriter.attrInt;
import static org.gpulrp.io.onnx.OnnxWriter.attrInts;
import static org.gpulrp.io.onnx.OnnxWriter.attrTensor;
import static org.gpulrp.io.onnx.OnnxWriter.longScalar;
import static org.gpulrp.io.onnx.OnnxWriter.longTensor;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.gpulrp.io.ModelFormatException;
import org.gpulrp.io.onnx.OnnxWriter.Enc;
import org.gpulrp.model.Dense;
import org.gpulrp.model.Identity;
import org.gpulrp.model.Network;
import org.junit.jupiter.api.Test;

/**
 * Shape computations as {@code x.view(x.size(0), -1)} exports them (Shape, Gather, Unsqueeze, Concat feeding a
 * Reshape) are evaluated at import with the batch kept symbolic; anything else on them stops with a named error.
 */
class OnnxShapeChainTest {
    /** Weight [out=2, in=8] for the Gemm after the flatten. */
    private static final float[] W = new float[16];

    static {
        for (int i = 0; i < W.length; i++) {
            W[i] = i - 7.5f;
        }
    }

    /**
     * x [N, 2, 2, 2] -> Shape -> Gather(index) -> Unsqueeze -> Concat(with [-1]) -> Reshape -> Gemm; {@code opset}
     * decides whether Unsqueeze takes its axes as an input (13+) or an attribute (11).
     */
    private static OnnxWriter view(long opset, long index, long[] axes) {
        OnnxWriter w = new OnnxWriter().opset(opset).input("x", "N", 2, 2, 2).output("y")
                .floats("fc.weight", new long[] {2, 8}, W, Enc.RAW)
                .node("Shape", "/Shape", List.of("x"), List.of("s"))
                .node("Constant", "/Constant", List.of(), List.of("i"), attrTensor("value", longScalar("", index)))
                .node("Gather", "/Gather", List.of("s", "i"), List.of("b"), attrInt("axis", 0));
        if (opset >= 13) {
            w.node("Constant", "/Constant_1", List.of(), List.of("ax"), attrTensor("value", longTensor("", axes, true)))
                    .node("Unsqueeze", "/Unsqueeze", List.of("b", "ax"), List.of("b1"));
        } else {
            w.node("Unsqueeze", "/Unsqueeze", List.of("b"), List.of("b1"), attrInts("axes", axes));
        }
        return w.node("Constant", "/Constant_2", List.of(), List.of("m1"),
                        attrTensor("value", longTensor("", new long[] {-1}, true)))
                .node("Concat", "/Concat", List.of("b1", "m1"), List.of("shape"), attrInt("axis", 0))
                .node("Reshape", "/Reshape", List.of("x", "shape"), List.of("flat"))
                .node("Gemm", "/fc/Gemm", List.of("flat", "fc.weight"), List.of("y"), attrInt("transB", 1));
    }

    private static void nodeError(OnnxWriter w, String node, String op, String... fragments) {
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> load(w));
        assertEquals(node, e.node(), e.getMessage());
        assertEquals(op, e.opType(), e.getMessage());
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "missing '" + f + "' in: " + e.getMessage());
        }
    }

    @Test
    void viewOfTheBatchSizeBecomesAFlattenInBothUnsqueezeForms() {
        for (long opset : new long[] {11, 13, 17}) {
            Network net = load(view(opset, 0, new long[] {0}));
            List<String> names = OnnxOperatorsTest.names(net);
            assertEquals(List.of("Reshape", "fc"), names, "opset " + opset + ": the shape nodes leave no layers");
            assertTrue(net.node("Reshape").layer() instanceof Identity);
            assertArrayEquals(new int[] {2, 2, 2}, net.inputShape());
            Dense fc = (Dense) net.node("fc").layer();
            assertEquals(8, fc.in());
            assertArrayEquals(W, fc.weight());
        }
    }

    @Test
    void negativeGatherIndexAndShapeSlicingAreEvaluated() {
        // Gather index -4 of the rank-4 shape is the batch, too
        assertEquals(2, load(view(17, -4, new long[] {0})).outputSize());
        // opset 15 Shape(end=1) gives [batch] directly; Concat with [-1] keeps [batch, -1]
        OnnxWriter w = new OnnxWriter().input("x", "N", 2, 2, 2).output("y")
                .floats("fc.weight", new long[] {2, 8}, W, Enc.RAW)
                .init(longTensor("m1", new long[] {-1}, true))
                .node("Shape", "/Shape", List.of("x"), List.of("s"), attrInt("end", 1))
                .node("Concat", "/Concat", List.of("s", "m1"), List.of("shape"), attrInt("axis", 0))
                .node("Reshape", "/Reshape", List.of("x", "shape"), List.of("flat"))
                .node("Gemm", "/fc/Gemm", List.of("flat", "fc.weight"), List.of("y"), attrInt("transB", 1));
        assertEquals(2, load(w).outputSize());
    }

    @Test
    void aShapeThatDropsTheBatchIsRefused() {
        // index 1 is the channel count: the Reshape would give [2, -1], mixing samples
        nodeError(view(17, 1, new long[] {0}), "/Reshape", "Reshape", "reshapes to [2, -1]", "keeps [batch, features]");
        nodeError(view(17, 7, new long[] {0}), "/Gather", "Gather", "out of range", "[batch, 2, 2, 2]");
    }

    @Test
    void unsqueezeOtherThanScalarToListIsRefused() {
        nodeError(view(13, 0, new long[] {1}), "/Unsqueeze", "Unsqueeze", "axes [1]");
        // a scalar unsqueezed at [0, 1] is a [1, 1] tensor, which the Concat of shape lists refuses
        nodeError(view(11, 0, new long[] {0, 1}), "/Concat", "Concat", "rank-2");
    }

    @Test
    void gatherAlongTheBatchOrAnOutputWithoutItFirstIsRefused() {
        OnnxWriter w = new OnnxWriter().input("x", "N", 8).output("y")
                .init(longTensor("idx", new long[] {0, 1}, true))
                .node("Gather", "/emb", List.of("x", "idx"), List.of("y"), attrInt("axis", 0));
        nodeError(w, "/emb", "Gather", "gathers along the batch axis", "not the batch");
        // an Unsqueeze of a network value is a view; the batch must be first again at the output
        OnnxWriter u = new OnnxWriter().opset(11).input("x", "N", 8).output("y")
                .node("Unsqueeze", "/u", List.of("x"), List.of("u"), attrInts("axes", 0))
                .node("Relu", "/r", List.of("u"), List.of("y"));
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> load(u));
        assertTrue(e.getMessage().contains("[1, batch, 8]"), e.getMessage());
    }

    @Test
    void shapeOfAnUnknownShapeIsRefused() {
        List<byte[]> none = new ArrayList<>();
        OnnxWriter w = new OnnxWriter().input("x").output("y")
                .node("Shape", "/Shape", List.of("x"), List.of("y"), none.toArray(new byte[0][]));
        nodeError(w, "/Shape", "Shape", "unknown shape");
    }
}
