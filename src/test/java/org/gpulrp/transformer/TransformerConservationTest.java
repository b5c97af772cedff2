package org.gpulrp.transformer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.Set;
import org.gpulrp.Explainer;
import org.gpulrp.Explanation;
import org.gpulrp.GpuLrp;
import org.gpulrp.HealthReport;
import org.gpulrp.Target;
import org.gpulrp.Tensor;
import org.gpulrp.composite.Composite;
import org.gpulrp.composite.Composites;
import org.gpulrp.model.Activation;
import org.gpulrp.model.Network;
import org.junit.jupiter.api.Test;

/**
 * Where relevance is conserved on transformers (docs/DESIGN.md sections 2.8 and 2.9): with zero biases, shifts and
 * position embeddings, CP-LRP passes the whole score down to the tokens (the softmax passes nothing, {@code A V}
 * everything to V, the gate of a gated MLP is a constant); under AttnLRP every layer but the softmax passes down
 * what entered it less its stabilizer's share (the health report), while the softmax, by input times gradient, does
 * not conserve.
 */
class TransformerConservationTest {
    private static final int ROWS = 5;
    /**
     * Relative gap allowed between the score and the input relevance: each of the ~30 epsilon steps absorbs
     * {@code 1e-6 sum g}, small against denominators of order 0.1 to 10, and float32 sums lose about 1e-6.
     */
    private static final double CONSERVED = 1e-3;

    private static Explanation explain(Network net, Composite c, float[] x) {
        try (Explainer e = GpuLrp.explainer(net).composite(c).healthReport(true).keepLayerRelevances(true)
                .chunkRows(3).build()) {
            return e.explain(new Tensor(x, ROWS, net.inputSize()), Target.argmax());
        }
    }

    @Test
    void cpLrpConservesTheScoreWithoutBiases() {
        Map<String, float[]> cases = Map.of(
                "bert", TransformerNets.bertBatch(ROWS, 6, 31),
                "llama", TransformerNets.llamaBatch(ROWS, 6, 32));
        for (var c : cases.entrySet()) {
            TransformerNets.Options o = TransformerNets.Options.of(6).noBiases().layers(2)
                    .mlp(c.getKey().equals("llama") ? Activation.Function.SILU : Activation.Function.GELU);
            Network net = c.getKey().equals("bert") ? TransformerNets.bert(o) : TransformerNets.llama(o);
            Explanation e = explain(net, Composites.cpLrp(), c.getValue());
            for (int b = 0; b < ROWS; b++) {
                double sum = 0;
                for (float v : e.relevance().row(b)) {
                    sum += v;
                }
                double score = e.scores()[b];
                assertTrue(Math.abs(score) > 1e-2, c.getKey() + " sample " + b + ": a score to conserve");
                assertEquals(score, sum, CONSERVED * Math.abs(score), c.getKey() + " sample " + b);
            }
            // Biases back in: the score is not conserved any more, so the check above can fail.
            Network biased = c.getKey().equals("bert") ? TransformerNets.bert(TransformerNets.Options.of(6).layers(2))
                    : TransformerNets.llama(TransformerNets.Options.of(6).layers(2).mlp(Activation.Function.SILU));
            Explanation eb = explain(biased, Composites.cpLrp(), c.getValue());
            double worst = 0;
            for (int b = 0; b < ROWS; b++) {
                double sum = 0;
                for (float v : eb.relevance().row(b)) {
                    sum += v;
                }
                worst = Math.max(worst, Math.abs(sum - eb.scores()[b]) / Math.abs(eb.scores()[b]));
            }
            assertTrue(worst > 10 * CONSERVED, c.getKey() + " with biases: " + worst);
        }
    }

    /**
     * Per node, under AttnLRP without biases: what a layer norm, a matrix product (epsilon then half to each operand),
     * a uniform product, a gather, an offset, an embedding and every other step but the softmax did not pass down
     * is its stabilizer's share; the softmax's account is open.
     */
    @Test
    void attnLrpConservesEverywhereButTheSoftmax() {
        TransformerNets.Options o = TransformerNets.Options.of(6).noBiases().mlp(Activation.Function.SILU);
        Network llama = TransformerNets.llama(o);
        checkAccounts("llama", llama, TransformerNets.llamaBatch(ROWS, 6, 33), Set.of("l0.probs"));
        Network bert = TransformerNets.bert(TransformerNets.Options.of(6).noBiases());
        // The mask path: (mask - 1) has the constant -1, which takes what the path receives (nothing here).
        checkAccounts("bert", bert, TransformerNets.bertBatch(ROWS, 6, 34), Set.of("l0.probs", "mask1"));
    }

    private static void checkAccounts(String what, Network net, float[] x, Set<String> open) {
        HealthReport h = explain(net, Composites.attnLrp(), x).health();
        boolean softmaxLeaks = false;
        for (HealthReport.Layer l : h.layers()) {
            double scale = Math.max(1e-3, Math.abs(l.entering()));
            if (open.contains(l.node())) {
                softmaxLeaks |= Math.abs(l.bias()) > 1e-2 * scale;
                continue;
            }
            assertEquals(0, l.bias(), 1e-4 * scale, what + " " + l.node() + ": entering " + l.entering()
                    + ", passed down " + l.passedDown() + ", stabilizer " + l.stabilizer());
        }
        assertTrue(softmaxLeaks, what + ": AttnLRP's softmax does not conserve");
        assertTrue(h.clean(), what);
    }
}
