package org.gpulrp.transformer;

import java.util.List;
import java.util.SplittableRandom;
import org.gpulrp.model.Activation;
import org.gpulrp.model.Conv2d;
import org.gpulrp.model.ConvGeometry;
import org.gpulrp.model.Dense;
import org.gpulrp.model.Embedding;
import org.gpulrp.model.Index;
import org.gpulrp.model.LayerNorm;
import org.gpulrp.model.MatMul;
import org.gpulrp.model.Multiply;
import org.gpulrp.model.Network;
import org.gpulrp.model.Offset;
import org.gpulrp.model.Scale;
import org.gpulrp.model.Slice;
import org.gpulrp.model.Softmax;
import org.gpulrp.model.TokenInput;

/**
 * Small hand-built transformers with the layout an ONNX importer produces (docs/DESIGN.md section 2.9): a BERT-like
 * encoder (word, token-type and position embeddings, a padding mask through the mask path, post-norm blocks, a
 * class-token pooler), a Llama-like decoder (RMSNorm, causal mask by an offset, a gated SiLU MLP) and a ViT-like
 * classifier (a patch convolution, a class token placed by a gather and an offset). The weights are drawn from a
 * fixed seed and do not depend on the sequence length, so the same model can be built for several lengths.
 */
public final class TransformerNets {
    static final int HIDDEN = 8;
    static final int HEADS = 2;
    static final int HEAD = HIDDEN / HEADS;
    static final int FFN = 16;
    static final int VOCAB = 11;
    static final int CLASSES = 3;
    /** The longest sequence the position embedding covers. */
    static final int MAX_LENGTH = 12;

    /** How a model is built. */
    public record Options(int length, Activation.Function mlp, float maskValue, boolean zeroBiases, int layers) {
        public static Options of(int length) {
            return new Options(length, Activation.Function.GELU, -3.4028235e38f, false, 1);
        }

        public Options mlp(Activation.Function f) {
            return new Options(length, f, maskValue, zeroBiases, layers);
        }

        public Options maskValue(float v) {
            return new Options(length, mlp, v, zeroBiases, layers);
        }

        public Options noBiases() {
            return new Options(length, mlp, maskValue, true, layers);
        }

        public Options layers(int n) {
            return new Options(length, mlp, maskValue, zeroBiases, n);
        }
    }

    private TransformerNets() {
    }

    /** Draws weights; biases, shifts and position embeddings are zeros when {@code zero}. */
    private static final class Weights {
        private final SplittableRandom r;
        private final boolean zero;

        Weights(long seed, boolean zero) {
            this.r = new SplittableRandom(seed);
            this.zero = zero;
        }

        float[] randn(int n, double scale) {
            float[] a = new float[n];
            for (int k = 0; k < n; k++) {
                a[k] = (float) (r.nextGaussian() * scale);
            }
            return a;
        }

        /** Drawn either way (so that the other weights stay the same), zeros when biases are off. */
        float[] bias(int n, double scale) {
            float[] a = randn(n, scale);
            return zero ? new float[n] : a;
        }

        Dense dense(int positions, int in, int out) {
            return new Dense(positions, in, out, randn(in * out, 1.2 / Math.sqrt(in)), bias(out, 0.2));
        }

        LayerNorm norm(int positions, boolean rms) {
            float[] gamma = randn(HIDDEN, 0.3);
            for (int i = 0; i < HIDDEN; i++) {
                gamma[i] += 1f;
            }
            float[] beta = bias(HIDDEN, 0.2);
            return new LayerNorm(positions, HIDDEN, gamma, rms ? null : beta, 1e-5f, rms);
        }
    }

    // ------------------------------------------------------------------------------------------------ layouts

    /** {@code [T, heads, d] -> [heads, T, d]}. */
    static int[] splitHeads(int t) {
        int[] ix = new int[t * HIDDEN];
        for (int h = 0; h < HEADS; h++) {
            for (int p = 0; p < t; p++) {
                for (int e = 0; e < HEAD; e++) {
                    ix[(h * t + p) * HEAD + e] = p * HIDDEN + h * HEAD + e;
                }
            }
        }
        return ix;
    }

    /** {@code [T, heads, d] -> [heads, d, T]} (the keys, transposed). */
    static int[] splitHeadsTransposed(int t) {
        int[] ix = new int[t * HIDDEN];
        for (int h = 0; h < HEADS; h++) {
            for (int e = 0; e < HEAD; e++) {
                for (int p = 0; p < t; p++) {
                    ix[(h * HEAD + e) * t + p] = p * HIDDEN + h * HEAD + e;
                }
            }
        }
        return ix;
    }

    /** {@code [heads, T, d] -> [T, heads * d]}. */
    static int[] mergeHeads(int t) {
        int[] ix = new int[t * HIDDEN];
        for (int p = 0; p < t; p++) {
            for (int h = 0; h < HEADS; h++) {
                for (int e = 0; e < HEAD; e++) {
                    ix[p * HIDDEN + h * HEAD + e] = (h * t + p) * HEAD + e;
                }
            }
        }
        return ix;
    }

    /** The hidden vector of one position, {@code [T, H] -> [H]}. */
    static int[] position(int p) {
        int[] ix = new int[HIDDEN];
        for (int e = 0; e < HIDDEN; e++) {
            ix[e] = p * HIDDEN + e;
        }
        return ix;
    }

    /**
     * One attention block plus MLP on {@code [T, H]} from node {@code x}, post-norm (BERT) or pre-norm (Llama, with
     * RMSNorm); {@code scoreMask} is a node of {@code [heads, T, T]} added to the scaled scores, or null; with
     * {@code causal} an offset masks the future keys. Returns the block's output node.
     */
    private static String block(Network.Builder b, Weights w, String p, String x, int t, boolean llama,
                                Activation.Function mlp, String scoreMask, float maskValue) {
        String in = x;
        if (llama) {
            b.add(p + "norm1", w.norm(t, true), x);
            in = p + "norm1";
        }
        b.add(p + "q", w.dense(t, HIDDEN, HIDDEN), in);
        b.add(p + "k", w.dense(t, HIDDEN, HIDDEN), in);
        b.add(p + "v", w.dense(t, HIDDEN, HIDDEN), in);
        b.add(p + "qh", new Index(t * HIDDEN, splitHeads(t)), p + "q");
        b.add(p + "kt", new Index(t * HIDDEN, splitHeadsTransposed(t)), p + "k");
        b.add(p + "vh", new Index(t * HIDDEN, splitHeads(t)), p + "v");
        b.add(p + "scores", new MatMul(HEADS, t, HEAD, t), p + "qh", p + "kt");
        b.add(p + "scaled", new Scale(new float[] {(float) (1 / Math.sqrt(HEAD))}), p + "scores");
        String logits = p + "scaled";
        if (scoreMask != null) {
            b.sum(p + "masked", logits, scoreMask);
            logits = p + "masked";
        }
        if (llama) {
            float[] causal = new float[HEADS * t * t];
            for (int h = 0; h < HEADS; h++) {
                for (int q = 0; q < t; q++) {
                    for (int k = q + 1; k < t; k++) {
                        causal[(h * t + q) * t + k] = maskValue;
                    }
                }
            }
            b.add(p + "causal", new Offset(causal), logits);
            logits = p + "causal";
        }
        b.add(p + "probs", new Softmax(t), logits);
        b.add(p + "context", new MatMul(HEADS, t, t, HEAD), p + "probs", p + "vh");
        b.add(p + "merged", new Index(t * HIDDEN, mergeHeads(t)), p + "context");
        b.add(p + "o", w.dense(t, HIDDEN, HIDDEN), p + "merged");
        b.sum(p + "res1", p + "o", x);
        String mid = p + "res1";
        String mlpIn = mid;
        if (!llama) {
            b.add(p + "norm1", w.norm(t, false), mid);
            mid = p + "norm1";
            mlpIn = mid;
        } else {
            b.add(p + "norm2", w.norm(t, true), mid);
            mlpIn = p + "norm2";
        }
        if (llama) {
            b.add(p + "gate", w.dense(t, HIDDEN, FFN), mlpIn);
            b.add(p + "up", w.dense(t, HIDDEN, FFN), mlpIn);
            b.add(p + "act", new Activation(mlp), p + "gate");
            b.add(p + "gated", new Multiply(1), p + "up", p + "act");
            b.add(p + "down", w.dense(t, FFN, HIDDEN), p + "gated");
        } else {
            b.add(p + "up", w.dense(t, HIDDEN, FFN), mlpIn);
            b.add(p + "act", new Activation(mlp), p + "up");
            b.add(p + "down", w.dense(t, FFN, HIDDEN), p + "act");
        }
        b.sum(p + "res2", p + "down", mid);
        if (llama) {
            return p + "res2";
        }
        b.add(p + "norm2", w.norm(t, false), p + "res2");
        return p + "norm2";
    }

    /**
     * A BERT-like encoder for sequences of {@code length} tokens, samples packed as {@code [ids, mask, types]}: word
     * plus token-type embeddings, a learned position embedding (an offset), a layer norm, the blocks with the mask
     * {@code (mask - 1) * -maskValue} added to every head's scores, then the class token's vector through a tanh
     * pooler and a dense head.
     */
    public static Network bert(Options o) {
        int t = o.length();
        Weights w = new Weights(41, o.zeroBiases());
        TokenInput tokens = new TokenInput(t, List.of(TokenInput.IDS, TokenInput.MASK, TokenInput.TYPES), VOCAB);
        Network.Builder b = Network.builder("bert", new int[] {3, t}).tokens(tokens);
        b.add("ids", new Slice(0, t), Network.INPUT);
        b.add("mask", new Slice(t, t), Network.INPUT);
        b.add("types", new Slice(2 * t, t), Network.INPUT);
        b.add("word", new Embedding(t, VOCAB, HIDDEN, w.randn(VOCAB * HIDDEN, 1.0)), "ids");
        b.add("type", new Embedding(t, 2, HIDDEN, w.randn(2 * HIDDEN, 0.5)), "types");
        b.sum("embed", "word", "type");
        float[] positions = w.bias(MAX_LENGTH * HIDDEN, 0.5);
        b.add("pos", new Offset(java.util.Arrays.copyOf(positions, t * HIDDEN)), "embed");
        b.add("norm0", w.norm(t, false), "pos");
        // The mask path: (mask - 1) * -maskValue is 0 at real tokens and maskValue at padding, per key.
        b.add("mask1", new Offset(new float[] {-1f}), "mask");
        b.add("maskv", new Scale(new float[] {-o.maskValue()}), "mask1");
        int[] keys = new int[HEADS * t * t];
        for (int i = 0; i < keys.length; i++) {
            keys[i] = i % t;
        }
        b.add("maskb", new Index(t, keys), "maskv");
        String x = "norm0";
        for (int l = 0; l < o.layers(); l++) {
            x = block(b, w, "l" + l + ".", x, t, false, o.mlp(), "maskb", o.maskValue());
        }
        b.add("cls", new Index(t * HIDDEN, position(0)), x);
        b.add("pool", w.dense(1, HIDDEN, HIDDEN), "cls");
        b.add("tanh", new Activation(Activation.Function.TANH), "pool");
        b.add("head", w.dense(1, HIDDEN, CLASSES), "tanh");
        return b.build();
    }

    /** A packed BERT sample: {@code real} tokens, then padding (id 0, mask 0, type 0) up to {@code length}. */
    public static float[] bertSample(SplittableRandom r, int real, int length) {
        float[] s = new float[3 * length];
        for (int p = 0; p < real; p++) {
            s[p] = p == 0 ? 1 : 2 + r.nextInt(VOCAB - 2);
            s[length + p] = 1;
            s[2 * length + p] = p >= (real + 1) / 2 ? 1 : 0;
        }
        return s;
    }

    /**
     * A Llama-like decoder for {@code length} tokens (ids only): an embedding, pre-norm blocks with RMSNorm, a causal
     * mask by an offset on the scores and a gated MLP ({@code up * act(gate)}), a final RMSNorm, and a head on the
     * last token.
     */
    public static Network llama(Options o) {
        int t = o.length();
        Weights w = new Weights(43, o.zeroBiases());
        Network.Builder b = Network.builder("llama", new int[] {1, t})
                .tokens(new TokenInput(t, List.of(TokenInput.IDS), VOCAB));
        b.add("word", new Embedding(t, VOCAB, HIDDEN, w.randn(VOCAB * HIDDEN, 1.0)), Network.INPUT);
        String x = "word";
        for (int l = 0; l < o.layers(); l++) {
            x = block(b, w, "l" + l + ".", x, t, true, o.mlp(), null, o.maskValue());
        }
        b.add("norm", w.norm(t, true), x);
        b.add("last", new Index(t * HIDDEN, position(t - 1)), "norm");
        b.add("head", w.dense(1, HIDDEN, CLASSES), "last");
        return b.build();
    }

    /** Ids for a Llama sample. */
    public static float[] llamaSample(SplittableRandom r, int length) {
        float[] s = new float[length];
        for (int p = 0; p < length; p++) {
            s[p] = r.nextInt(VOCAB);
        }
        return s;
    }

    /**
     * A ViT-like classifier of {@code 3 x 4 x 4} images: a 2x2 patch convolution to {@code HIDDEN} channels, the
     * four patches gathered to tokens behind an empty class-token slot, which an offset fills (with the position
     * embedding), one post-norm block and a head on the class token.
     */
    public static Network vit(Options o) {
        Weights w = new Weights(47, o.zeroBiases());
        int t = 5;
        Network.Builder b = Network.builder("vit", 3, 4, 4);
        ConvGeometry g = ConvGeometry.of(3, 4, 4, HIDDEN, 2, 2, 0);
        b.add("patch", new Conv2d(g, w.randn(g.weightSize(), 0.5), w.bias(HIDDEN, 0.2)));
        int[] tokens = new int[t * HIDDEN];
        for (int e = 0; e < HIDDEN; e++) {
            tokens[e] = -1;
            for (int p = 0; p < 4; p++) {
                tokens[(p + 1) * HIDDEN + e] = e * 4 + p;
            }
        }
        b.add("tokens", new Index(HIDDEN * 4, tokens), "patch");
        float[] cls = w.randn(t * HIDDEN, 0.5);
        float[] pos = w.bias(t * HIDDEN, 0.3);
        for (int i = 0; i < cls.length; i++) {
            cls[i] = (i < HIDDEN ? cls[i] : 0f) + pos[i];
        }
        b.add("embed", new Offset(cls), "tokens");
        String x = block(b, w, "l0.", "embed", t, false, o.mlp(), null, o.maskValue());
        b.add("cls", new Index(t * HIDDEN, position(0)), x);
        b.add("head", w.dense(1, HIDDEN, CLASSES), "cls");
        return b.build();
    }

    /** A batch of packed BERT samples, each with 2 to {@code length} real tokens. */
    public static float[] bertBatch(int rows, int length, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = new float[rows * 3 * length];
        for (int b = 0; b < rows; b++) {
            int real = 2 + r.nextInt(length - 1);
            System.arraycopy(bertSample(r, real, length), 0, x, b * 3 * length, 3 * length);
        }
        return x;
    }

    /** A batch of Llama id sequences. */
    public static float[] llamaBatch(int rows, int length, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = new float[rows * length];
        for (int b = 0; b < rows; b++) {
            System.arraycopy(llamaSample(r, length), 0, x, b * length, length);
        }
        return x;
    }

    /** A batch of ViT images, {@code 3 x 4 x 4}, standard normal. */
    public static float[] images(int rows, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = new float[rows * 48];
        for (int k = 0; k < x.length; k++) {
            x[k] = (float) r.nextGaussian();
        }
        return x;
    }
}
