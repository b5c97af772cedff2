package org.gpulrp.transformer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.gpulrp.Explainer;
import org.gpulrp.GpuLrp;
import org.gpulrp.InvalidInputException;
import org.gpulrp.NonFinitePolicy;
import org.gpulrp.Target;
import org.gpulrp.Tensor;
import org.gpulrp.backend.opencl.OpenClBackend;
import org.gpulrp.composite.Composites;
import org.gpulrp.model.Activation;
import org.gpulrp.model.Network;
import org.gpulrp.testing.OpenClTestSupport;
import org.junit.jupiter.api.Test;

/**
 * Token ids that no embedding row answers (out of range, fractional, NaN, infinite) are input errors that name the
 * sample (its index in the whole batch, across chunks) and the position, on every backend; and the relevance of an
 * id is the sum of its embedding row's relevance.
 */
class TokenIdsTest {
    private static final int LENGTH = 5;

    private static InvalidInputException refused(Network net, float[] x, int rows, NonFinitePolicy policy,
                                                 OpenClBackend cl) {
        Explainer.Builder b = GpuLrp.explainer(net).composite(Composites.attnLrp()).chunkRows(2).nonFinite(policy);
        try (Explainer e = cl == null ? b.build() : b.backend(cl).build()) {
            return assertThrows(InvalidInputException.class,
                    () -> e.explain(new Tensor(x, rows, net.inputSize()), Target.argmax()));
        }
    }

    @Test
    void badIdsNameTheSampleAndThePosition() {
        Network net = TransformerNets.llama(TransformerNets.Options.of(LENGTH).mlp(Activation.Function.SILU));
        float[][] bad = {{TransformerNets.VOCAB, 11}, {-1, -1}, {2.5f, 2.5f}, {Float.POSITIVE_INFINITY, 1e9f},
            {1 << 24, 1 << 24}};
        for (float[] v : bad) {
            float[] x = TransformerNets.llamaBatch(5, LENGTH, 3);
            x[3 * LENGTH + 2] = v[0];
            // Sample 3 lies in the second chunk of two rows: its index in the whole batch is named.
            InvalidInputException e = refused(net, x, 5, NonFinitePolicy.PROPAGATE, null);
            assertEquals(3, e.sample(), e.getMessage());
            assertEquals(2, e.feature(), e.getMessage());
            assertTrue(e.getMessage().contains("sample 3 position 2") && e.getMessage().contains("'word'")
                    && e.getMessage().contains("0.." + (TransformerNets.VOCAB - 1)), e.getMessage());
        }
        float[] x = TransformerNets.llamaBatch(5, LENGTH, 3);
        x[4 * LENGTH + 1] = Float.NaN;
        InvalidInputException e = refused(net, x, 5, NonFinitePolicy.PROPAGATE, null);
        assertTrue(e.sample() == 4 && e.feature() == 1 && e.getMessage().contains("NaN"), e.getMessage());
        // Under the default policy the engine's finite check refuses it first, naming the same sample and feature.
        e = refused(net, x, 5, NonFinitePolicy.REJECT, null);
        assertTrue(e.sample() == 4 && e.feature() == 1, e.getMessage());
    }

    @Test
    void openClRefusesTheSameIds() {
        Network net = TransformerNets.bert(TransformerNets.Options.of(LENGTH));
        float[] x = TransformerNets.bertBatch(3, LENGTH, 4);
        x[2 * 3 * LENGTH + 2 * LENGTH + 1] = 2;   // sample 2, token type 2 of a table of 2
        try (OpenClBackend cl = OpenClTestSupport.openOrSkip()) {
            InvalidInputException e = refused(net, x, 3, NonFinitePolicy.REJECT, cl);
            assertTrue(e.sample() == 2 && e.feature() == 1 && e.getMessage().contains("'type'"), e.getMessage());
        }
    }

    /** An id's relevance is the sum of its embedding row's relevance (double, ascending, rounded once). */
    @Test
    void anIdGetsItsRowsSum() {
        Network net = TransformerNets.llama(TransformerNets.Options.of(LENGTH).mlp(Activation.Function.SILU));
        float[] x = TransformerNets.llamaBatch(3, LENGTH, 5);
        try (Explainer e = GpuLrp.explainer(net).composite(Composites.attnLrp()).keepLayerRelevances(true).build()) {
            var ex = e.explain(new Tensor(x, 3, net.inputSize()), Target.argmax());
            for (int b = 0; b < 3; b++) {
                float[] rows = ex.layerRelevance("word").row(b);
                for (int t = 0; t < LENGTH; t++) {
                    double sum = 0;
                    for (int h = 0; h < TransformerNets.HIDDEN; h++) {
                        sum += rows[t * TransformerNets.HIDDEN + h];
                    }
                    assertEquals(Float.floatToRawIntBits((float) sum),
                            Float.floatToRawIntBits(ex.relevance().get(b, t)), "sample " + b + " position " + t);
                }
            }
        }
    }
}
