package org.gpulrp.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.gpulrp.BackendChoice;
import org.gpulrp.Explainer;
import org.gpulrp.Explanation;
import org.gpulrp.GpuLrp;
import org.gpulrp.Target;
import org.gpulrp.composite.Composites;
import org.gpulrp.io.Npy;
import org.gpulrp.io.text.Piece;
import org.gpulrp.io.text.TokenBatch;
import org.gpulrp.io.text.Tokenizer;
import org.gpulrp.model.Network;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code gpulrp explain} on token models, in-process, with the example's tokenizer and token models built in memory
 * ({@link ToyTokenModels}): the files and lines it writes against the library's own explanation of the same batch.
 */
class TextExplainTest {
    static final String TOKENIZER = "examples/text/tokenizer.json";
    static final String[] TEXTS = {"The computer crashed and the programmer lost all his files.",
        "Taxes <b>& votes</b>!"};
    private static Tokenizer tok;

    @TempDir
    Path dir;

    @BeforeAll
    static void load() {
        tok = Tokenizer.load(Path.of(TOKENIZER));
    }

    @AfterAll
    static void close() {
        tok.close();
    }

    /** A file named like a model; the toy loaders ignore it, the command only checks it exists. */
    private String model() throws IOException {
        Path m = dir.resolve("toy.onnx");
        Files.write(m, new byte[] {0});
        return m.toString();
    }

    private static TokenBatch batch(String... texts) {
        List<int[]> ids = new ArrayList<>();
        List<int[]> types = new ArrayList<>();
        for (String t : texts) {
            Tokenizer.Encoded e = tok.encode(t, 0);
            ids.add(e.ids());
            types.add(e.types());
        }
        return TokenBatch.pad(ids, types, TokenBatch.longest(ids));
    }

    /** The library's token relevance for the batch on the model, as the command should compute it. */
    private static float[] expected(TokenModel models, TokenBatch b, Target target) {
        Network net = models.load(Path.of("toy.onnx"), b.length());
        try (Explainer ex = GpuLrp.explainer(net).composite(Composites.epsilonPlus()).backend(BackendChoice.CPU)
                .build()) {
            Explanation e = ex.explain(b.pack(net.tokens()), target);
            return b.tokenRelevance(e.relevance(), net.tokens());
        }
    }

    private static void assertNoRelevanceOnPadding(TokenBatch b, float[] r) {
        for (int s = 0; s < b.size(); s++) {
            for (int i = 0; i < b.length(); i++) {
                if (b.mask()[s][i] == 0) {
                    assertEquals(0f, r[s * b.length() + i], "sample " + s + " position " + i);
                }
            }
        }
    }

    @Test
    void textsGiveTokenRelevanceWithZerosOnPaddingAndAPage() throws IOException {
        TokenModel toy = ToyTokenModels.classifier(tok.vocabSize());
        Path out = dir.resolve("rel.npy");
        Path html = dir.resolve("page.html");
        Path labels = dir.resolve("labels.txt");
        Files.writeString(labels, "computers\npolitics\nscience\n");
        CliRun r = ToyTokenModels.run(toy, "explain", "--model", model(), "--tokenizer", TOKENIZER, "--text",
                TEXTS[0], "--text", TEXTS[1], "--composite", "epsilon-plus", "--backend", "cpu", "--out",
                out.toString(), "--html", html.toString(), "--labels", labels.toString());
        assertEquals(0, r.code(), r.toString());
        TokenBatch b = batch(TEXTS);
        Npy.Array a = Npy.read(out);
        assertArrayEquals(new int[] {2, b.length()}, a.shape());
        float[] want = expected(toy, b, Target.argmax());
        CliRun.assertBits(want, a.data());
        assertNoRelevanceOnPadding(b, a.data());
        assertTrue(b.lastReal(1) < b.length() - 1, "the second text is padded");
        // stdout (not a terminal here): each text, plain, with its class name and score.
        List<String> lines = r.out().lines().toList();
        assertEquals(4, lines.size(), r.out());
        assertTrue(lines.get(0).matches("1\\. class \\d \\((computers|politics|science)\\), score -?[0-9.e+-]+"),
                lines.get(0));
        assertTrue(lines.get(1).startsWith("[CLS][") && lines.get(1).contains(" The[")
                && lines.get(1).contains(" files[") && lines.get(1).contains("].["), lines.get(1));
        assertTrue(lines.get(3).contains(" <[") && lines.get(3).contains("]&["), lines.get(3));
        assertTrue(r.err().contains("explained 2 texts on cpu"), r.err());
        String page = Files.readString(html, StandardCharsets.UTF_8);
        assertFalse(page.contains("<b>&"), "the text is escaped");
        for (Piece p : tok.encode(TEXTS[1], 0).pieces()) {
            assertTrue(page.contains(">" + org.gpulrp.io.text.TextHeatmaps.escape(p.text()) + "</span>"), p.text());
        }
        assertTrue(page.contains("composite epsilon-plus") && page.contains("model toy.onnx (toy-classifier)"),
                page);
    }

    @Test
    void aTextFileGivesWhatTheSameTextsGive() throws IOException {
        TokenModel toy = ToyTokenModels.classifier(tok.vocabSize());
        Path texts = dir.resolve("texts.txt");
        Files.writeString(texts, TEXTS[0] + "\n\n" + TEXTS[1] + "\n", StandardCharsets.UTF_8);
        Path a = dir.resolve("a.npy");
        Path c = dir.resolve("c.csv");
        CliRun r = ToyTokenModels.run(toy, "explain", "--model", model(), "--tokenizer", TOKENIZER, "--input",
                texts.toString(), "--composite", "epsilon-plus", "--backend", "cpu", "--out", a.toString(),
                "--quiet", "--target", "1");
        assertEquals(0, r.code(), r.toString());
        assertEquals("", r.out() + r.err(), "--quiet prints nothing");
        CliRun.assertBits(expected(toy, batch(TEXTS), Target.classIndex(1)), Npy.read(a).data());
        CliRun csv = ToyTokenModels.run(toy, "explain", "--model", model(), "--tokenizer", TOKENIZER, "--input",
                texts.toString(), "--composite", "epsilon-plus", "--backend", "cpu", "--out", c.toString(),
                "--quiet", "--target", "1");
        assertEquals(0, csv.code(), csv.toString());
        List<String> rows = Files.readAllLines(c);
        assertEquals(2, rows.size());
        assertEquals(Npy.read(a).shape()[1], rows.get(1).split(",").length);
    }

    @Test
    void tokenIdsWithAMaskAreExplainedWithoutATokenizer() throws IOException {
        TokenModel toy = ToyTokenModels.classifier(100);
        Path ids = dir.resolve("ids.npy");
        Path mask = dir.resolve("mask.npy");
        Npy.write(ids, new float[] {2, 17, 9, 40, 3, 2, 5, 3, 0, 0}, Npy.DType.INT64, 2, 5);
        Npy.write(mask, new float[] {1, 1, 1, 1, 1, 1, 1, 1, 0, 0}, Npy.DType.INT64, 2, 5);
        Path out = dir.resolve("rel.npy");
        CliRun r = ToyTokenModels.run(toy, "explain", "--model", model(), "--input", ids.toString(),
                "--attention-mask", mask.toString(), "--composite", "epsilon-plus", "--backend", "cpu", "--out",
                out.toString());
        assertEquals(0, r.code(), r.toString());
        TokenBatch b = new TokenBatch(5, new int[][] {{2, 17, 9, 40, 3}, {2, 5, 3, 0, 0}},
                new int[][] {{1, 1, 1, 1, 1}, {1, 1, 1, 0, 0}}, new int[2][5]);
        float[] got = Npy.read(out).data();
        CliRun.assertBits(expected(toy, b, Target.argmax()), got);
        assertNoRelevanceOnPadding(b, got);
        assertTrue(r.out().contains("#17[") && r.out().contains("#40["), r.out());
        // Without a mask every position is a token.
        CliRun all = ToyTokenModels.run(toy, "explain", "--model", model(), "--input", ids.toString(),
                "--composite", "epsilon-plus", "--backend", "cpu", "--out", out.toString(), "--quiet");
        assertEquals(0, all.code(), all.toString());
        TokenBatch ones = new TokenBatch(5, b.ids(), new int[][] {{1, 1, 1, 1, 1}, {1, 1, 1, 1, 1}}, new int[2][5]);
        CliRun.assertBits(expected(toy, ones, Target.argmax()), Npy.read(out).data());
        // The tokenizer names the ids.
        CliRun named = ToyTokenModels.run(ToyTokenModels.classifier(tok.vocabSize()), "explain", "--model", model(),
                "--input", ids.toString(), "--attention-mask", mask.toString(), "--tokenizer", TOKENIZER, "--out",
                out.toString());
        assertEquals(0, named.code(), named.toString());
        assertTrue(named.out().contains("[CLS][") && named.out().contains("[SEP]["), named.out());
    }

    @Test
    void aLongTextIsTruncatedWithANotice() throws IOException {
        TokenModel toy = ToyTokenModels.classifier(tok.vocabSize());
        Path out = dir.resolve("rel.npy");
        CliRun r = ToyTokenModels.run(toy, "explain", "--model", model(), "--tokenizer", TOKENIZER, "--text",
                TEXTS[0], "--text", "short", "--max-length", "6", "--out", out.toString());
        assertEquals(0, r.code(), r.toString());
        assertTrue(r.errLines().contains("gpulrp: text 1 has " + tok.encode(TEXTS[0], 0).ids().length
                + " tokens; truncated to --max-length 6"), r.err());
        assertEquals(1, r.errLines().stream().filter(l -> l.contains("truncated")).count(), r.err());
        assertArrayEquals(new int[] {2, 6}, Npy.read(out).shape());
        assertTrue(r.out().lines().toList().get(1).endsWith("[SEP][+0.00]") || r.out().contains("[SEP]["),
                "the special tokens are kept");
    }

    @Test
    void languageModelsExplainTheNextTokenAtEachTextsLastToken() throws IOException {
        TokenModel lm = ToyTokenModels.languageModel(tok.vocabSize());
        TokenBatch b = batch(TEXTS);
        int v = tok.vocabSize();
        Path out = dir.resolve("rel.npy");
        CliRun r = ToyTokenModels.run(lm, "explain", "--model", model(), "--tokenizer", TOKENIZER, "--text",
                TEXTS[0], "--text", TEXTS[1], "--composite", "epsilon-plus", "--backend", "cpu", "--out",
                out.toString());
        assertEquals(0, r.code(), r.toString());
        int[] last = {b.lastReal(0), b.lastReal(1)};
        CliRun.assertBits(expected(lm, b, Target.atPositions(v, last, new int[] {-1, -1})), Npy.read(out).data());
        List<String> lines = r.out().lines().toList();
        assertTrue(lines.get(0).startsWith("1. next token after position " + last[0] + " ('[SEP]'): '"),
                lines.get(0));
        assertTrue(lines.get(2).startsWith("2. next token after position " + last[1] + " ('[SEP]'): "),
                lines.get(2));
        assertTrue(lines.get(0).matches(".*\\(id \\d+\\), logit -?[0-9.e+-]+"), lines.get(0));

        // --position from the start and from the end, and a fixed token by id and by text.
        int computer = tok.idsOf("computer")[0];
        for (String[] c : new String[][] {{"--position", "1"}, {"--position", "-3"},
            {"--target-token", String.valueOf(computer)}, {"--target-token", "Computer"}}) {
            CliRun p = ToyTokenModels.run(lm, "explain", "--model", model(), "--tokenizer", TOKENIZER, "--text",
                    TEXTS[0], "--text", TEXTS[1], "--composite", "epsilon-plus", "--backend", "cpu", "--out",
                    out.toString(), c[0], c[1]);
            assertEquals(0, p.code(), p.toString());
            int[] pos = c[1].equals("1") ? new int[] {1, 1} : c[1].equals("-3") ? new int[] {last[0] - 2, last[1] - 2}
                    : last;
            int token = c[0].equals("--target-token") ? computer : -1;
            CliRun.assertBits(expected(lm, b, Target.atPositions(v, pos, new int[] {token, token})),
                    Npy.read(out).data());
            assertTrue(p.out().contains("next token after position " + pos[1]), p.out());
            if (token >= 0) {
                assertTrue(p.out().contains("'computer' (id " + computer + ")"), p.out());
            }
        }
    }

    @Test
    void languageModelTargetErrors() throws IOException {
        TokenModel lm = ToyTokenModels.languageModel(tok.vocabSize());
        CliRun two = ToyTokenModels.run(lm, "explain", "--model", model(), "--tokenizer", TOKENIZER, "--text",
                "hello", "--target-token", "computer crashed");
        assertEquals(2, two.code(), two.toString());
        assertTrue(two.err().matches("(?s)gpulrp: --target-token 'computer crashed' is \\d tokens \\[computer, "
                + "crash.*, not one; give a single token or its id\n.*"), two.err());
        int n = tok.encode("hello", 0).ids().length;
        CliRun far = ToyTokenModels.run(lm, "explain", "--model", model(), "--tokenizer", TOKENIZER, "--text",
                "hello", "--text", TEXTS[0], "--position", String.valueOf(n));
        assertEquals(1, far.code(), far.toString());
        assertEquals("gpulrp: --position " + n + ": text 1 has " + n + " tokens (positions 0.." + (n - 1) + ", or -1..-" + n
                + " from its end)", far.errLines().get(0));
        CliRun id = ToyTokenModels.run(lm, "explain", "--model", model(), "--tokenizer", TOKENIZER, "--text",
                "hello", "--target-token", String.valueOf(tok.vocabSize()));
        assertEquals(2, id.code(), id.toString());
        assertTrue(id.err().contains("outside the model's vocabulary"), id.err());
        CliRun target = ToyTokenModels.run(lm, "explain", "--model", model(), "--tokenizer", TOKENIZER, "--text",
                "hello", "--target", "1");
        assertEquals(2, target.code(), target.toString());
        assertTrue(target.err().contains("--target is for classifiers"), target.err());
        CliRun position = ToyTokenModels.run(ToyTokenModels.classifier(tok.vocabSize()), "explain", "--model",
                model(), "--tokenizer", TOKENIZER, "--text", "hello", "--position", "0");
        assertEquals(2, position.code(), position.toString());
        assertTrue(position.err().contains("--position is for language models"), position.err());
    }

    @Test
    void usageAndInputErrorsSayWhatIsWrongInOneLine() throws IOException {
        TokenModel small = ToyTokenModels.classifier(50);
        CliRun vocab = ToyTokenModels.run(small, "explain", "--model", model(), "--tokenizer", TOKENIZER, "--text",
                TEXTS[0]);
        assertEquals(1, vocab.code(), vocab.toString());
        assertEquals(1, vocab.errLines().size(), vocab.err());
        assertTrue(vocab.err().matches("(?s)gpulrp: text 1, position 1: token id \\d+ \\('the'\\) is outside the "
                + "model's vocabulary \\(0\\.\\.49\\); is .*tokenizer\\.json the model's tokenizer\\?\\s*"),
                vocab.err());

        Path bad = dir.resolve("tokenizer.json");
        Files.writeString(bad, "{\"model\": [");
        CliRun parse = ToyTokenModels.run(small, "explain", "--model", model(), "--tokenizer", bad.toString(),
                "--text", "x");
        assertEquals(1, parse.code(), parse.toString());
        assertEquals(1, parse.errLines().size(), parse.err());
        assertTrue(parse.err().startsWith("gpulrp: " + bad + ": not valid JSON"), parse.err());

        // A float model (the ONNX importer's) given a tokenizer.
        CliRun floats = CliRun.of("explain", "--model", CliRun.MODEL, "--tokenizer", TOKENIZER, "--text", "x");
        assertEquals(1, floats.code(), floats.toString());
        assertTrue(floats.err().startsWith("gpulrp: --model " + CliRun.MODEL + ": not a token model (it takes float "
                + "inputs [10]); --tokenizer needs"), floats.err());

        CliRun noTokenizer = ToyTokenModels.run(small, "explain", "--model", model(), "--text", "x");
        assertEquals(2, noTokenizer.code(), noTokenizer.toString());
        assertTrue(noTokenizer.err().contains("--text needs --tokenizer"), noTokenizer.err());
        CliRun heatmap = ToyTokenModels.run(small, "explain", "--model", model(), "--tokenizer", TOKENIZER, "--text",
                "x", "--heatmap", dir.toString());
        assertEquals(2, heatmap.code(), heatmap.toString());
        assertTrue(heatmap.err().contains("--heatmap is an image option"), heatmap.err());
        CliRun both = ToyTokenModels.run(small, "explain", "--model", model(), "--tokenizer", TOKENIZER, "--text",
                "x", "--input", "texts.txt");
        assertEquals(2, both.code(), both.toString());
        CliRun nothing = ToyTokenModels.run(small, "explain", "--model", model());
        assertEquals(2, nothing.code(), nothing.toString());
        assertTrue(nothing.err().contains("give --input"), nothing.err());
    }
}
