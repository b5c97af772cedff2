package org.gpulrp.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.gpulrp.BackendChoice;
import org.gpulrp.Explainer;
import org.gpulrp.GpuLrp;
import org.gpulrp.InvalidArgumentException;
import org.gpulrp.Target;
import org.gpulrp.Tensor;
import org.gpulrp.composite.Composites;
import org.gpulrp.io.onnx.ImportOptions;
import org.gpulrp.io.onnx.OnnxImporter;
import org.gpulrp.io.text.TokenBatch;
import org.gpulrp.model.Network;
import org.junit.jupiter.api.Test;

/**
 * Token regions (docs/DESIGN.md section 2.10): a sample's regions are its real tokens, so padding is neither ranked
 * nor replaced, and a padded batch gives each sample the curves it gets alone, unpadded, bit for bit; L is at most the
 * fewest real tokens, and more is an error naming the sample.
 */
class TokenRegionsTest {
    private static final int[] LENGTHS = {5, 9, 7};

    private static Network bert(int length) {
        return ZeroEmbedding.prepare(OnnxImporter.load(Path.of("examples/text/fortune-bert.onnx"),
                ImportOptions.defaults().withSequenceLength(length)));
    }

    private static List<int[]> texts() {
        Random r = new Random(11);
        List<int[]> ids = new ArrayList<>();
        for (int n : LENGTHS) {
            int[] t = new int[n];
            for (int i = 0; i < n; i++) {
                t[i] = 1 + r.nextInt(2000);
            }
            ids.add(t);
        }
        return ids;
    }

    private static Evaluation.Result evaluate(List<int[]> ids, int steps) {
        int length = TokenBatch.longest(ids);
        Network net = bert(length);
        List<int[]> types = ids.stream().map(t -> new int[t.length]).toList();
        Tensor x = TokenBatch.pad(ids, types, length).pack(net.tokens());
        Evaluation.Settings s = new Evaluation.Settings(Regions.tokens(net.tokens()), ZeroEmbedding.baseline(net),
                List.of(Order.MORF, Order.LERF, Order.RANDOM), steps, 4);
        try (Explainer ex = GpuLrp.explainer(net).composite(Composites.attnLrp()).backend(BackendChoice.CPU)
                .build()) {
            return Evaluation.run(ex, x, Target.classIndex(1), s, null);
        }
    }

    @Test
    void aPaddedBatchGivesEachSampleItsCurvesAloneBitForBit() {
        List<int[]> ids = texts();
        Network padded = bert(9);
        Tensor x = TokenBatch.pad(ids, ids.stream().map(t -> new int[t.length]).toList(), 9).pack(padded.tokens());
        Regions regions = Regions.tokens(padded.tokens());
        assertEquals(9, regions.count());
        assertEquals(5, regions.fewest(x.toArray()));
        assertArrayEquals(new int[] {0, 1, 2, 3, 4}, regions.present(x.toArray(), 0));
        assertEquals(5, Evaluation.defaultSteps(regions, x), "L: the fewest real tokens");

        Evaluation.Result batch = evaluate(ids, 5);
        for (int b = 0; b < ids.size(); b++) {
            Evaluation.Result alone = evaluate(List.of(ids.get(b)), 5);
            for (Order o : List.of(Order.MORF, Order.LERF)) {
                assertArrayEquals(bits(alone.curve(o)[0]), bits(batch.curve(o)[b]), o.label() + " of sample " + b);
            }
            if (b == 0) {
                // The random order's stream is the sample's index: only sample 0 has the same one alone.
                assertArrayEquals(bits(alone.curve(Order.RANDOM)[0]), bits(batch.curve(Order.RANDOM)[0]));
            }
        }
        // All 5 real tokens of sample 0 removed in any order: the same input, so the same score.
        assertEquals(batch.curve(Order.MORF)[0][5], batch.curve(Order.LERF)[0][5], 0f);
        assertEquals(batch.curve(Order.MORF)[0][5], batch.curve(Order.RANDOM)[0][5], 0f);
        assertTrue(batch.curve(Order.MORF)[0][0] != batch.curve(Order.MORF)[0][5], "removals change the score");
    }

    @Test
    void moreStepsThanTheShortestSamplesRealTokensIsAnErrorNamingIt() {
        InvalidArgumentException e = assertThrows(InvalidArgumentException.class, () -> evaluate(texts(), 6));
        assertEquals("steps: 6 regions, but sample 0 (from 0) has 5 real tokens (padding is no region); choose at "
                + "most 5", e.getMessage());
    }

    private static int[] bits(float[] f) {
        int[] b = new int[f.length];
        for (int i = 0; i < f.length; i++) {
            b[i] = Float.floatToRawIntBits(f[i]);
        }
        return b;
    }
}
