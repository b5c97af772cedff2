package org.gpulrp.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.gpulrp.BackendChoice;
import org.gpulrp.Explainer;
import org.gpulrp.GpuLrp;
import org.gpulrp.Target;
import org.gpulrp.Tensor;
import org.gpulrp.composite.Composites;
import org.gpulrp.eval.Evaluation;
import org.gpulrp.eval.Order;
import org.gpulrp.eval.Regions;
import org.gpulrp.eval.ZeroEmbedding;
import org.gpulrp.io.Npy;
import org.gpulrp.io.text.TokenBatch;
import org.gpulrp.io.text.Tokenizer;
import org.gpulrp.model.Network;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code gpulrp evaluate} on a token model from raw text, read as {@code gpulrp explain} reads it: the curves equal
 * the library's on the padded batch, whose regions are each text's real tokens (L the fewest of them), and the same
 * texts as ids with their mask give the same files; the text and target options mean what they mean for explain.
 */
class EvaluateTextTest {
    private static final String MODEL = "examples/text/fortune-bert.onnx";
    private static final String TOKENIZER = "examples/text/tokenizer.json";
    private static final List<String> TEXTS = List.of("The computer crashed.",
            "Politicians promise taxes will fall; voters don't believe them!", "Physics is fun, said he.");

    @TempDir
    Path dir;

    private static TextInputs.Batch batch() {
        try (Tokenizer tok = Tokenizer.load(Path.of(TOKENIZER))) {
            return TextInputs.encode(tok, TEXTS, 0, "", new PrintWriter(new StringWriter()));
        }
    }

    @Test
    void textsGiveTheLibrarysCurvesOverRealTokensAndIdsTheSameFiles() throws IOException {
        Path texts = dir.resolve("texts.txt");
        Files.write(texts, TEXTS);
        Path out = dir.resolve("eval");
        CliRun r = CliRun.of("evaluate", "--model", MODEL, "--tokenizer", TOKENIZER, "--input", texts.toString(),
                "--composite", "attnlrp,cp-lrp", "--order", "morf,lerf", "--target", "2", "--backend", "cpu",
                "--out", out.toString());
        assertEquals(0, r.code(), r.toString());
        TokenBatch b = batch().tokens();
        int fewest = Integer.MAX_VALUE;
        for (int s = 0; s < b.size(); s++) {
            fewest = Math.min(fewest, b.lastReal(s) + 1);
        }
        assertTrue(fewest < b.length(), "the texts are of different lengths: " + fewest + " < " + b.length());
        List<String> csv = Files.readAllLines(out.resolve("summary.csv"));
        assertEquals(5, csv.size(), csv.toString());
        assertTrue(csv.get(1).startsWith("attnlrp,morf,") && csv.get(1).endsWith(",3," + fewest), csv.toString());

        Network net = ZeroEmbedding.prepare(TokenModel.ONNX.load(Path.of(MODEL), b.length()));
        Tensor x = b.pack(net.tokens());
        Evaluation.Result lib;
        try (Explainer ex = GpuLrp.explainer(net).composite(Composites.cpLrp()).backend(BackendChoice.CPU)
                .build()) {
            lib = Evaluation.run(ex, x, Target.classIndex(2), new Evaluation.Settings(Regions.tokens(net.tokens()),
                    ZeroEmbedding.baseline(net), List.of(Order.MORF, Order.LERF), fewest, 0), null);
        }
        Npy.Array lerf = Npy.read(out.resolve("cp-lrp-lerf.npy"));
        assertEquals(List.of(3, fewest + 1), List.of(lerf.shape()[0], lerf.shape()[1]));
        float[] flat = new float[3 * (fewest + 1)];
        for (int s = 0; s < 3; s++) {
            System.arraycopy(lib.curve(Order.LERF)[s], 0, flat, s * (fewest + 1), fewest + 1);
        }
        CliRun.assertBits(flat, lerf.data());

        // The same texts as ids and a mask: the same files, bit for bit.
        Path ids = dir.resolve("ids.npy");
        Path mask = dir.resolve("mask.npy");
        writeInts(ids, b.ids());
        writeInts(mask, b.mask());
        Path out2 = dir.resolve("eval-ids");
        CliRun r2 = CliRun.of("evaluate", "--model", MODEL, "--input", ids.toString(), "--attention-mask",
                mask.toString(), "--composite", "attnlrp,cp-lrp", "--order", "morf,lerf", "--target", "2",
                "--backend", "cpu", "--out", out2.toString());
        assertEquals(0, r2.code(), r2.toString());
        for (String f : List.of("attnlrp-morf.npy", "attnlrp-lerf.npy", "cp-lrp-morf.npy", "cp-lrp-lerf.npy")) {
            CliRun.assertBits(Npy.read(out.resolve(f)).data(), Npy.read(out2.resolve(f)).data());
        }
    }

    @Test
    void textAndTargetErrorsAreOneLineAndWriteNothing() throws IOException {
        Path out = dir.resolve("none");
        String[][] usage = {
            {"--text", "a short text", "--text", "a longer text than that one", "--steps", "6"},
            {"--text", "a text", "--html", dir.resolve("t.html").toString()},
            {"--text", "a text", "--input", "examples/text/texts.txt"},
            {"--text", "a text", "--position", "1"},
            {"--text", "a text", "--target", "-1"},
            {"--input", "examples/text/texts.txt", "--preprocess", "imagenet"},
        };
        CliRun.assertUsageErrors(List.of("evaluate", "--model", MODEL, "--tokenizer", TOKENIZER, "--backend", "cpu",
                "--out", out.toString()), usage, out);
        CliRun steps = CliRun.of("evaluate", "--model", MODEL, "--tokenizer", TOKENIZER, "--text", "a short text",
                "--text", "a longer text than that one", "--steps", "6", "--backend", "cpu");
        assertTrue(steps.err().contains("--steps: 6 regions, but sample 0 (from 0) has 5 real tokens (padding is "
                + "no region); choose at most 5"), steps.toString());
        // --target means the same in both commands: the same error line.
        CliRun explain = CliRun.of("explain", "--model", MODEL, "--tokenizer", TOKENIZER, "--text", "a text",
                "--target", "-1", "--backend", "cpu");
        CliRun evaluate = CliRun.of("evaluate", "--model", MODEL, "--tokenizer", TOKENIZER, "--text", "a text",
                "--target", "-1", "--backend", "cpu");
        assertEquals(2, explain.code(), explain.toString());
        assertEquals(explain.errLines().get(0), evaluate.errLines().get(0));
    }

    private static void writeInts(Path f, int[][] v) {
        float[] d = new float[v.length * v[0].length];
        for (int i = 0; i < v.length; i++) {
            for (int j = 0; j < v[0].length; j++) {
                d[i * v[0].length + j] = v[i][j];
            }
        }
        Npy.write(f, d, Npy.DType.INT64, v.length, v[0].length);
    }
}
