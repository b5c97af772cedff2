package org.gpulrp.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.gpulrp.Explainer;
import org.gpulrp.Explanation;
import org.gpulrp.LrpException;
import org.gpulrp.Target;
import org.gpulrp.Tensor;
import org.gpulrp.io.AtomicFiles;
import org.gpulrp.io.Npy;
import org.gpulrp.io.text.Piece;
import org.gpulrp.io.text.TextHeatmaps;
import org.gpulrp.io.text.TokenBatch;
import org.gpulrp.io.text.Tokenizer;
import org.gpulrp.model.Network;
import org.gpulrp.model.TokenInput;
import picocli.CommandLine.ParameterException;

/**
 * {@code gpulrp explain} on a token model: texts (tokenized) or token ids in; the token relevance out as
 * {@code [batch, seq]} (zeros on padding), as an HTML page, and on stdout, coloured on a terminal. Classifiers are
 * explained for {@code --target}; language models (an output of {@code [seq, vocab]}) for the next-token logit at
 * a position of each text ({@link Target#atPositions}).
 */
final class TextRun {
    private final ExplainCommand cmd;
    private final TextOptions o;
    private final PrintWriter err;

    TextRun(ExplainCommand cmd) {
        this.cmd = cmd;
        this.o = cmd.text;
        this.err = cmd.spec.commandLine().getErr();
    }

    private ParameterException usage(String message) {
        return new ParameterException(cmd.spec.commandLine(), message);
    }

    /** Runs the command; {@code preloaded} is the model when the caller already loaded it for these ids. */
    int run(Network preloaded) {
        long t0 = System.nanoTime();
        checkOptions();
        try (TokenSamples s = TokenSamples.load(cmd.spec.commandLine(), o, cmd.input, cmd.model, cmd.tokenModels(),
                preloaded, err)) {
            TokenBatch batch = s.in.tokens();
            Network net = s.network;
            TokenInput layout = s.layout();
            boolean lm = s.languageModel();
            Target target = s.target(cmd.targets);
            List<String> labels = lm ? List.of() : labels(net.outputSize());
            Tensor packed = batch.pack(layout);
            Explanation e;
            long t1;
            try (Explainer ex = cmd.builder(net).build()) {
                t1 = System.nanoTime();
                e = ex.explain(packed, target);
                cmd.printRules(ex);
            }
            long t2 = System.nanoTime();
            float[] relevance = batch.tokenRelevance(e.relevance(), layout);
            List<TextHeatmaps.Row> rows = rows(batch, s.in.pieces(), relevance, e, lm, layout.vocab(), s.tokenizer,
                    labels);
            // Everything computed: only now touch the output files.
            String page = o.html == null ? null : TextHeatmaps.html("gpulrp: token relevance", facts(net, e), rows,
                    cmd.image.paletteOrDefault());
            Map<Path, Tensor> layerFiles = cmd.layers == null ? Map.of() : cmd.layerFiles(e);
            List<String> wrote = new ArrayList<>();
            if (cmd.out != null) {
                writeRelevance(cmd.out, relevance, batch.size(), batch.length());
                wrote.add(cmd.out.toString());
            }
            if (page != null) {
                AtomicFiles.write(o.html, page.getBytes(StandardCharsets.UTF_8));
                wrote.add(o.html.toString());
            }
            layerFiles.forEach((f, r) -> Npy.write(f, r.toArray(), r.shape()));
            if (cmd.layers != null) {
                wrote.add("layers in " + cmd.layers);
            }
            if (!cmd.quiet) {
                PrintWriter out = cmd.spec.commandLine().getOut();
                boolean colour = ExplainCommand.terminal();
                for (TextHeatmaps.Row r : rows) {
                    out.print(colour ? TextHeatmaps.ansi(r, cmd.image.paletteOrDefault()) : TextHeatmaps.plain(r));
                }
                out.flush();
            }
            cmd.note(e);
            cmd.summary(err, e.batchSize(), s.texts ? (e.batchSize() == 1 ? "text" : "texts")
                    : (e.batchSize() == 1 ? "sequence" : "sequences"), e.backend(), t0, t1, t2,
                    wrote.isEmpty() ? "stdout" : String.join(", ", wrote));
            return 0;
        }
    }

    /** Explain's own checks; the text options' are {@link TokenSamples#check}'s. */
    private void checkOptions() {
        String image = cmd.image.firstNonTextOption();
        if (image != null) {
            throw usage(image + " is an image option; token inputs take --palette only");
        }
        boolean texts = TokenSamples.check(cmd.spec.commandLine(), o, cmd.input);
        if (cmd.out != null && texts && DataFiles.format(cmd.out) == null) {
            throw usage("--out " + cmd.out + ": must end in .npy or .csv");
        }
        for (Path f : new Path[] {cmd.out, o.html}) {
            if (f != null) {
                DataFiles.requireParent(f, f == o.html ? "--html" : "--out");
            }
        }
        if (o.html != null && !String.valueOf(o.html.getFileName()).toLowerCase(Locale.ROOT).matches(".*\\.html?")) {
            throw usage("--html " + o.html + ": must end in .html");
        }
    }

    /** {@code --labels}: one class name per line, as many as the model has outputs. */
    private List<String> labels(int classes) {
        if (o.labels == null) {
            return List.of();
        }
        ModelOptions.requireFile(o.labels, "--labels");
        List<String> names;
        try {
            names = Files.readAllLines(o.labels, StandardCharsets.UTF_8).stream().filter(l -> !l.isBlank())
                    .map(String::strip).toList();
        } catch (IOException x) {
            throw new UncheckedIOException("--labels " + o.labels + ": " + x.getMessage(), x);
        }
        if (names.size() != classes) {
            throw new LrpException("--labels " + o.labels + ": " + names.size() + " names for the model's " + classes
                    + " outputs");
        }
        return names;
    }

    private List<TextHeatmaps.Row> rows(TokenBatch batch, List<List<Piece>> pieces, float[] relevance,
                                        Explanation e, boolean lm, int vocab, Tokenizer tokenizer,
                                        List<String> labels) {
        List<TextHeatmaps.Row> rows = new ArrayList<>();
        int[] targets = e.targets();
        for (int b = 0; b < batch.size(); b++) {
            float[] r = new float[pieces.get(b).size()];
            int k = 0;
            for (int i = 0; i < batch.length(); i++) {
                if (batch.mask()[b][i] == 1) {
                    r[k++] = relevance[b * batch.length() + i];
                }
            }
            float score = e.outputs().get(b, targets[b]);
            String what;
            if (lm) {
                int position = targets[b] / vocab;
                int token = targets[b] % vocab;
                int k2 = realIndex(batch.mask()[b], position);
                String after = k2 >= 0 && k2 < pieces.get(b).size() ? pieces.get(b).get(k2).text() : "?";
                what = String.format(Locale.ROOT, "next token after position %d ('%s'): %s (id %d), logit %.4g",
                        position, after, tokenName(tokenizer, token), token, score);
            } else {
                what = String.format(Locale.ROOT, "class %d%s, score %.4g", targets[b],
                        labels.isEmpty() ? "" : " (" + labels.get(targets[b]) + ")", score);
            }
            rows.add(new TextHeatmaps.Row((b + 1) + ". " + what, pieces.get(b), r));
        }
        return rows;
    }

    /** Where position {@code p} of a sample falls among its real tokens, or -1 on padding. */
    private static int realIndex(int[] mask, int p) {
        if (mask[p] != 1) {
            return -1;
        }
        int k = 0;
        for (int i = 0; i < p; i++) {
            k += mask[i];
        }
        return k;
    }

    private static String tokenName(Tokenizer tokenizer, int id) {
        String t = tokenizer == null ? null : tokenizer.token(id);
        return t == null ? "#" + id : "'" + t + "'";
    }

    private List<String> facts(Network net, Explanation e) {
        return List.of("model " + cmd.model.file().getFileName() + " (" + net.name() + ")",
                "composite " + cmd.compositeName(),
                "backend " + e.backend().kind() + " [" + e.backend().device() + "]",
                "initial relevance " + cmd.targets.init.name().toLowerCase(Locale.ROOT));
    }

    /** {@code [batch, seq]} float32 .npy, or CSV with one row per text. */
    private static void writeRelevance(Path out, float[] relevance, int rows, int length) {
        if (DataFiles.format(out) == DataFiles.Format.NPY) {
            Npy.write(out, relevance, rows, length);
        } else {
            DataFiles.writeCsv(out, null, relevance, rows);
        }
    }
}
