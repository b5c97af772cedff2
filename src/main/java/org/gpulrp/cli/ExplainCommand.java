package org.gpulrp.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import org.gpulrp.BackendChoice;
import org.gpulrp.Explainer;
import org.gpulrp.Explanation;
import org.gpulrp.GpuLrp;
import org.gpulrp.InitialRelevance;
import org.gpulrp.LrpException;
import org.gpulrp.Target;
import org.gpulrp.Tensor;
import org.gpulrp.io.Npy;
import org.gpulrp.model.Network;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code gpulrp explain}: relevances for a batch from files, written to files. */
@Command(name = "explain", synopsisHeading = "usage: ", sortOptions = false,
        description = "Explain a batch of inputs with LRP and write the input relevance (shaped like the input).")
final class ExplainCommand implements Callable<Integer> {
    @Spec
    private CommandSpec spec;

    @ArgGroup(exclusive = true, multiplicity = "1")
    private ModelOptions model;

    @Option(names = "--input", paramLabel = "FILE.npy|.csv", required = true, converter = Converters.DataFile.class,
            description = "The samples: .npy [batch, features...] or .csv (one row per sample, optional header).")
    private Path input;

    @Option(names = "--out", paramLabel = "FILE.npy|.csv", required = true, converter = Converters.DataFile.class,
            description = "Where the input relevance goes: .npy in the input's shape, or .csv (with the input's "
                    + "header when it had one).")
    private Path out;

    @Option(names = "--target", paramLabel = "argmax|INDEX|FILE.npy", defaultValue = "argmax",
            description = "The class explained: each sample's arg-max (default), one class index, or a .npy file "
                    + "with one class index per sample.")
    private String target;

    @Option(names = "--init", paramLabel = "output|onehot|logit", converter = Converters.Init.class,
            defaultValue = "output", description = "Initial relevance: the output at the target (default), 1 at "
                    + "the target, or the logit (the model without its final sigmoid/softmax).")
    private InitialRelevance init;

    @ArgGroup(exclusive = true, multiplicity = "0..1")
    private RuleOptions rules;

    @Option(names = "--backend", paramLabel = "auto|cpu|opencl", converter = Converters.Backend.class,
            defaultValue = "auto", description = "auto (default): OpenCL when a device exists, else the CPU.")
    private BackendChoice backend;

    @Option(names = "--device", paramLabel = "NAME", description = "OpenCL device whose name contains NAME.")
    private String device;

    @Option(names = "--layers", paramLabel = "DIR",
            description = "Also write each layer's relevance (at its output) as DIR/<layer>.npy.")
    private Path layers;

    @Option(names = "--batch-size", paramLabel = "N", converter = Converters.Positive.class,
            description = "Samples per device pass (larger inputs are split; the results are the same).")
    private Integer batchSize;

    @Mixin
    private CommonOptions common;

    @Override
    public Integer call() {
        Target fixed = parseTarget();
        if (out.toAbsolutePath().normalize().equals(input.toAbsolutePath().normalize())) {
            throw new ParameterException(spec.commandLine(), "--out " + out + " is the input file; choose another");
        }
        DataFiles.requireParent(out, "--out");
        if (layers != null && Files.exists(layers) && !Files.isDirectory(layers)) {
            throw new LrpException("--layers " + layers + ": exists and is not a folder");
        }
        PrintWriter err = spec.commandLine().getErr();
        long t0 = System.nanoTime();
        Network net = model.load();
        DataFiles.Input in = DataFiles.read(input, net.inputSize());
        Target t = fixed != null ? fixed : DataFiles.targets(Path.of(target), in.tensor().rows());
        Explainer.Builder b = GpuLrp.explainer(net).composite(RuleOptions.of(rules)).initialRelevance(init)
                .backend(backend).keepLayerRelevances(layers != null);
        if (device != null) {
            b.device(device);
        }
        if (batchSize != null) {
            b.chunkRows(batchSize);
        }
        Explanation e;
        long t1;
        try (Explainer ex = b.build()) {
            t1 = System.nanoTime();
            e = ex.explain(in.tensor(), t);
            if (common.verbose) {
                StringBuilder r = new StringBuilder();
                ex.rules().forEach((node, rule) -> r.append(r.length() == 0 ? "" : ", ").append(node).append('=')
                        .append(rule.describe()));
                err.println("gpulrp: composite " + ex.composite().name() + " (" + r + ")");
            }
        }
        long t2 = System.nanoTime();
        // Everything computed: only now touch the output files.
        Map<Path, Tensor> layerFiles = layers == null ? Map.of() : layerFiles(e);
        DataFiles.writeRelevance(out, in, e.relevance());
        layerFiles.forEach((f, r) -> Npy.write(f, r.toArray(), r.shape()));
        if (common.verbose && !e.backend().note().isEmpty()) {
            err.println("gpulrp: note: " + e.backend().note());
        }
        err.printf(Locale.ROOT, "gpulrp: explained %d sample%s on %s [%s]%s in %.1f ms (prepare %.1f ms) -> %s%s%n",
                e.batchSize(), e.batchSize() == 1 ? "" : "s", e.backend().kind(), e.backend().device(),
                e.backend().exact() ? "" : " (NOT bit-exact)", (t2 - t1) / 1e6, (t1 - t0) / 1e6, out,
                layers == null ? "" : ", layers in " + layers);
        return 0;
    }

    /** The fixed target, or null when {@code --target} names a file (read once the batch size is known). */
    private Target parseTarget() {
        String v = target.strip();
        if (v.equalsIgnoreCase("argmax")) {
            return Target.argmax();
        }
        if (v.matches("[+-]?\\d+")) {
            int k;
            try {
                k = Integer.parseInt(v);
            } catch (NumberFormatException x) {
                k = -1;
            }
            if (k < 0) {
                throw new ParameterException(spec.commandLine(), "--target " + v + ": a class index must be "
                        + "between 0 and the number of outputs - 1");
            }
            return Target.classIndex(k);
        }
        if (DataFiles.format(Path.of(v)) != DataFiles.Format.NPY) {
            throw new ParameterException(spec.commandLine(), "--target '" + v + "': expected argmax, a class index "
                    + "or a .npy file with one class index per sample");
        }
        return null;
    }

    /** The folder's files, one per node, created folder included; names made safe and unique. */
    private Map<Path, Tensor> layerFiles(Explanation e) {
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
