package org.gpulrp.io.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.gpulrp.model.Activation;
import org.gpulrp.model.Conv2d;
import org.gpulrp.model.Dense;
import org.gpulrp.model.Embedding;
import org.gpulrp.model.Index;
import org.gpulrp.model.Layer;
import org.gpulrp.model.LayerNorm;
import org.gpulrp.model.MatMul;
import org.gpulrp.model.Multiply;
import org.gpulrp.model.Network;
import org.gpulrp.model.Node;
import org.gpulrp.model.Offset;
import org.gpulrp.model.Softmax;
import org.gpulrp.model.TokenInput;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * The transformer fixtures ({@link TransformerFixtures}) import, at both opsets and for sequence lengths 8 and 12,
 * into the layers their architectures have, and say how their samples pack the token inputs.
 */
class OnnxTransformerImportTest {
    private static final float MIN = -Float.MAX_VALUE;

    private static long count(Network net, Predicate<Layer> p) {
        return net.nodes().stream().map(Node::layer).filter(p).count();
    }

    private static boolean tokenWise(Layer l) {
        return l instanceof Dense d && d.positions() > 1;
    }

    private static boolean dense(Layer l) {
        return l instanceof Dense d && d.positions() == 1;
    }

    private static Predicate<Layer> activation(Activation.Function f) {
        return l -> l instanceof Activation a && a.function() == f;
    }

    /** Counts of the layers that make an architecture what it is (the rearranging ones are left out). */
    private static Map<String, Long> census(Network net, int t) {
        Map<String, Long> c = new TreeMap<>();
        c.put("token-wise dense", count(net, OnnxTransformerImportTest::tokenWise));
        c.put("dense", count(net, OnnxTransformerImportTest::dense));
        c.put("layer norm", count(net, l -> l instanceof LayerNorm n && !n.rms()));
        c.put("rms norm", count(net, l -> l instanceof LayerNorm n && n.rms()));
        c.put("softmax rows", count(net, l -> l instanceof Softmax s && s.length() == t));
        c.put("matmul", count(net, l -> l instanceof MatMul m && m.batch() == 4 && m.m() == t));
        c.put("embedding", count(net, l -> l instanceof Embedding));
        c.put("conv", count(net, l -> l instanceof Conv2d));
        c.put("gelu", count(net, activation(Activation.Function.GELU)));
        c.put("gelu tanh", count(net, activation(Activation.Function.GELU_TANH)));
        c.put("silu", count(net, activation(Activation.Function.SILU)));
        c.put("tanh", count(net, activation(Activation.Function.TANH)));
        c.put("products", count(net, l -> l instanceof Multiply));
        return c;
    }

    private static Map<String, Long> expected(String model) {
        // 2 layers, 4 heads each
        Map<String, Long> c = new TreeMap<>();
        for (String k : List.of("token-wise dense", "dense", "layer norm", "rms norm", "softmax rows", "matmul",
                "embedding", "conv", "gelu", "gelu tanh", "silu", "tanh", "products")) {
            c.put(k, 0L);
        }
        c.put("softmax rows", 2L);
        c.put("matmul", 4L);
        switch (model) {
            case "bert" -> { // per layer query, key, value, attention output, intermediate, output
                c.put("token-wise dense", 12L);
                c.put("dense", 2L); // pooler, classifier
                c.put("layer norm", 5L);
                c.put("embedding", 2L); // words, token types; the positions are constants (an Offset)
                c.put("gelu", 2L);
                c.put("tanh", 1L);
            }
            case "gpt2" -> { // per block c_attn, c_proj, c_fc, c_proj; lm_head
                c.put("token-wise dense", 9L);
                c.put("layer norm", 5L);
                c.put("embedding", 1L);
                c.put("gelu tanh", 2L);
            }
            case "llama" -> { // per layer q, k, v, o, gate, up, down; lm_head
                c.put("token-wise dense", 15L);
                c.put("rms norm", 5L);
                c.put("embedding", 1L);
                c.put("silu", 2L);
                c.put("products", 2L);
            }
            default -> { // vit: per layer in-projection, out-projection, 2 MLP; the head; the patch convolution
                c.put("token-wise dense", 8L);
                c.put("dense", 1L);
                c.put("layer norm", 5L);
                c.put("conv", 1L);
                c.put("gelu", 2L);
            }
        }
        return c;
    }

    @TestFactory
    Stream<DynamicTest> everyFixtureHasTheLayersOfItsArchitecture() {
        return TransformerFixtures.eachFixture((f, t) -> {
            String m = TransformerFixtures.model(f);
            Network net = TransformerFixtures.load(f, t);
            int rows = m.equals("vit") ? 17 : t;
            assertEquals(expected(m), census(net, rows), f + " T=" + t);
            TokenInput tokens = net.tokens();
            if (m.equals("vit")) {
                assertNull(tokens);
                assertArrayEquals(new int[] {3, 32, 32}, net.inputShape());
                assertEquals(10, net.outputSize());
                return;
            }
            List<String> blocks = m.equals("bert")
                    ? List.of(TokenInput.IDS, TokenInput.MASK, TokenInput.TYPES)
                    : List.of(TokenInput.IDS, TokenInput.MASK);
            assertEquals(new TokenInput(t, blocks, m.equals("bert") ? 120 : 96), tokens);
            assertArrayEquals(new int[] {blocks.size(), t}, net.inputShape());
            assertEquals(m.equals("bert") ? 3 : t * 96, net.outputSize());
        });
    }

    @Test
    void layersAreNamedAsTheModulesAre() {
        Network bert = TransformerFixtures.load("bert-o14.onnx", 8);
        for (String name : List.of("bert.embeddings.word_embeddings", "bert.embeddings.token_type_embeddings",
                "bert.embeddings.LayerNorm", "bert.encoder.layer.0.attention.self.query",
                "bert.encoder.layer.1.output.dense", "bert.encoder.layer.1.output.LayerNorm", "bert.pooler.dense",
                "classifier")) {
            bert.node(name);
        }
        Network llama = TransformerFixtures.load("llama-o17.onnx", 8);
        for (String name : List.of("model.embed_tokens", "model.layers.0.input_layernorm",
                "model.layers.1.self_attn.o_proj", "model.layers.1.mlp.down_proj", "model.norm", "lm_head")) {
            llama.node(name);
        }
    }

    @Test
    void theGatedMlpReadsTheActivationSecond() {
        Network net = TransformerFixtures.load("llama-o14.onnx", 8);
        for (Node n : net.nodes()) {
            if (n.layer() instanceof Multiply) {
                assertTrue(net.node(n.inputs().get(0)).layer() instanceof Dense, n.name() + " " + n.inputs());
                assertEquals(activation(Activation.Function.SILU).test(net.node(n.inputs().get(1)).layer()), true,
                        n.name() + " " + n.inputs());
            }
        }
    }

    /**
     * GPT-2 and Llama add the causal mask (finfo.min above the diagonal) to the padding mask and clamp the sum at
     * finfo.min; the importer maps the pair as an Index whose -1 slots are the masked (query, key) pairs and an
     * Offset that puts finfo.min there, the padding mask passing through below the diagonal.
     */
    @Test
    void theCausalMaskAndItsClampBecomeAnIndexAndAnOffset() {
        for (String f : List.of("gpt2-o14.onnx", "llama-o17.onnx")) {
            Network net = TransformerFixtures.load(f, 8);
            Node cut = net.nodes().stream().filter(n -> n.name().endsWith(".clip")).findFirst().orElseThrow();
            int[] index = ((Index) cut.layer()).index();
            Node add = net.nodes().stream().filter(n -> n.inputs().equals(List.of(cut.name()))).findFirst()
                    .orElseThrow();
            float[] offsets = ((Offset) add.layer()).perFeature(64);
            for (int q = 0; q < 8; q++) {
                for (int k = 0; k < 8; k++) {
                    boolean future = k > q;
                    assertEquals(future ? -1 : k, index[q * 8 + k], f + " query " + q + " key " + k);
                    assertEquals(future ? MIN : 0f, offsets[q * 8 + k], 0f, f + " query " + q + " key " + k);
                }
            }
            assertFalse(net.nodes().stream().anyMatch(n -> n.name().contains("Clip")), f);
        }
    }

    @Test
    void theClassTokenFillsTheFirstRowOfAnIndex() {
        Network net = TransformerFixtures.load("vit-o17.onnx", 8);
        Index slots = (Index) net.node("Concat_2.slots").layer();
        float[] token = ((Offset) net.node("Concat_2.constant").layer()).perFeature(17 * 32);
        boolean[] read = new boolean[16 * 32];
        for (int i = 0; i < 17 * 32; i++) {
            int from = slots.index()[i];
            assertEquals(i < 32, from == -1, "feature " + i);
            if (i >= 32) {
                assertEquals(0f, token[i], 0f);
                assertFalse(read[from], "feature " + i);
                read[from] = true; // the patches, transposed to [patch, channel]: each read once
            }
        }
        assertTrue(net.node("encoder.Add").layer() instanceof Offset, "the position embedding is a constant");
    }
}
