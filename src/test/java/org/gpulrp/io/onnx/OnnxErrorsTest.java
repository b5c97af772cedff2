package org.gpulrp.io.onnx;

import static org.gpulrp.io.onnx.OnnxOperatorsTest.W;
import static org.gpulrp.io.onnx.OnnxOperatorsTest.load;
import static org.gpulrp.io.onnx.OnnxWriter.attrInt;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.gpulrp.io.ModelFormatException;
import org.gpulrp.io.onnx.OnnxWriter.Enc;
import org.junit.jupiter.api.Test;

/** What cannot be imported stops the load with a ModelFormatException that says where and why. */
class OnnxErrorsTest {

    private static ModelFormatException nodeError(OnnxWriter w, String node, String op, String... fragments) {
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> load(w));
        assertEquals(node, e.node(), e.getMessage());
        assertEquals(op, e.opType(), e.getMessage());
        assertTrue(e.getMessage().startsWith("node '" + node + "' (" + op + "): "), e.getMessage());
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "missing '" + f + "' in: " + e.getMessage());
        }
        return e;
    }

    private static ModelFormatException fileError(byte[] bytes, String... fragments) {
        ModelFormatException e = assertThrows(ModelFormatException.class,
                () -> OnnxImporter.load(bytes, "bad.onnx", null));
        assertNull(e.node(), e.getMessage());
        assertNull(e.opType(), e.getMessage());
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "missing '" + f + "' in: " + e.getMessage());
        }
        return e;
    }

    /** x [N, 3] -> Gemm (fc, transB=1, out 2) -> h. */
    private static OnnxWriter fc() {
        return new OnnxWriter().input("x", "N", 3)
                .floats("fc.weight", new long[] {2, 3}, W, Enc.RAW)
                .node("Gemm", "/fc/Gemm", List.of("x", "fc.weight"), List.of("h"), attrInt("transB", 1));
    }

    @Test
    void unsupportedOperatorNamesNodeOpAndWhatIsSupported() {
        OnnxWriter w = fc().output("y").node("Conv", "conv1", List.of("h"), List.of("y"));
        nodeError(w, "conv1", "Conv", "needs inputs X, W");
        nodeError(fc().output("y").node("ConvTranspose", "ct", List.of("h"), List.of("y")), "ct", "ConvTranspose",
                "operator not supported", "Conv");
        nodeError(fc().output("y").node("Elu", "t", List.of("h"), List.of("y")), "t", "Elu",
                "operator not supported", "Relu");
        nodeError(fc().output("y").node("Relu", "r", "com.example", List.of("h"), List.of("y")), "r", "Relu",
                "domain 'com.example'");
    }

    @Test
    void unsupportedAttributesAndValuesAreRefused() {
        OnnxWriter transA = new OnnxWriter().input("x", "N", 3).output("y")
                .floats("fc.weight", new long[] {3, 2}, W, Enc.RAW)
                .node("Gemm", "g", List.of("x", "fc.weight"), List.of("y"), attrInt("transA", 1));
        nodeError(transA, "g", "Gemm", "transA=1");
        nodeError(fc().output("y").node("Relu", "r", List.of("h"), List.of("y"), attrInt("alpha", 1)), "r", "Relu",
                "attribute 'alpha'");
        nodeError(fc().output("y").node("Softmax", "s", List.of("h"), List.of("y"), attrInt("axis", 0)), "s",
                "Softmax", "axis=0");
        OnnxWriter flat = new OnnxWriter().input("x", "N", 2, 3).output("y")
                .node("Flatten", "f", List.of("x"), List.of("y"), attrInt("axis", 2));
        nodeError(flat, "f", "Flatten", "axis=2");
        OnnxWriter reshape = fc().output("y").init(OnnxWriter.longTensor("s", new long[] {1, -1}, false))
                .node("Reshape", "rs", List.of("h", "s"), List.of("y"));
        nodeError(reshape, "rs", "Reshape", "[1, -1]", "[-1, N]");
        OnnxWriter grow = fc().output("y").init(OnnxWriter.longTensor("s", new long[] {-1, 4}, true))
                .node("Reshape", "rs", List.of("h", "s"), List.of("y"));
        nodeError(grow, "rs", "Reshape", "2 features per sample into 4");
        OnnxWriter badBias = new OnnxWriter().input("x", "N", 3).output("y")
                .floats("fc.weight", new long[] {2, 3}, W, Enc.RAW)
                .floats("c", new long[] {2, 2}, new float[4], Enc.RAW)
                .node("Gemm", "g", List.of("x", "fc.weight", "c"), List.of("y"), attrInt("transB", 1));
        nodeError(badBias, "g", "Gemm", "bias 'c' has shape [2, 2]");
        OnnxWriter mismatch = new OnnxWriter().input("x", "N", 5).output("y")
                .floats("fc.weight", new long[] {2, 3}, W, Enc.RAW)
                .node("Gemm", "g", List.of("x", "fc.weight"), List.of("y"), attrInt("transB", 1));
        nodeError(mismatch, "g", "Gemm", "takes 3 input features but the node receives 5");
        OnnxWriter nan = new OnnxWriter().input("x", "N", 3).output("y")
                .floats("fc.weight", new long[] {2, 3}, new float[] {0, 0, Float.NaN, 0, 0, 0}, Enc.RAW)
                .node("Gemm", "g", List.of("x", "fc.weight"), List.of("y"), attrInt("transB", 1));
        nodeError(nan, "g", "Gemm", "NaN");
        OnnxWriter notFlat = new OnnxWriter().input("x", "N", 1, 3).output("y")
                .floats("fc.weight", new long[] {2, 3}, W, Enc.RAW)
                .node("Gemm", "g", List.of("x", "fc.weight"), List.of("y"), attrInt("transB", 1));
        nodeError(notFlat, "g", "Gemm", "rank-3 input", "Flatten");
        OnnxWriter dynamicWeight = new OnnxWriter().input("x", "N", 3).output("y")
                .node("Gemm", "g", List.of("x", "w"), List.of("y"), attrInt("transB", 1));
        nodeError(dynamicWeight, "g", "Gemm", "'w' is not a constant");
    }

    @Test
    void dropoutInTrainingModeIsRefusedUnlessItsRatioIsZero() {
        OnnxWriter zero = fc().output("y").floats("p", new long[0], new float[] {0}, Enc.RAW)
                .init(OnnxWriter.boolScalar("t", true))
                .node("Dropout", "d", List.of("h", "p", "t"), List.of("y"));
        assertEquals(List.of("fc", "d"), OnnxOperatorsTest.names(load(zero)), "F.dropout(x, p=0.0) as Swin calls it");
        OnnxWriter half = fc().output("y").floats("p", new long[0], new float[] {0.5f}, Enc.RAW)
                .init(OnnxWriter.boolScalar("t", true))
                .node("Dropout", "d", List.of("h", "p", "t"), List.of("y"));
        nodeError(half, "d", "Dropout", "training_mode is true");
    }

    @Test
    void dropoutWithAUsedMaskIsRefused() {
        OnnxWriter w = fc().output("y")
                .node("Dropout", "d", List.of("h"), List.of("a", "mask"))
                .node("Relu", "r", List.of("a"), List.of("b"))
                .node("Mul", "m", List.of("b", "mask"), List.of("y"));
        nodeError(w, "d", "Dropout", "mask output 'mask'");
    }

    @Test
    void deadBranchesAndUnorderedGraphsNameTheNode() {
        OnnxWriter fork = fc().output("y")
                .node("Relu", "r1", List.of("h"), List.of("a"))
                .node("Relu", "r2", List.of("h"), List.of("y"));
        nodeError(fork, "r1", "Relu", "does not reach the graph output");
        OnnxWriter skip = fc().output("y")
                .node("Relu", "r1", List.of("h"), List.of("a"))
                .node("Sigmoid", "s", List.of("x"), List.of("y"));
        nodeError(skip, "r1", "Relu", "does not reach the graph output");
        OnnxWriter unordered = fc().output("y")
                .node("Sigmoid", "s", List.of("a"), List.of("y"))
                .node("Relu", "r1", List.of("h"), List.of("a"));
        nodeError(unordered, "s", "Sigmoid", "reads 'a'", "topological order");
        OnnxWriter constantAdd = fc().output("y")
                .floats("c", new long[] {3}, new float[] {1, 2, 3}, Enc.RAW)
                .node("Relu", "r1", List.of("h"), List.of("a"))
                .node("Add", "add", List.of("a", "c"), List.of("y"));
        nodeError(constantAdd, "add", "Add", "constant 'c' has shape [3]", "does not broadcast");
        OnnxWriter broadcast = new OnnxWriter().input("x", "N", 3)
                .floats("fc.weight", new long[] {2, 3}, W, Enc.RAW).output("y")
                .node("Gemm", "g", List.of("x", "fc.weight"), List.of("h"), attrInt("transB", 1))
                .node("Add", "add", List.of("h", "x"), List.of("y"));
        nodeError(broadcast, "add", "Add", "equal shapes");
        ModelFormatException e = assertThrows(ModelFormatException.class,
                () -> load(fc().output("y").node("Relu", "r", List.of("h"), List.of("z"))));
        assertTrue(e.getMessage().contains("graph output 'y'"), e.getMessage());
        e = assertThrows(ModelFormatException.class, () -> load(fc().input("x2", "N", 3).output("h")));
        assertTrue(e.getMessage().contains("2 inputs"), e.getMessage());
    }

    @Test
    void opsetOlderThanNineIsRefusedWithTheReason() {
        byte[] b = fc().opset(8).output("h").build();
        fileError(b, "opset 8", "opset 9 and later");
        load(fc().opset(9).output("h"));
    }

    @Test
    void everyTruncationOfTheSampleModelIsAFileLevelError() throws IOException {
        byte[] full = Files.readAllBytes(Path.of("examples/breast-cancer/model.onnx"));
        for (int n = 0; n < full.length; n++) {
            byte[] cut = Arrays.copyOf(full, n);
            ModelFormatException e = assertThrows(ModelFormatException.class,
                    () -> OnnxImporter.load(cut, "model.onnx", null), "prefix " + n);
            assertNull(e.node(), "prefix " + n + ": " + e.getMessage());
        }
        fileError(Arrays.copyOf(full, full.length / 2), "not an ONNX model");
    }

    @Test
    void randomBytesAreAFileLevelErrorNeverAnotherException() {
        Random r = new Random(42);
        for (int k = 0; k < 2000; k++) {
            byte[] b = new byte[1 + r.nextInt(k < 1000 ? 64 : 4096)];
            r.nextBytes(b);
            try {
                OnnxImporter.load(b, "noise.onnx", null);
                throw new AssertionError("random bytes loaded as a model, seed case " + k);
            } catch (ModelFormatException expected) {
                // the only acceptable outcome
            }
        }
        fileError("not a model at all".getBytes(java.nio.charset.StandardCharsets.UTF_8), "not an ONNX model");
        fileError(new byte[0], "not an ONNX model");
    }

    @Test
    void wrongWireTypesAndHostileLengthsAreCorruption() {
        // graph (field 7) as a varint instead of a message
        fileError(new OnnxWriter.Msg().varint(1, 8).varint(7, 5).bytes(), "wire type");
        // a length prefix claiming 2 GB
        fileError(new byte[] {0x3a, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0x07}, "not an ONNX model");
        // a group (wire type 3)
        fileError(new byte[] {0x0b, 0x0b, 0x0b, 0x0b}, "not an ONNX model");
    }

    @Test
    void missingFileIsAnIoError() {
        assertThrows(UncheckedIOException.class, () -> OnnxImporter.load(Path.of("no/such/model.onnx")));
    }
}
