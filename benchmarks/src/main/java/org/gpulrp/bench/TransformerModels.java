package org.gpulrp.bench;

import java.util.List;
import java.util.SplittableRandom;
import org.gpulrp.model.Activation;
import org.gpulrp.model.Add;
import org.gpulrp.model.Conv2d;
import org.gpulrp.model.ConvGeometry;
import org.gpulrp.model.Dense;
import org.gpulrp.model.Embedding;
import org.gpulrp.model.Index;
import org.gpulrp.model.LayerNorm;
import org.gpulrp.model.MatMul;
import org.gpulrp.model.Network;
import org.gpulrp.model.Offset;
import org.gpulrp.model.Scale;
import org.gpulrp.model.Softmax;
import org.gpulrp.model.TokenInput;

/**
 * The transformer shapes of the benchmark suite, built from the library's layers with seeded random weights
 * (normal, std 0.02, as BERT initializes; norms with scale 1 and shift 0): {@code bert-base} (12 layers, hidden 768,
 * 12 heads, inner 3072, vocabulary 30522, sequence 128, post-norm, pooler and a 2-class head; packed input: ids,
 * attention mask, token types) and {@code vit-b16} (ViT-B/16 at 224 px: a 16x16 stride-16 patch convolution, class
 * token, 12 pre-norm layers, 1000 classes). The graphs are the ones the ONNX importer builds from such exports:
 * token-wise {@link Dense} layers, {@link Index} head splits and merges, two {@link MatMul}s and a {@link Softmax}
 * per attention.
 */
final class TransformerModels {
    static final int BERT_SEQ = 128;
    private static final float MASK_MIN = -Float.MAX_VALUE;

    private TransformerModels() {
    }

    /** Builds the layers on one builder with one random stream. */
    private static final class Graph {
        final Network.Builder b;
        final SplittableRandom rnd = new SplittableRandom(42);
        final int seq;
        final int hidden;
        final int heads;

        Graph(Network.Builder b, int seq, int hidden, int heads) {
            this.b = b;
            this.seq = seq;
            this.hidden = hidden;
            this.heads = heads;
        }

        float[] normal(int n) {
            float[] w = new float[n];
            for (int k = 0; k < n; k++) {
                w[k] = (float) (rnd.nextGaussian() * 0.02);
            }
            return w;
        }

        String dense(String name, String input, int in, int out) {
            b.add(name, new Dense(seq, in, out, normal(in * out), new float[out]), input);
            return name;
        }

        String norm(String name, String input) {
            b.add(name, new LayerNorm(seq, hidden, null, null, 1e-12f, false), input);
            return name;
        }

        /** Self-attention of {@code x} [seq, hidden]; {@code mask} is the additive [heads, seq, seq] bias or null. */
        String attention(String p, String x, String mask) {
            int d = hidden / heads;
            String q = dense(p + ".query", x, hidden, hidden);
            String k = dense(p + ".key", x, hidden, hidden);
            String v = dense(p + ".value", x, hidden, hidden);
            b.add(p + ".q_heads", new Index(seq * hidden, splitHeads(false)), q);
            b.add(p + ".k_heads_t", new Index(seq * hidden, splitHeads(true)), k);
            b.add(p + ".v_heads", new Index(seq * hidden, splitHeads(false)), v);
            b.add(p + ".scores", new MatMul(heads, seq, d, seq), p + ".q_heads", p + ".k_heads_t");
            b.add(p + ".scaled", new Scale(new float[] {(float) (1 / Math.sqrt(d))}), p + ".scores");
            String s = p + ".scaled";
            if (mask != null) {
                b.add(p + ".masked", new Add(), s, mask);
                s = p + ".masked";
            }
            b.add(p + ".probs", new Softmax(seq), s);
            b.add(p + ".context", new MatMul(heads, seq, seq, d), p + ".probs", p + ".v_heads");
            b.add(p + ".merged", new Index(seq * hidden, mergeHeads()), p + ".context");
            return dense(p + ".output", p + ".merged", hidden, hidden);
        }

        String mlp(String p, String x, int inner) {
            dense(p + ".fc1", x, hidden, inner);
            b.add(p + ".gelu", new Activation(Activation.Function.GELU), p + ".fc1");
            return dense(p + ".fc2", p + ".gelu", inner, hidden);
        }

        /** [seq, heads * d] to [heads, seq, d], or with {@code transposed} to [heads, d, seq]. */
        int[] splitHeads(boolean transposed) {
            int d = hidden / heads;
            int[] index = new int[seq * hidden];
            for (int h = 0; h < heads; h++) {
                for (int t = 0; t < seq; t++) {
                    for (int j = 0; j < d; j++) {
                        int out = transposed ? (h * d + j) * seq + t : (h * seq + t) * d + j;
                        index[out] = t * hidden + h * d + j;
                    }
                }
            }
            return index;
        }

        /** [heads, seq, d] back to [seq, heads * d]. */
        int[] mergeHeads() {
            int d = hidden / heads;
            int[] index = new int[seq * hidden];
            for (int h = 0; h < heads; h++) {
                for (int t = 0; t < seq; t++) {
                    for (int j = 0; j < d; j++) {
                        index[t * hidden + h * d + j] = (h * seq + t) * d + j;
                    }
                }
            }
            return index;
        }

        /** The first position's features, [seq, hidden] to [hidden]. */
        String firstToken(String name, String x) {
            int[] index = new int[hidden];
            for (int j = 0; j < hidden; j++) {
                index[j] = j;
            }
            b.add(name, new Index(seq * hidden, index), x);
            return name;
        }
    }

    static Network network(String model) {
        return switch (model) {
            case "bert-base" -> bert(BERT_SEQ, 12, 768, 12, 3072, 30522);
            case "vit-b16" -> vit(224, 16, 12, 768, 12, 3072, 1000);
            default -> throw new IllegalArgumentException("unknown transformer model " + model);
        };
    }

    /** A BERT-style classifier for packed samples [ids, mask, types] of {@code seq} positions. */
    static Network bert(int seq, int layers, int hidden, int heads, int inner, int vocab) {
        TokenInput tokens = new TokenInput(seq, List.of(TokenInput.IDS, TokenInput.MASK, TokenInput.TYPES), vocab);
        Graph g = new Graph(Network.builder("bert-base", new int[] {3, seq}).tokens(tokens), seq, hidden, heads);
        Network.Builder b = g.b;
        b.add("ids", new Index(3 * seq, range(0, seq)), Network.INPUT);
        b.add("types", new Index(3 * seq, range(2 * seq, seq)), Network.INPUT);
        b.add("word_embeddings", new Embedding(seq, vocab, hidden, g.normal(vocab * hidden)), "ids");
        b.add("token_type_embeddings", new Embedding(seq, 2, hidden, g.normal(2 * hidden)), "types");
        b.add("embeddings.sum", new Add(), "word_embeddings", "token_type_embeddings");
        b.add("position_embeddings", new Offset(g.normal(seq * hidden)), "embeddings.sum");
        String x = g.norm("embeddings.LayerNorm", "position_embeddings");
        // HuggingFace's extended mask: (1 - mask) * finfo.min, broadcast over heads and query positions.
        b.add("mask", new Index(3 * seq, range(seq, seq)), Network.INPUT);
        b.add("mask.neg", new Scale(new float[] {-1f}), "mask");
        b.add("mask.inv", new Offset(new float[] {1f}), "mask.neg");
        b.add("mask.min", new Scale(new float[] {MASK_MIN}), "mask.inv");
        int[] spread = new int[heads * seq * seq];
        for (int k = 0; k < spread.length; k++) {
            spread[k] = k % seq;
        }
        b.add("mask.bias", new Index(seq, spread), "mask.min");
        for (int l = 0; l < layers; l++) {
            String p = "layer." + l;
            String a = g.attention(p + ".attention", x, "mask.bias");
            b.add(p + ".attention.residual", new Add(), a, x);
            String h = g.norm(p + ".attention.LayerNorm", p + ".attention.residual");
            String m = g.mlp(p + ".mlp", h, inner);
            b.add(p + ".residual", new Add(), m, h);
            x = g.norm(p + ".output.LayerNorm", p + ".residual");
        }
        String cls = g.firstToken("pooler.first", x);
        b.add("pooler.dense", new Dense(hidden, hidden, g.normal(hidden * hidden), new float[hidden]), cls);
        b.add("pooler.tanh", new Activation(Activation.Function.TANH), "pooler.dense");
        b.add("classifier", new Dense(hidden, 2, g.normal(hidden * 2), new float[2]), "pooler.tanh");
        return b.build();
    }

    /** ViT with a class token, pre-norm layers and a linear head, for {@code image}-pixel RGB inputs. */
    static Network vit(int image, int patch, int layers, int hidden, int heads, int inner, int classes) {
        int side = image / patch;
        int patches = side * side;
        int seq = patches + 1;
        Graph g = new Graph(Network.builder("vit-b16", 3, image, image), seq, hidden, heads);
        Network.Builder b = g.b;
        ConvGeometry geo = new ConvGeometry(3, image, image, hidden, patch, patch, patch, patch, 0, 0, 1, 1, 1);
        b.add("conv_proj", new Conv2d(geo, g.normal(geo.weightSize()), new float[hidden]), Network.INPUT);
        // [hidden, patches] to [1 + patches, hidden] with an empty first row for the class token
        int[] index = new int[seq * hidden];
        for (int c = 0; c < hidden; c++) {
            index[c] = -1;
            for (int p = 0; p < patches; p++) {
                index[(1 + p) * hidden + c] = c * patches + p;
            }
        }
        b.add("tokens", new Index(hidden * patches, index), "conv_proj");
        float[] classAndPositions = g.normal(seq * hidden);
        b.add("class_token+pos_embedding", new Offset(classAndPositions), "tokens");
        String x = "class_token+pos_embedding";
        for (int l = 0; l < layers; l++) {
            String p = "encoder_layer_" + l;
            String a = g.attention(p + ".self_attention", g.norm(p + ".ln_1", x), null);
            b.add(p + ".residual1", new Add(), a, x);
            String m = g.mlp(p + ".mlp", g.norm(p + ".ln_2", p + ".residual1"), inner);
            b.add(p + ".residual2", new Add(), m, p + ".residual1");
            x = p + ".residual2";
        }
        String cls = g.firstToken("class_token", g.norm("encoder.ln", x));
        b.add("heads.head", new Dense(hidden, classes, g.normal(hidden * classes), new float[classes]), cls);
        return b.build();
    }

    private static int[] range(int start, int length) {
        int[] r = new int[length];
        for (int k = 0; k < length; k++) {
            r[k] = start + k;
        }
        return r;
    }

    /** Packed token samples (random ids in 1..vocab-1, full attention mask, token types 0) or N(0, 1) pixels. */
    static float[] inputs(Network net, int rows) {
        SplittableRandom rnd = new SplittableRandom(7);
        float[] x = new float[rows * net.inputSize()];
        TokenInput t = net.tokens();
        if (t == null) {
            for (int k = 0; k < x.length; k++) {
                x[k] = (float) rnd.nextGaussian();
            }
            return x;
        }
        int n = t.sampleSize();
        for (int r = 0; r < rows; r++) {
            for (int p = 0; p < t.length(); p++) {
                x[r * n + t.offset(TokenInput.IDS) + p] = 1 + rnd.nextInt(t.vocab() - 1);
                x[r * n + t.offset(TokenInput.MASK) + p] = 1f;
            }
        }
        return x;
    }
}
