package org.gpulrp.cli;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import org.gpulrp.Explainer;
import org.gpulrp.Explanation;
import org.gpulrp.InvalidArgumentException;
import org.gpulrp.LrpException;
import org.gpulrp.Target;
import org.gpulrp.Tensor;
import org.gpulrp.backend.BackendInfo;
import org.gpulrp.composite.Composite;
import org.gpulrp.io.Npy;
import org.gpulrp.io.NpyStreams;
import org.gpulrp.io.image.Heatmaps;
import org.gpulrp.io.image.Images;
import org.gpulrp.io.image.Preprocess;
import org.gpulrp.model.Network;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code gpulrp explain}: relevances for a batch from files or images, written to files and heatmaps. */
@Command(name = "explain", synopsisHeading = "usage: ", sortOptions = false,
        description = {"Explain a batch of inputs with LRP and write the input relevance (shaped like the input).",
            "With images (--input IMAGE|DIR), also draw one heatmap per image (--heatmap DIR).",
            "With a token model (--text, --input TEXTS.txt|IDS.npy), write the token relevance [batch, seq] and "
                + "show the texts coloured by it (--html FILE, and on a terminal)."})
final class ExplainCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @ArgGroup(exclusive = true, multiplicity = "1")
    ModelOptions model;

    @Option(names = "--input", paramLabel = "FILE.npy|.csv|.txt|IMAGE|DIR",
            description = "The samples: .npy [batch, features...], .csv (one row per sample, optional header), an "
                    + "image (.png, .jpg) or a folder of images (read in file-name order; see the image options); "
                    + "for token models texts (.txt, one per line) or token ids (.npy, integers [batch, seq]).")
    Path input;

    @Option(names = "--out", paramLabel = "FILE.npy|.csv", converter = Converters.DataFile.class,
            description = "Where the input relevance goes: .npy in the input's shape ([N, C, H, W] for images, "
                    + "[batch, seq] for token models, 0 on padding), or .csv (with the input's header when it had "
                    + "one; one row per image or text). Required unless the input is images with --heatmap, or "
                    + "texts.")
    Path out;

    @Mixin
    TargetOptions targets;

    @Mixin
    private RuleOptions rules;

    @Mixin
    private EngineOptions engine;

    @Option(names = "--layers", paramLabel = "DIR",
            description = "Also write each layer's relevance (at its output) as DIR/<layer>.npy.")
    Path layers;

    @Option(names = "--progress", description = "Show a progress line on stderr (samples, samples/s, time left) "
            + "even when stderr is not a terminal.")
    private boolean progress;

    @Option(names = "--quiet", description = "No progress line and no summary line (and no texts on stdout).")
    boolean quiet;

    @Mixin
    ImageOptions image;

    @Mixin
    TextOptions text;

    /** The rules, resolved once the preprocessing is known. */
    private Composite composite;

    @Mixin
    private CommonOptions common;

    /** Where token models come from. */
    private final TokenModel tokenModels;

    ExplainCommand() {
        this(TokenModel.ONNX);
    }

    /** With token models loaded by {@code tokenModels} (tests build them in memory). */
    ExplainCommand(TokenModel tokenModels) {
        this.tokenModels = tokenModels;
    }

    /** Whether stdout is a terminal (and stdin: the JVM's own test), where texts are shown in colour. */
    static boolean terminal() {
        return System.console() != null;
    }

    @Override
    public Integer call() {
        if (input == null && text.texts == null) {
            throw new ParameterException(spec.commandLine(), "give --input (or, for a token model, --text)");
        }
        targets.fixed(); // a bad --target is a usage error before anything loads
        if (TokenSamples.wanted(text, input)) {
            composite = rules.composite(null);
            return new TextRun(this).run(null);
        }
        Network ids = TokenSamples.idsModel(model, input, tokenModels);
        if (ids != null && ids.tokens() != null) {
            composite = rules.composite(null);
            return new TextRun(this).run(ids);
        }
        boolean images = ImageInputs.isImageInput(input);
        Preprocess preprocess = checkOptions(images);
        Preprocess boundsFrom = images ? preprocess : InfoCommand.normalization(spec, image.normalization);
        composite = rules.composite(boundsFrom);
        PrintWriter err = spec.commandLine().getErr();
        if (common.verbose && rules.needsBounds()) {
            err.println("gpulrp: " + RuleOptions.describeDerived(boundsFrom, image.normalization.source()));
        }
        if (out != null) {
            if (out.toAbsolutePath().normalize().equals(input.toAbsolutePath().normalize())) {
                throw new ParameterException(spec.commandLine(), "--out " + out + " is the input file; choose "
                        + "another");
            }
            DataFiles.requireParent(out, "--out");
        }
        if (layers != null && Files.exists(layers) && !Files.isDirectory(layers)) {
            throw new LrpException("--layers " + layers + ": exists and is not a folder");
        }
        if (image.heatmap != null && Files.exists(image.heatmap) && !Files.isDirectory(image.heatmap)) {
            throw new LrpException("--heatmap " + image.heatmap + ": exists and is not a folder");
        }
        long t0 = System.nanoTime();
        if (!images && layers == null && DataFiles.format(input) == DataFiles.Format.NPY
                && DataFiles.format(out) == DataFiles.Format.NPY) {
            ModelOptions.requireFile(input, "--input");
            Npy.Header h = Failures.naming(input, () -> Npy.header(input));
            if (NpyStreams.streamable(h)) {
                return streamed(ids != null ? ids : model.load(), h, err, t0);
            }
        }
        Images.Batch batch = images ? Images.read(ImageInputs.list(input, image.heatmap != null,
                image.grid != null), preprocess) : null;
        Network net = ids != null ? ids : model.load();
        if (images) {
            ImageInputs.check(batch, preprocess, net.inputShape());
        }
        DataFiles.Input in = images
                ? new DataFiles.Input(input, batch.tensor(), batch.tensor().shape(), null)
                : DataFiles.read(input, net.inputSize());
        Target t = targets.forRows(in.tensor().rows());
        Explainer.Builder b = builder(net);
        Explanation e;
        long t1;
        try (Explainer ex = b.build()) {
            t1 = System.nanoTime();
            e = ex.explain(in.tensor(), t);
            printRules(ex);
        }
        long t2 = System.nanoTime();
        // Everything computed (heatmaps drawn too): only now touch the output files.
        Map<Path, BufferedImage> heatmaps = image.heatmap == null ? Map.of()
                : ImageInputs.heatmaps(batch, e.relevance(), image);
        Map<Path, Tensor> layerFiles = layers == null ? Map.of() : layerFiles(e);
        if (out != null) {
            DataFiles.writeRelevance(out, in, e.relevance());
        }
        layerFiles.forEach((f, r) -> Npy.write(f, r.toArray(), r.shape()));
        heatmaps.forEach((f, img) -> Heatmaps.writePng(img, f));
        note(e);
        List<String> wrote = new ArrayList<>();
        if (out != null) {
            wrote.add(out.toString());
        }
        if (!heatmaps.isEmpty()) {
            wrote.add((e.batchSize() == 1 ? "1 heatmap" : e.batchSize() + " heatmaps")
                    + (image.grid != null ? " and " + ImageInputs.GRID : "") + " in " + image.heatmap);
        }
        if (layers != null) {
            wrote.add("layers in " + layers);
        }
        String what = images ? (e.batchSize() == 1 ? "image" : "images") : e.batchSize() == 1 ? "sample" : "samples";
        summary(err, e.batchSize(), what, e.backend(), t0, t1, t2, String.join(", ", wrote));
        return 0;
    }

    /** With --verbose, the rule of every node. */
    void printRules(Explainer ex) {
        if (common.verbose) {
            StringBuilder r = new StringBuilder();
            ex.rules().forEach((node, rule) -> r.append(r.length() == 0 ? "" : ", ").append(node).append('=')
                    .append(rule.describe()));
            spec.commandLine().getErr().println("gpulrp: composite " + ex.composite().name() + " (" + r + ")");
        }
    }

    /** With --verbose, the backend's note, if any. */
    void note(Explanation e) {
        if (common.verbose && !e.backend().note().isEmpty()) {
            spec.commandLine().getErr().println("gpulrp: note: " + e.backend().note());
        }
    }

    /** The composite's name, as the explainer reports it. */
    String compositeName() {
        return composite.name();
    }

    /** Where token models come from. */
    TokenModel tokenModels() {
        return tokenModels;
    }

    Explainer.Builder builder(Network net) {
        return engine.builder(net, composite, targets.init).keepLayerRelevances(layers != null);
    }

    void summary(PrintWriter err, long samples, String what, BackendInfo be, long t0, long t1, long t2,
                         String wrote) {
        if (quiet) {
            return;
        }
        err.printf(Locale.ROOT, "gpulrp: explained %d %s on %s [%s]%s in %.1f ms (prepare %.1f ms) -> %s%n",
                samples, what, be.kind(), be.device(), be.exact() ? "" : " (NOT bit-exact)", (t2 - t1) / 1e6,
                (t1 - t0) / 1e6, wrote);
    }

    /**
     * A .npy input explained into a .npy output chunk by chunk, so files larger than the heap never load whole; the
     * output appears only when every sample is done.
     */
    private Integer streamed(Network net, Npy.Header h, PrintWriter err, long t0) {
        int[] s = h.shape();
        long rows = s.length == 1 ? 1 : s.length == 0 ? 0 : s[0];
        Target t = targets.forRows((int) Math.min(Integer.MAX_VALUE, rows));
        ProgressLine line = ProgressLine.wanted(progress, quiet) ? new ProgressLine(err, System::nanoTime) : null;
        NpyStreams.Result r;
        long t1;
        try (Explainer ex = builder(net).build()) {
            t1 = System.nanoTime();
            printRules(ex);
            try {
                r = NpyStreams.explain(ex, input, out, t, line == null ? NpyStreams.Progress.NONE : line);
            } finally {
                if (line != null) {
                    line.finish();
                }
            }
        }
        long t2 = System.nanoTime();
        if (common.verbose && !r.backend().note().isEmpty()) {
            err.println("gpulrp: note: " + r.backend().note());
        }
        summary(err, r.samples(), r.samples() == 1 ? "sample" : "samples", r.backend(), t0, t1, t2,
                out.toString());
        return 0;
    }

    /** Usage checks that depend on the kind of input; returns the image preprocessing (null for data files). */
    private Preprocess checkOptions(boolean images) {
        if (!images) {
            // The normalization may still give a zbox without bounds its bounds.
            String o = image.firstImageOption(!rules.needsBounds());
            if (o != null) {
                throw new ParameterException(spec.commandLine(), o + " needs an image input (an image file or a "
                        + "folder of images), not " + input);
            }
            if (out == null) {
                throw new ParameterException(spec.commandLine(), "--out FILE.npy|.csv is required with a .npy or "
                        + ".csv input");
            }
            return null;
        }
        if (image.heatmap == null) {
            String o = image.firstHeatmapOption();
            if (o != null) {
                throw new ParameterException(spec.commandLine(), o + " draws heatmaps: add --heatmap DIR");
            }
            if (out == null) {
                throw new ParameterException(spec.commandLine(), "nothing to write: give --heatmap DIR and/or --out "
                        + "FILE.npy");
            }
        }
        try {
            return image.preprocess();
        } catch (InvalidArgumentException x) {
            throw new ParameterException(spec.commandLine(), "--" + x.getMessage());
        }
    }

    /** The folder's files, one per node, created folder included; names made safe and unique. */
    Map<Path, Tensor> layerFiles(Explanation e) {
        try {
            Files.createDirectories(layers);
        } catch (IOException x) {
            throw new UncheckedIOException("--layers " + layers + ": cannot create the folder: " + x.getMessage(), x);
        }
        Map<Path, Tensor> files = new LinkedHashMap<>();
        Set<String> used = new HashSet<>();
        for (Map.Entry<String, Tensor> l : e.layerRelevances().entrySet()) {
            String name = DataFiles.fileName(l.getKey());
            for (int k = 2; !used.add(name.toLowerCase(Locale.ROOT)); k++) {
                name = DataFiles.fileName(l.getKey() + "_" + k);
            }
            files.put(layers.resolve(name), l.getValue());
        }
        return files;
    }
}
