package org.gpulrp.transformer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.SplittableRandom;
import org.gpulrp.Explainer;
import org.gpulrp.Explanation;
import org.gpulrp.GpuLrp;
import org.gpulrp.Target;
import org.gpulrp.Tensor;
import org.gpulrp.backend.opencl.OpenClBackend;
import org.gpulrp.composite.Composite;
import org.gpulrp.composite.Composites;
import org.gpulrp.model.Activation;
import org.gpulrp.model.Network;
import org.gpulrp.testing.OpenClTestSupport;
import org.junit.jupiter.api.Test;

/**
 * The reproducibility contract on transformers (docs/DESIGN.md section 3): the CPU path and OpenCL give the same
 * bits for every layer's relevance; a sample's relevance does not depend on the rest of its batch or on how the batch
 * is chunked; and a padded text explains as the unpadded one, bit for bit on its real tokens, with exact zeros on
 * the padding.
 */
class TransformerBitsTest {
    private static final int ROWS = 7;

    private static Explanation explain(Network net, Composite c, float[] x, int rows, int chunk, OpenClBackend cl) {
        Explainer.Builder b = GpuLrp.explainer(net).composite(c).keepLayerRelevances(true).chunkRows(chunk);
        try (Explainer e = cl != null ? b.backend(cl).build() : b.build()) {
            return e.explain(new Tensor(x, rows, net.inputSize()), Target.argmax());
        }
    }

    private static void assertBits(String what, float[] a, float[] b) {
        assertEquals(a.length, b.length, what);
        for (int k = 0; k < a.length; k++) {
            assertEquals(Float.floatToRawIntBits(a[k]), Float.floatToRawIntBits(b[k]), what + " [" + k + "] "
                    + a[k] + " vs " + b[k]);
        }
    }

    private static void assertSame(String what, Explanation a, Explanation b) {
        assertBits(what + " outputs", a.outputs().toArray(), b.outputs().toArray());
        for (String layer : a.layerRelevances().keySet()) {
            assertBits(what + " " + layer, a.layerRelevance(layer).toArray(), b.layerRelevance(layer).toArray());
        }
        assertBits(what + " input", a.relevance().toArray(), b.relevance().toArray());
    }

    private record Case(String name, Network net, float[] x) {
    }

    private static List<Case> cases() {
        return List.of(
                new Case("bert", TransformerNets.bert(TransformerNets.Options.of(6).layers(2)),
                        TransformerNets.bertBatch(ROWS, 6, 11)),
                new Case("bert gelu-tanh -1e9", TransformerNets.bert(TransformerNets.Options.of(5)
                        .mlp(Activation.Function.GELU_TANH).maskValue(-1e9f)), TransformerNets.bertBatch(ROWS, 5, 12)),
                new Case("llama", TransformerNets.llama(TransformerNets.Options.of(5).mlp(Activation.Function.SILU)
                        .layers(2)), TransformerNets.llamaBatch(ROWS, 5, 13)),
                new Case("vit", TransformerNets.vit(TransformerNets.Options.of(5)), TransformerNets.images(ROWS, 14)));
    }

    @Test
    void cpuAndOpenClAgreeBitForBit() {
        try (OpenClBackend cl = OpenClTestSupport.openOrSkip()) {
            for (Case c : cases()) {
                for (Composite comp : List.of(Composites.attnLrp(), Composites.cpLrp(), Composites.attnLrpVit())) {
                    String what = c.name() + " " + comp.name();
                    assertSame(what, explain(c.net(), comp, c.x(), ROWS, 3, null),
                            explain(c.net(), comp, c.x(), ROWS, 3, cl));
                }
            }
        }
    }

    @Test
    void aSampleDoesNotDependOnItsBatch() {
        for (Case c : cases()) {
            for (Composite comp : List.of(Composites.attnLrp(), Composites.cpLrp())) {
                String what = c.name() + " " + comp.name();
                Explanation all = explain(c.net(), comp, c.x(), ROWS, 4, null);
                assertSame(what + " chunks of 4 and 1", all, explain(c.net(), comp, c.x(), ROWS, 1, null));
                int in = c.net().inputSize();
                // Sample 5 alone, and sample 5 in another batch (behind other samples).
                float[] alone = java.util.Arrays.copyOfRange(c.x(), 5 * in, 6 * in);
                Explanation one = explain(c.net(), comp, alone, 1, 4, null);
                assertBits(what + " sample 5 alone", all.relevance().row(5), one.relevance().toArray());
                float[] other = new float[3 * in];
                System.arraycopy(c.x(), 0, other, 0, in);
                System.arraycopy(c.x(), 5 * in, other, in, in);
                System.arraycopy(c.x(), 2 * in, other, 2 * in, in);
                assertBits(what + " sample 5 elsewhere", all.relevance().row(5),
                        explain(c.net(), comp, other, 3, 3, null).relevance().row(1));
            }
        }
    }

    /**
     * The same texts, padded to 5 and to 9 tokens (two networks of the same weights): the real tokens' relevance and
     * every real position's layer relevance have the same bits; the padding's ids, mask and token types get exact
     * zeros, and so does the real tokens' mask (their mask offset is 0).
     */
    @Test
    void paddingChangesNoBits() {
        for (float maskValue : new float[] {-3.4028235e38f, -1e9f}) {
            for (Composite comp : List.of(Composites.attnLrp(), Composites.cpLrp(), Composites.attnLrpVit())) {
                String what = maskValue + " " + comp.name();
                int t1 = 5;
                int t2 = 9;
                Network short5 = TransformerNets.bert(TransformerNets.Options.of(t1).maskValue(maskValue).layers(2));
                Network long9 = TransformerNets.bert(TransformerNets.Options.of(t2).maskValue(maskValue).layers(2));
                SplittableRandom r = new SplittableRandom(21);
                int rows = 4;
                float[] a = new float[rows * 3 * t1];
                float[] b = new float[rows * 3 * t2];
                int[] real = new int[rows];
                for (int s = 0; s < rows; s++) {
                    real[s] = 2 + r.nextInt(t1 - 1);
                    float[] text = TransformerNets.bertSample(r, real[s], t1);
                    for (int blk = 0; blk < 3; blk++) {
                        System.arraycopy(text, blk * t1, a, s * 3 * t1 + blk * t1, t1);
                        System.arraycopy(text, blk * t1, b, s * 3 * t2 + blk * t2, t1);
                    }
                }
                Explanation e1 = explain(short5, comp, a, rows, 4, null);
                Explanation e2 = explain(long9, comp, b, rows, 4, null);
                assertBits(what + " outputs", e1.outputs().toArray(), e2.outputs().toArray());
                for (int s = 0; s < rows; s++) {
                    float[] r1 = e1.relevance().row(s);
                    float[] r2 = e2.relevance().row(s);
                    double sum = 0;
                    for (int blk = 0; blk < 3; blk++) {
                        for (int p = 0; p < t2; p++) {
                            float v = r2[blk * t2 + p];
                            if (p < real[s] && blk != 1) {
                                assertEquals(Float.floatToRawIntBits(r1[blk * t1 + p]), Float.floatToRawIntBits(v),
                                        what + " sample " + s + " block " + blk + " position " + p);
                                sum += Math.abs(v);
                            } else {
                                assertTrue(v == 0f, what + " sample " + s + " block " + blk + " position " + p
                                        + " gets " + v);
                            }
                        }
                    }
                    assertTrue(sum > 0, what + " sample " + s + " has relevance");
                    // Layer relevance at the real positions of a token-wise node: same bits.
                    float[] n1 = e1.layerRelevance("l0.norm1").row(s);
                    float[] n2 = e2.layerRelevance("l0.norm1").row(s);
                    for (int q = 0; q < real[s] * TransformerNets.HIDDEN; q++) {
                        assertEquals(Float.floatToRawIntBits(n1[q]), Float.floatToRawIntBits(n2[q]),
                                what + " sample " + s + " l0.norm1 [" + q + "]");
                    }
                }
            }
        }
    }
}
