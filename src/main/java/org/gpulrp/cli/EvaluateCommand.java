package org.gpulrp.cli;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import org.gpulrp.Explainer;
import org.gpulrp.InvalidArgumentException;
import org.gpulrp.LrpException;
import org.gpulrp.composite.Composite;
import org.gpulrp.eval.Baseline;
import org.gpulrp.eval.Evaluation;
import org.gpulrp.eval.Order;
import org.gpulrp.eval.Regions;
import org.gpulrp.eval.SanityCheck;
import org.gpulrp.eval.ZeroEmbedding;
import org.gpulrp.io.image.Preprocess;
import org.gpulrp.model.Network;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code gpulrp evaluate}: is an explanation faithful? Region perturbation with AOPC and ABPC per composite and order,
 * or with {@code --sanity} the cascading parameter randomization; a table on stdout, files and a plot on request.
 * docs/DESIGN.md section 2.10.
 */
@Command(name = "evaluate", synopsisHeading = "usage: ", sortOptions = false,
        description = {"Evaluate explanations by region perturbation (Samek et al. 2017): remove the regions each "
                + "composite ranks most (morf) or least (lerf) relevant, or in a random order, and follow the score; "
                + "print AOPC and ABPC per composite and order.",
            "With --sanity: the cascading model parameter randomization of Adebayo et al. 2018 (Spearman rank "
                + "correlation of |R| with the original explanation per randomized layer)."})
final class EvaluateCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @ArgGroup(exclusive = true, multiplicity = "1")
    ModelOptions model;

    @Option(names = "--input", paramLabel = "FILE.npy|.csv|.txt|IMAGE|DIR",
            description = "The samples: .npy, .csv, an image or a folder of images (see the image options), or for a "
                    + "token model texts (.txt, one per line, with --tokenizer) or token ids (.npy, integers "
                    + "[batch, seq]; a sample's regions are its real tokens, not its padding).")
    Path input;

    @ArgGroup(exclusive = true, multiplicity = "0..1")
    Methods methods;

    /** {@code --composite A,B,...} or {@code --rule R}. */
    static final class Methods {
        @Option(names = "--composite", paramLabel = "NAME[:P,..][,NAME..]", description = "The composites to "
                + "compare, separated by commas (a comma followed by a letter starts the next name): "
                + RuleSpecs.COMPOSITES + ", or a rule on every layer (e.g. epsilon). Default: epsilon.")
        String composites;

        @Option(names = "--rule", paramLabel = "NAME[:P,..]", description = "One rule on every linear layer: "
                + RuleSpecs.RULES + ".")
        String rule;
    }

    @Mixin
    TargetOptions targets;

    @Option(names = "--patch", paramLabel = "P", defaultValue = "8", description = "Images: regions are P x P "
            + "patches over all channels (default 8; edge patches are smaller where P does not divide the size).")
    int patch;

    @Option(names = "--steps", paramLabel = "L", description = "Regions removed (default: all, at most 100; for "
            + "token models at most the fewest real tokens of a sample).")
    Integer steps;

    @Option(names = "--baseline", paramLabel = "zeros|mean|blur:SIGMA|noise[:SEED]|value:V", defaultValue = "zeros",
            description = "What a removed region becomes (default zeros; token models: always the zero input "
                    + "embedding).")
    String baseline;

    @Option(names = "--order", paramLabel = "morf,lerf,random", defaultValue = "morf,lerf,random", split = ",",
            description = "The removal orders (default all three).")
    List<String> orders;

    @Option(names = "--seed", paramLabel = "N", defaultValue = "0", description = "Seed of the random order and of "
            + "the sanity check's weights (default 0).")
    long seed;

    @Option(names = "--sanity", description = "Run the cascading parameter randomization instead.")
    boolean sanity;

    @Option(names = "--out", paramLabel = "DIR", description = "Write summary.csv and the curves "
            + "(<composite>-<order>.npy, float32 [samples, L+1]; with --sanity sanity.csv and <composite>-sanity.npy)"
            + " here.")
    Path out;

    @Option(names = "--plot", paramLabel = "FILE.png", description = "Draw the mean curves (or the correlations) "
            + "as a PNG.")
    Path plot;

    @Mixin
    EngineOptions engine;

    @Option(names = "--progress", description = "Show a progress line on stderr even when it is not a terminal.")
    boolean progress;

    @Option(names = "--quiet", description = "No progress line and no table.")
    boolean quiet;

    @Mixin
    ImageOptions image;

    @Mixin
    TextOptions text;

    @Mixin
    CommonOptions common;

    /** Where token models come from. */
    final TokenModel tokenModels;

    EvaluateCommand() {
        this(TokenModel.ONNX);
    }

    /** With token models loaded by {@code tokenModels} (tests build them in memory). */
    EvaluateCommand(TokenModel tokenModels) {
        this.tokenModels = tokenModels;
    }

    /** One composite to evaluate: its label (as written) and the composite. */
    record Method(String label, Composite composite) {
    }

    @Override
    public Integer call() {
        checkOptions();
        Baseline chosen = parse(() -> Baseline.parse(baseline));
        List<Order> orderList = parse(() -> orders.stream().map(Order::parse).distinct().toList());
        boolean images = input != null && ImageInputs.isImageInput(input);
        Preprocess preprocess = images ? parse(image::preprocess) : null;
        Preprocess boundsFrom = images ? preprocess : InfoCommand.normalization(spec, image.normalization);
        List<Method> list = methods(boundsFrom);
        EvaluationInputs.Loaded in = new EvaluationInputs(this).load(images, preprocess);
        Network net = in.network();
        Regions regions = parse(() -> net.tokens() != null ? Regions.tokens(net.tokens())
                : net.inputShape().length == 3 ? Regions.patches(net.inputShape(), patch)
                : Regions.features(net.inputSize()));
        Baseline base = net.tokens() != null ? ZeroEmbedding.baseline(net) : chosen;
        int l = steps != null ? steps : Evaluation.defaultSteps(regions, in.tensor());
        Evaluation.Settings settings = parse(() -> new Evaluation.Settings(regions, base, orderList, l, seed));
        parse(() -> {
            Evaluation.checkSteps(settings, in.tensor());
            return settings;
        });
        PrintWriter err = spec.commandLine().getErr();
        ProgressLine line = ProgressLine.wanted(progress, quiet) ? new ProgressLine(err, System::nanoTime) : null;
        EvaluationReport report = new EvaluationReport(out, plot, spec.commandLine().getOut());
        long t0 = System.nanoTime();
        try {
            if (sanity) {
                List<SanityCheck.Result> results = new ArrayList<>();
                for (Method m : list) {
                    results.add(SanityCheck.run(net, n -> builder(n, m.composite()).build(), in.tensor(), in.target(),
                            seed, line == null ? Evaluation.Progress.NONE : line::update));
                }
                finish(line);
                report.sanity(labels(list), results, quiet);
            } else {
                Map<String, Evaluation.Result> results = new LinkedHashMap<>();
                for (Method m : list) {
                    try (Explainer ex = builder(net, m.composite()).build()) {
                        results.put(m.label(), Evaluation.run(ex, in.tensor(), in.target(), settings,
                                line == null ? Evaluation.Progress.NONE : line::update));
                    }
                }
                finish(line);
                report.perturbation(results, regions.describe() + ", baseline " + (net.tokens() != null
                        ? "zero embedding" : base.describe()), quiet);
            }
        } finally {
            finish(line);
        }
        if (!quiet) {
            err.printf(Locale.ROOT, "gpulrp: evaluated %d %s with %d %s in %.1f s%s%n", in.tensor().rows(),
                    in.tensor().rows() == 1 ? "sample" : "samples", list.size(), list.size() == 1 ? "composite"
                    : "composites", (System.nanoTime() - t0) / 1e9, report.wrote());
        }
        return 0;
    }

    private static void finish(ProgressLine line) {
        if (line != null) {
            line.finish();
        }
    }

    private static List<String> labels(List<Method> list) {
        return list.stream().map(Method::label).toList();
    }

    /** Runs a parse step, turning its argument errors into usage errors. */
    private <T> T parse(java.util.function.Supplier<T> step) {
        try {
            return step.get();
        } catch (InvalidArgumentException x) {
            throw new ParameterException(spec.commandLine(), "--" + x.getMessage());
        }
    }

    private void checkOptions() {
        if (input == null && text.texts == null) {
            throw new ParameterException(spec.commandLine(), "give --input (or, for a token model, --text)");
        }
        String shown = text.labels != null ? "--labels" : text.html != null ? "--html" : null;
        if (shown != null) {
            throw new ParameterException(spec.commandLine(), shown + " shows texts coloured by relevance, which "
                    + "evaluate does not; use gpulrp explain");
        }
        if (patch < 1) {
            throw new ParameterException(spec.commandLine(), "--patch must be >= 1, got " + patch);
        }
        if (steps != null && steps < 1) {
            throw new ParameterException(spec.commandLine(), "--steps must be >= 1, got " + steps);
        }
        String h = image.firstHeatmapOption();
        if (h != null) {
            throw new ParameterException(spec.commandLine(), h + " draws heatmaps, which evaluate does not; use "
                    + "gpulrp explain");
        }
        if (plot != null && !plot.toString().toLowerCase(Locale.ROOT).endsWith(".png")) {
            throw new ParameterException(spec.commandLine(), "--plot " + plot + ": must end in .png");
        }
        if (plot != null) {
            DataFiles.requireParent(plot, "--plot");
        }
        if (out != null && Files.exists(out) && !Files.isDirectory(out)) {
            throw new LrpException("--out " + out + ": exists and is not a folder");
        }
    }

    /** The composites named, resolved (ZBox bounds from the preprocessing where it is known). */
    List<Method> methods(Preprocess boundsFrom) {
        List<Method> list = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        List<String> specs = methods == null ? List.of("epsilon") : methods.rule != null ? List.of(methods.rule)
                : splitComposites(methods.composites);
        for (String s : specs) {
            Composite c = parse(() -> {
                RuleSpecs.Parsed<?> p = methods != null && methods.rule != null ? RuleSpecs.parseRule(s)
                        : compositeOrRule(s);
                if (p.needsBounds() && boundsFrom == null) {
                    throw new InvalidArgumentException(methods.rule != null ? "rule" : "composite", s + ": no ZBox "
                            + "bounds given and none to derive (a .npy or .csv input); write " + s + ":LOW,HIGH");
                }
                Object r = p.resolve(boundsFrom == null ? null : RuleOptions.derivedBox(boundsFrom));
                return r instanceof Composite cc ? cc : Composite.uniform((org.gpulrp.rules.Rule) r);
            });
            if (!seen.add(s)) {
                throw new ParameterException(spec.commandLine(), "--composite names " + s + " twice");
            }
            list.add(new Method(s, c));
        }
        return list;
    }

    /** A composite, or a rule written among them (on every linear layer: {@code epsilon}, {@code gamma:0.5}). */
    private static RuleSpecs.Parsed<?> compositeOrRule(String s) {
        try {
            return RuleSpecs.parseComposite(s);
        } catch (InvalidArgumentException composite) {
            try {
                return RuleSpecs.parseRule(s);
            } catch (InvalidArgumentException rule) {
                throw composite;
            }
        }
    }

    /** Splits {@code a,b:1,2,c} at each comma followed by a letter (parameters are numbers). */
    static List<String> splitComposites(String v) {
        List<String> out = new ArrayList<>();
        for (String part : v.split(",(?=\\s*[A-Za-z])")) {
            if (!part.isBlank()) {
                out.add(part.strip());
            }
        }
        return out;
    }

    Explainer.Builder builder(Network net, Composite c) {
        return engine.builder(net, c, targets.init);
    }
}
