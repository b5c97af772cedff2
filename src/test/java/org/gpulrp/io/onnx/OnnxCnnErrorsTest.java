package org.gpulrp.io.onnx;

import static org.gpulrp.io.onnx.OnnxOperatorsTest.load;
import static org.gpulrp.io.onnx.OnnxWriter.attrInt;
import static org.gpulrp.io.onnx.OnnxWriter.attrInts;
import static org.gpulrp.io.onnx.OnnxWriter.attrString;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.gpulrp.io.ModelFormatException;
import org.gpulrp.io.onnx.OnnxWriter.Enc;
import org.gpulrp.model.Conv2d;
import org.gpulrp.model.Network;
import org.gpulrp.model.Permute;
import org.junit.jupiter.api.Test;

/** CNN operators outside what gpulrp computes stop the import with an error naming the node. */
class OnnxCnnErrorsTest {

    private static void nodeError(OnnxWriter w, String node, String op, String... fragments) {
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> load(w));
        assertEquals(node, e.node(), e.getMessage());
        assertEquals(op, e.opType(), e.getMessage());
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "missing '" + f + "' in: " + e.getMessage());
        }
    }

    /** x [N, 1, 4, 4] with a 1 -> 2 channel 3x3 conv weight 'c.weight'. */
    private static OnnxWriter base() {
        return new OnnxWriter().input("x", "N", 1, 4, 4).output("y")
                .floats("c.weight", new long[] {2, 1, 3, 3}, new float[18], Enc.RAW);
    }

    @Test
    void convWithAsymmetricPadsOrSamePaddingIsRefused() {
        nodeError(base().node("Conv", "c", List.of("x", "c.weight"), List.of("y"), attrInts("pads", 1, 1, 0, 0)),
                "c", "Conv", "asymmetric");
        nodeError(base().node("Conv", "c", List.of("x", "c.weight"), List.of("y"), attrString("auto_pad",
                "SAME_UPPER")), "c", "Conv", "auto_pad=SAME_UPPER");
        nodeError(base().node("Conv", "c", List.of("x", "c.weight"), List.of("y"), attrInt("group", 2)), "c", "Conv",
                "group=2");
    }

    @Test
    void symmetricConvImports() {
        Network net = load(base().node("Conv", "c", List.of("x", "c.weight"), List.of("y"), attrInts("pads", 1, 1, 1,
                1), attrInts("strides", 2, 2)));
        Conv2d c = (Conv2d) net.node("c").layer();
        assertEquals(1, c.geometry().padH());
        assertEquals(2, c.geometry().strideW());
        assertEquals(2 * 2 * 2, net.outputSize());
    }

    @Test
    void poolingOutsideTheSupportedModesIsRefused() {
        // ceil mode: MaxPool takes it (a window more here: 5x5 by 2x2 windows of stride 2 gives 3x3)
        OnnxWriter ceil = new OnnxWriter().input("x", "N", 1, 5, 5).output("y").node("MaxPool", "p", List.of("x"),
                List.of("y"), attrInts("kernel_shape", 2, 2), attrInts("strides", 2, 2), attrInt("ceil_mode", 1));
        assertEquals(9, load(ceil).outputSize());
        // AveragePool only where ceil mode adds no window (the clipped window's divisor would differ)
        OnnxWriter avgCeil = new OnnxWriter().input("x", "N", 1, 5, 5).output("y").node("AveragePool", "p",
                List.of("x"), List.of("y"), attrInts("kernel_shape", 2, 2), attrInts("strides", 2, 2),
                attrInt("ceil_mode", 1));
        nodeError(avgCeil, "p", "AveragePool", "ceil mode");
        OnnxWriter avgCeilSame = new OnnxWriter().input("x", "N", 1, 4, 4).output("y").node("AveragePool", "p",
                List.of("x"), List.of("y"), attrInts("kernel_shape", 2, 2), attrInts("strides", 2, 2),
                attrInt("ceil_mode", 1));
        assertEquals(4, load(avgCeilSame).outputSize());
        OnnxWriter dilated = new OnnxWriter().input("x", "N", 1, 5, 5).output("y").node("MaxPool", "p",
                List.of("x"), List.of("y"), attrInts("kernel_shape", 2, 2), attrInts("dilations", 2, 2));
        nodeError(dilated, "p", "MaxPool", "dilations [2, 2]");
        OnnxWriter include = new OnnxWriter().input("x", "N", 1, 4, 4).output("y").node("AveragePool", "p",
                List.of("x"), List.of("y"), attrInts("kernel_shape", 3, 3), attrInts("pads", 1, 1, 1, 1),
                attrInt("count_include_pad", 1));
        assertEquals(16, load(include).outputSize());
    }

    @Test
    void padIsMergedIntoAConvOnlyWhenSymmetricAndZero() {
        OnnxWriter ok = base().node("Pad", "pad", List.of("x"), List.of("p"), attrInts("pads", 0, 0, 1, 2, 0, 0, 1,
                2)).node("Conv", "c", List.of("p", "c.weight"), List.of("y"), attrInts("pads", 1, 1, 1, 1));
        Conv2d c = (Conv2d) load(ok).node("c").layer();
        assertEquals(2, c.geometry().padH());
        assertEquals(3, c.geometry().padW());
        OnnxWriter asym = base().node("Pad", "pad", List.of("x"), List.of("p"), attrInts("pads", 0, 0, 1, 0, 0, 0, 0,
                0)).node("Conv", "c", List.of("p", "c.weight"), List.of("y"));
        nodeError(asym, "pad", "Pad", "symmetric");
        OnnxWriter reflect = base().node("Pad", "pad", List.of("x"), List.of("p"), attrInts("pads", 0, 0, 1, 1, 0, 0, 1,
                1), attrString("mode", "reflect")).node("Conv", "c", List.of("p", "c.weight"), List.of("y"));
        nodeError(reflect, "pad", "Pad", "mode 'reflect'");
        OnnxWriter notConv = new OnnxWriter().input("x", "N", 1, 4, 4).output("y").node("Pad", "pad", List.of("x"),
                List.of("p"), attrInts("pads", 0, 0, 1, 1, 0, 0, 1, 1)).node("Relu", "r", List.of("p"), List.of("y"));
        nodeError(notConv, "pad", "Pad", "only when a Conv or an AveragePool reads it");
    }

    @Test
    void concatOnOtherAxesIsAConcatThenAPermute() {
        OnnxWriter w = new OnnxWriter().input("x", "N", 1, 2, 2).output("y")
                .node("Relu", "a", List.of("x"), List.of("a"))
                .node("Sigmoid", "b", List.of("x"), List.of("b"))
                .node("Concat", "cat", List.of("a", "b"), List.of("y"), attrInt("axis", 3));
        Network net = load(w);
        // [a00 a01 a10 a11 | b00 b01 b10 b11] -> rows [a00 a01 b00 b01], [a10 a11 b10 b11]
        assertArrayEquals(new int[] {0, 1, 4, 5, 2, 3, 6, 7}, ((Permute) net.node("cat.order").layer()).index());
        nodeError(new OnnxWriter().input("x", "N", 1, 2, 2).output("y")
                .node("Relu", "a", List.of("x"), List.of("a"))
                .node("Concat", "cat", List.of("a", "x"), List.of("y"), attrInt("axis", 0)), "cat", "Concat",
                "axis=0", "not the batch");
    }
}
