package org.gpulrp.cli;

import java.io.PrintWriter;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.gpulrp.InvalidArgumentException;
import org.gpulrp.composite.Composite;
import org.gpulrp.composite.LayerContext;
import org.gpulrp.io.image.Preprocess;
import org.gpulrp.model.Activation;
import org.gpulrp.model.Network;
import org.gpulrp.model.Node;
import org.gpulrp.rules.Rule;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code gpulrp info}: a model's layers, shapes, parameter counts and the rule each layer would get. */
@Command(name = "info", synopsisHeading = "usage: ", sortOptions = false,
        description = {"Show a model's layers (name, kind, in -> out), parameter counts and the rule each layer gets.",
            "--preprocess, --mean and --std give a zbox without bounds its bounds, as in gpulrp explain."})
final class InfoCommand implements Callable<Integer> {
    @Spec
    private CommandSpec spec;

    @ArgGroup(exclusive = true, multiplicity = "1")
    private ModelOptions model;

    @Mixin
    private RuleOptions rules;

    @Mixin
    private NormalizationOptions normalization;

    @Mixin
    private CommonOptions common;

    @Option(names = "--seq-length", paramLabel = "T", converter = Converters.Positive.class,
            description = "Token models (input_ids from ONNX): the sequence length to build the model for.")
    private Integer seqLength;

    @Override
    public Integer call() {
        Composite c = rules.composite(normalization(spec, normalization));
        Network net = seqLength == null ? model.load() : model.loadTokens(seqLength, TokenModel.ONNX);
        List<Rule> assigned = rules(net, c);
        PrintWriter out = spec.commandLine().getOut();
        out.printf(Locale.ROOT, "model: %s (%s): %d inputs -> %d outputs, %d layers, %,d parameters%n", net.name(),
                model.file(), net.inputSize(), net.outputSize(), net.nodes().size(), net.parameterCount());
        out.println("composite: " + c.name() + modes(c));
        int w = "layer".length();
        for (Node n : net.nodes()) {
            w = Math.max(w, n.name().length());
        }
        String row = "  %-" + w + "s  %-8s %15s %12s  %s%n";
        out.printf(Locale.ROOT, row, "layer", "kind", "in -> out", "parameters", "rule");
        List<Node> nodes = net.nodes();
        for (int k = 0; k < nodes.size(); k++) {
            Node n = nodes.get(k);
            out.printf(Locale.ROOT, row, n.name(), kind(n), n.inputSize() + " -> " + n.outputSize(),
                    String.format(Locale.ROOT, "%,d", parameters(n)), assigned.get(k).describe());
        }
        return 0;
    }

    /**
     * The normalization options as a preprocessing (only their mean and std matter: they give the derived ZBox
     * bounds), or null when none was given.
     *
     * @throws ParameterException when they do not fit together (e.g. two means)
     */
    static Preprocess normalization(CommandSpec spec, NormalizationOptions n) {
        try {
            return n.normalizationOrNull();
        } catch (InvalidArgumentException x) {
            throw new ParameterException(spec.commandLine(), "--" + x.getMessage());
        }
    }

    /** The composite's products and attention modes where not the defaults, e.g. {@code " (products uniform)"}. */
    static String modes(Composite c) {
        List<String> m = c.modeNotes();
        return m.isEmpty() ? "" : " (" + String.join("; ", m) + ")";
    }

    /** The rule each node gets, in forward order, as the explainer assigns them. */
    static List<Rule> rules(Network net, Composite c) {
        return c.rules(net);
    }

    private static String kind(Node n) {
        if (n.layer() instanceof Activation a) {
            return a.function().name().toLowerCase(Locale.ROOT);
        }
        return n.kind().name().toLowerCase(Locale.ROOT);
    }

    private static long parameters(Node n) {
        return Network.parameterCount(n);
    }
}
