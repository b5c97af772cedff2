package org.gpulrp.io.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import org.gpulrp.io.Npy;
import org.gpulrp.model.Network;
import org.gpulrp.model.TokenInput;
import org.junit.jupiter.api.DynamicTest;

/**
 * The exports of {@code scripts/make_transformer_fixtures.py} in {@code src/test/resources/transformers}: BERT, GPT-2,
 * Llama (texts of 7, 4 and 2 tokens right-padded to 8) and ViT (3 images), opsets 14 and 17, with torch's float64
 * logits; loading them for a sequence length, and packing their inputs as {@link TokenInput} says.
 */
final class TransformerFixtures {
    static final Path DIR = Path.of("src/test/resources/transformers");
    /** The sequence length of the exported inputs (the texts are padded to it). */
    static final int SEQ = 8;
    /** Tolerance relative to a sample's largest |logit| in torch's float64 output. */
    static final double TOLERANCE = 1e-4;
    private static final Map<String, Network> NETWORKS = new ConcurrentHashMap<>();

    private TransformerFixtures() {
    }

    static List<String> files() {
        return TorchvisionOnnxTest.listed(DIR);
    }

    static String model(String file) {
        return TorchvisionOnnxTest.model(file);
    }

    /** The network of an export built for sequence length {@code length} (cached). */
    static Network load(String file, int length) {
        return NETWORKS.computeIfAbsent(file + "@" + length, k -> OnnxImporter.load(DIR.resolve(file),
                ImportOptions.defaults().withSequenceLength(length)));
    }

    /** The samples of a model's fixture inputs packed for {@code net}: token blocks padded to its length, or images. */
    static float[][] inputs(String model, Network net) {
        TokenInput t = net.tokens();
        if (t == null) {
            return rows(Npy.read(DIR.resolve(model + "_input.npy")));
        }
        float[][] out = null;
        for (String block : t.blocks()) {
            Npy.Array a = Npy.read(DIR.resolve(model + "_" + block + ".npy"));
            int rows = a.shape()[0];
            int cols = a.shape()[1];
            if (out == null) {
                out = new float[rows][t.sampleSize()];
            }
            for (int b = 0; b < rows; b++) {
                System.arraycopy(a.data(), b * cols, out[b], t.offset(block), cols); // the rest stays 0: padding
            }
        }
        return out;
    }

    /** torch's logits, per sample. */
    static float[][] logits(String model) {
        return rows(Npy.read(DIR.resolve(model + "_logits.npy")));
    }

    /** An array's rows along its first axis. */
    private static float[][] rows(Npy.Array a) {
        int per = a.data().length / a.shape()[0];
        float[][] out = new float[a.shape()[0]][per];
        for (int b = 0; b < out.length; b++) {
            System.arraycopy(a.data(), b * per, out[b], 0, per);
        }
        return out;
    }

    /** Each sample's outputs against torch's logits ({@link #assertClose}). */
    static void assertLogits(String what, String model, float[][] got) {
        double[][] wide = new double[got.length][];
        for (int b = 0; b < got.length; b++) {
            wide[b] = widen(got[b]);
        }
        assertLogits(what, model, wide);
    }

    static void assertLogits(String what, String model, double[][] got) {
        float[][] want = logits(model);
        assertEquals(want.length, got.length, what + ": samples");
        for (int b = 0; b < got.length; b++) {
            assertClose(what + " sample " + b, want[b], got[b]);
        }
    }

    static double[] widen(float[] x) {
        double[] out = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            out[i] = x[i];
        }
        return out;
    }

    /**
     * The first {@code want.length} outputs of a sample against torch's (a token LM's first {@link #SEQ} positions,
     * which a longer padding leaves as they are), within {@link #TOLERANCE} of its largest |logit|.
     */
    static void assertClose(String what, float[] want, double[] got) {
        double max = 0;
        for (float v : want) {
            max = Math.max(max, Math.abs(v));
        }
        assertTrue(max > 0, what + ": torch's logits are all zero, which checks nothing (regenerate the fixtures)");
        for (int j = 0; j < want.length; j++) {
            double err = Math.abs(got[j] - want[j]);
            if (!(err <= TOLERANCE * max)) {
                fail(String.format("%s: logit %d: torch %.9g, gpulrp %.9g (|error| %.3g > %.0e x %.3g)", what, j,
                        want[j], got[j], err, TOLERANCE, max));
            }
        }
    }

    /** One dynamic test per fixture file and sequence length (8, the exported texts' padding, and 12). */
    static Stream<DynamicTest> eachFixture(FixtureCheck check) {
        return files().stream().flatMap(f -> Stream.of(SEQ, 12).map(t ->
                DynamicTest.dynamicTest(f + " T=" + t, () -> check.run(f, t))));
    }

    /** A check of one fixture file at one sequence length. */
    @FunctionalInterface
    interface FixtureCheck {
        void run(String file, int length) throws Exception;
    }
}
