package org.gpulrp.io.onnx;

import static org.gpulrp.io.onnx.OnnxWriter.attrFloat;
import static org.gpulrp.io.onnx.OnnxWriter.attrInt;
import static org.gpulrp.io.onnx.OnnxWriter.attrInts;
import static org.gpulrp.io.onnx.OnnxWriter.floatTensor;
import static org.gpulrp.io.onnx.OnnxWriter.longTensor;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.gpulrp.io.ModelFormatException;
import org.gpulrp.io.onnx.OnnxWriter.Enc;
import org.gpulrp.model.Network;
import org.gpulrp.model.TokenInput;
import org.junit.jupiter.api.Test;

/**
 * What a token model's import refuses, each with one line naming the node and its operator (or, for the inputs, the
 * file): an operator outside the list, a token model without a sequence length, token inputs that are not int64
 * token names, attention whose heads do not match, and the arithmetic gpulrp cannot map exactly.
 */
class OnnxTransformerErrorsTest {
    private static final int VOCAB = 10;
    private static final int HIDDEN = 8;

    /** input_ids [N, seq] -> Gather(emb [10, 8]) -> e [N, seq, 8]; y the output. */
    static OnnxWriter tokens() {
        float[] table = new float[VOCAB * HIDDEN];
        for (int i = 0; i < table.length; i++) {
            table[i] = (float) Math.sin(0.37 * i);
        }
        return new OnnxWriter().opset(17).typedInput("input_ids", OnnxModel.INT64, "N", "seq").output("y")
                .floats("emb.weight", new long[] {VOCAB, HIDDEN}, table, Enc.RAW)
                .node("Gather", "/emb/Gather", List.of("emb.weight", "input_ids"), List.of("e"));
    }

    static Network load(OnnxWriter w, int length) {
        return OnnxImporter.load(w.build(), "tokens.onnx", null, ImportOptions.defaults().withSequenceLength(length));
    }

    private static ModelFormatException refused(OnnxWriter w) {
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> load(w, 4));
        assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
        return e;
    }

    private static void nodeError(OnnxWriter w, String node, String op, String... fragments) {
        ModelFormatException e = refused(w);
        assertEquals(node, e.node(), e.getMessage());
        assertEquals(op, e.opType(), e.getMessage());
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "missing '" + f + "' in: " + e.getMessage());
        }
    }

    private static void fileError(OnnxWriter w, String... fragments) {
        ModelFormatException e = refused(w);
        assertNull(e.opType(), e.getMessage());
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "missing '" + f + "' in: " + e.getMessage());
        }
    }

    @Test
    void aTokenModelLoads() {
        Network net = load(tokens().node("Relu", "/r", List.of("e"), List.of("y")), 4);
        assertEquals(new TokenInput(4, List.of(TokenInput.IDS), VOCAB), net.tokens());
        assertEquals(List.of("emb", "r"), OnnxOperatorsTest.names(net), "one block: the ids are the input");
    }

    @Test
    void anOperatorOutsideTheListIsNamed() {
        nodeError(tokens().node("Einsum", "/attn/Einsum", List.of("e", "e"), List.of("y")), "/attn/Einsum", "Einsum",
                "operator not supported");
    }

    @Test
    void aSymbolicSequenceLengthNeedsTheOption() {
        byte[] b = tokens().node("Relu", "/r", List.of("e"), List.of("y")).build();
        ModelFormatException e = assertThrows(ModelFormatException.class,
                () -> OnnxImporter.load(b, "tokens.onnx", null));
        assertTrue(e.getMessage().contains("symbolic sequence length ('seq')"), e.getMessage());
        assertTrue(e.getMessage().contains("withSequenceLength"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
        ModelFormatException f = assertThrows(ModelFormatException.class,
                () -> OnnxImporter.load(TransformerFixtures.DIR.resolve("bert-o17.onnx")));
        assertTrue(f.getMessage().contains("sequenceLength"), f.getMessage());
    }

    @Test
    void tokenInputsMustBeInt64TokenNames() {
        fileError(new OnnxWriter().typedInput("input_ids", OnnxModel.FLOAT, "N", "seq").output("y")
                .node("Relu", "/r", List.of("input_ids"), List.of("y")), "token input 'input_ids'", "FLOAT",
                "INT64");
        fileError(tokens().typedInput("position_ids", OnnxModel.INT64, "N", "seq")
                .node("Relu", "/r", List.of("e"), List.of("y")), "graph input 'position_ids' is not a token input");
        fileError(new OnnxWriter().typedInput("attention_mask", OnnxModel.INT64, "N", "seq").output("y")
                .node("Relu", "/r", List.of("attention_mask"), List.of("y")), "no 'input_ids'");
    }

    @Test
    void attentionWithMismatchedHeadsIsRefused() {
        // q: [N, 4, seq, 2] from all 8 features; k: [N, 2, 2, seq] from the first 4
        OnnxWriter w = tokens()
                .init(longTensor("q_shape", new long[] {0, 0, 4, 2}, true))
                .init(longTensor("k_shape", new long[] {0, 0, 2, 2}, true))
                .init(longTensor("k_start", new long[] {0}, true)).init(longTensor("k_end", new long[] {4}, true))
                .init(longTensor("k_axis", new long[] {2}, true))
                .node("Reshape", "/q/Reshape", List.of("e", "q_shape"), List.of("q4"))
                .node("Transpose", "/q/Transpose", List.of("q4"), List.of("q"), attrInts("perm", 0, 2, 1, 3))
                .node("Slice", "/k/Slice", List.of("e", "k_start", "k_end", "k_axis"), List.of("e4"))
                .node("Reshape", "/k/Reshape", List.of("e4", "k_shape"), List.of("k4"))
                .node("Transpose", "/k/Transpose", List.of("k4"), List.of("k"), attrInts("perm", 0, 2, 3, 1))
                .node("MatMul", "/attn/MatMul", List.of("q", "k"), List.of("y"));
        nodeError(w, "/attn/MatMul", "MatMul", "leading axes do not match", "[batch, 4, 4, 2]",
                "[batch, 2, 2, 4]");
    }

    @Test
    void arithmeticThatIsNotExactlyALayerIsRefused() {
        nodeError(tokens().init(floatTensor("lo", new long[0], new float[] {-1}, Enc.RAW))
                .node("Clip", "/c", List.of("e", "lo"), List.of("y")), "/c", "Clip", "clips to [-1.0, Infinity]",
                "proves");
        nodeError(tokens().node("Relu", "/r", List.of("e"), List.of("r"))
                .node("Sub", "/s", List.of("e", "r"), List.of("y")), "/s", "Sub", "subtracts two graph values");
        nodeError(tokens().node("Cast", "/c", List.of("e"), List.of("y"), attrInt("to", OnnxModel.INT64)), "/c",
                "Cast", "casts a float graph value");
        nodeError(tokens().floats("t", new long[] {4, 2}, new float[8], Enc.RAW)
                .node("Gather", "/g", List.of("t", "e"), List.of("y")), "/g", "Gather", "by float graph values");
        nodeError(tokens().node("Softmax", "/s", List.of("e"), List.of("y"), attrInt("axis", 1)), "/s", "Softmax",
                "axis=1");
        nodeError(tokens().node("LayerNormalization", "/ln", List.of("e", "emb.weight"), List.of("y"),
                attrFloat("epsilon", 1e-5f)), "/ln", "LayerNormalization", "80 values for 8 features");
    }
}
