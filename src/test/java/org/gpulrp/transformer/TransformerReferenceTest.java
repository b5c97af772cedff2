package org.gpulrp.transformer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.List;
import java.util.SplittableRandom;
import org.gpulrp.Explainer;
import org.gpulrp.Explanation;
import org.gpulrp.GpuLrp;
import org.gpulrp.Target;
import org.gpulrp.Tensor;
import org.gpulrp.backend.opencl.OpenClBackend;
import org.gpulrp.composite.Attention;
import org.gpulrp.composite.Composite;
import org.gpulrp.composite.Composites;
import org.gpulrp.composite.Products;
import org.gpulrp.model.Activation;
import org.gpulrp.model.Network;
import org.gpulrp.reference.Float64Graph;
import org.gpulrp.testing.OpenClTestSupport;
import org.junit.jupiter.api.Test;

/**
 * The transformer layers (docs/DESIGN.md section 2.9) against the independent float64 reference
 * ({@link Float64Graph}) on the hand-built BERT-, Llama- and ViT-like models of {@link TransformerNets}, under the
 * AttnLRP, CP-LRP and Gamma composites, on the CPU path and on OpenCL: every node's output relevance and the input
 * relevance within {@value #TOLERANCE} of the largest |value| of that sample's row at that node. Float32 rounding
 * accounts for it: each value passes through a dozen or more rounded layers (float32 epsilon 6e-8 each, grown by
 * the dense layers' 8 to 16 term chains and by the epsilon rule's division by outputs near zero); the errors seen
 * are below 1e-5, and a wrong formula is off by far more ({@link #theCheckCanFail}).
 */
class TransformerReferenceTest {
    static final double TOLERANCE = 1e-4;
    private static final int ROWS = 6;

    static List<Composite> composites() {
        return List.of(Composites.attnLrp(), Composites.cpLrp(), Composites.attnLrpVit(), Composites.epsilon());
    }

    static Explanation explain(Network net, Composite c, float[] x, int rows, OpenClBackend cl) {
        Explainer.Builder b = GpuLrp.explainer(net).composite(c).keepLayerRelevances(true).chunkRows(4);
        try (Explainer e = cl != null ? b.backend(cl).build() : b.build()) {
            return e.explain(new Tensor(x, rows, net.inputSize()), Target.argmax());
        }
    }

    /** Every layer's relevance and the input relevance of each sample against the float64 reference. */
    static void check(String what, Network net, Composite c, float[] x, int rows, OpenClBackend cl) {
        String[] first = new String[1];
        double worst = worstError(what, net, c, c, x, rows, cl, first);
        System.out.printf("[transformer] %s: worst error %.2g of the row's largest value%n", what, worst);
        if (!(worst <= TOLERANCE)) {
            fail(first[0]);
        }
    }

    /**
     * The largest error of the engine under {@code engine} against the reference under {@code reference}, relative
     * to the largest |value| of its sample's row at its node; {@code first[0]} describes the first value off by more
     * than {@link #TOLERANCE}.
     */
    static double worstError(String what, Network net, Composite engine, Composite reference, float[] x, int rows,
                             OpenClBackend cl, String[] first) {
        Explanation e = explain(net, engine, x, rows, cl);
        int in = net.inputSize();
        double worst = 0;
        for (int b = 0; b < rows; b++) {
            float[] sample = java.util.Arrays.copyOfRange(x, b * in, (b + 1) * in);
            Float64Graph.Result ref = Float64Graph.explain(net, reference, sample, e.targets()[b]);
            double[] out = ref.values().get(net.nodes().get(net.nodes().size() - 1).name());
            assertEquals(out[e.targets()[b]], e.scores()[b], 1e-4 * Math.abs(out[e.targets()[b]]) + 1e-6,
                    what + " sample " + b + ": score");
            for (var entry : ref.relevance().entrySet()) {
                String node = entry.getKey();
                float[] got = node.equals(Network.INPUT) ? e.relevance().row(b)
                        : e.layerRelevance(node).row(b);
                worst = Math.max(worst, compare(what + " sample " + b + " at " + node, entry.getValue(), got,
                        first));
            }
            double total = 0;
            for (double v : ref.input()) {
                total += Math.abs(v);
            }
            assertTrue(total > 0, what + " sample " + b + ": the input gets relevance");
        }
        return worst;
    }

    /** The largest error relative to the row's largest |value|. */
    private static double compare(String what, double[] ref, float[] got, String[] first) {
        assertEquals(ref.length, got.length, what + ": width");
        double max = 0;
        for (double v : ref) {
            max = Math.max(max, Math.abs(v));
        }
        double worst = 0;
        for (int i = 0; i < ref.length; i++) {
            double err = Math.abs(got[i] - ref[i]);
            if (!(err <= TOLERANCE * max) && first[0] == null) {
                first[0] = String.format("%s, index %d: float64 %.9g, got %.9g (max |R| %.3g)", what, i, ref[i],
                        got[i], max);
            }
            worst = Math.max(worst, max == 0 ? (err == 0 ? 0 : Double.POSITIVE_INFINITY) : err / max);
        }
        return worst;
    }

    /** The check can fail: the engine under one mode against the reference under another is far off. */
    @Test
    void theCheckCanFail() {
        Network bert = TransformerNets.bert(TransformerNets.Options.of(6));
        float[] x = TransformerNets.bertBatch(3, 6, 5);
        Composite attn = Composites.attnLrp();
        String[] first = new String[1];
        assertTrue(worstError("attention modes", bert, attn, attn.withAttention(Attention.CP_LRP), x, 3, null,
                first) > 100 * TOLERANCE, "AttnLRP against CP-LRP");
        Network llama = TransformerNets.llama(TransformerNets.Options.of(5).mlp(Activation.Function.SILU));
        float[] ids = TransformerNets.llamaBatch(3, 5, 7);
        assertTrue(worstError("product modes", llama, attn, attn.withProducts(Products.GRADIENT), ids, 3, null,
                first) > 100 * TOLERANCE, "uniform against gradient products");
        assertTrue(worstError("rules", llama, attn, Composites.attnLrpVit().withAttention(Attention.ATTNLRP), ids,
                3, null, first) > 100 * TOLERANCE, "epsilon against gamma");
    }

    @Test
    void bertMatchesTheReference() {
        for (Activation.Function f : List.of(Activation.Function.GELU, Activation.Function.GELU_TANH)) {
            Network net = TransformerNets.bert(TransformerNets.Options.of(6).mlp(f).layers(2));
            float[] x = TransformerNets.bertBatch(ROWS, 6, 5);
            for (Composite c : composites()) {
                check("bert " + f + " " + c.name(), net, c, x, ROWS, null);
            }
        }
    }

    @Test
    void bertWithAMaskOfMinusOneBillionMatchesTheReference() {
        Network net = TransformerNets.bert(TransformerNets.Options.of(5).maskValue(-1e9f));
        check("bert -1e9 mask", net, Composites.attnLrp(), TransformerNets.bertBatch(ROWS, 5, 6), ROWS, null);
    }

    @Test
    void llamaMatchesTheReference() {
        Network net = TransformerNets.llama(TransformerNets.Options.of(5).mlp(Activation.Function.SILU).layers(2));
        float[] x = TransformerNets.llamaBatch(ROWS, 5, 7);
        for (Composite c : composites()) {
            check("llama " + c.name(), net, c, x, ROWS, null);
        }
    }

    @Test
    void vitMatchesTheReference() {
        Network net = TransformerNets.vit(TransformerNets.Options.of(5));
        float[] x = TransformerNets.images(ROWS, 8);
        for (Composite c : composites()) {
            check("vit " + c.name(), net, c, x, ROWS, null);
        }
    }

    @Test
    void openClMatchesTheReference() {
        try (OpenClBackend cl = OpenClTestSupport.openOrSkip()) {
            check("bert on OpenCL", TransformerNets.bert(TransformerNets.Options.of(6)), Composites.attnLrp(),
                    TransformerNets.bertBatch(ROWS, 6, 9), ROWS, cl);
            check("llama on OpenCL", TransformerNets.llama(TransformerNets.Options.of(5)
                    .mlp(Activation.Function.SILU)), Composites.cpLrp(), TransformerNets.llamaBatch(ROWS, 5, 10), ROWS,
                    cl);
        }
    }
}
