package org.gpulrp.cli;

import java.io.PrintWriter;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import org.gpulrp.BackendChoice;
import org.gpulrp.Explainer;
import org.gpulrp.GpuLrp;
import org.gpulrp.InitialRelevance;
import org.gpulrp.Target;
import org.gpulrp.Tensor;
import org.gpulrp.backend.BackendInfo;
import org.gpulrp.composite.Composite;
import org.gpulrp.backend.Flops;
import org.gpulrp.model.Network;
import org.gpulrp.model.TokenInput;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code gpulrp bench}: explain speed on the user's own model, with seeded random inputs of its shape. */
@Command(name = "bench", synopsisHeading = "usage: ", sortOptions = false,
        description = {"Time explaining batches of seeded random inputs (standard normal) of the model's input shape:",
            "a warm-up, then repeated calls for --seconds. Prints samples/s and effective GFLOP/s (2 flops per "
                + "multiply-add of the dense and convolution layers' forward pass and backprojection)."})
final class BenchCommand implements Callable<Integer> {
    @Spec
    private CommandSpec spec;

    @ArgGroup(exclusive = true, multiplicity = "1")
    private ModelOptions model;

    @Option(names = "--batch", paramLabel = "N", required = true, converter = Converters.Positive.class,
            description = "Samples per explain call.")
    private int batch;

    @Mixin
    private RuleOptions rules;

    @Mixin
    private NormalizationOptions normalization;

    @Option(names = "--init", paramLabel = "output|onehot|logit", converter = Converters.Init.class,
            defaultValue = "output", description = "Initial relevance (default output).")
    private InitialRelevance init;

    @Option(names = "--backend", paramLabel = "auto|cpu|opencl", converter = Converters.Backend.class,
            defaultValue = "auto", description = "auto (default): OpenCL when a device exists, else the CPU.")
    private BackendChoice backend;

    @Option(names = "--device", paramLabel = "NAME", description = "OpenCL device whose name contains NAME, or #N for the N-th (from 0) as `gpulrp devices` lists them.")
    private String device;

    @Option(names = "--seconds", paramLabel = "S", defaultValue = "5",
            description = "Timed seconds after the warm-up (default 5); at least one call is timed.")
    private double seconds;

    @Option(names = "--seq-length", paramLabel = "T", converter = Converters.Positive.class,
            description = "Token models (input_ids from ONNX): the sequence length to build the model for; the inputs "
                    + "are then random ids in 1..vocab-1 with a full attention mask and token type 0.")
    private Integer seqLength;

    @Option(names = "--seed", paramLabel = "N", defaultValue = "1", description = "Seed of the random inputs.")
    private long seed;

    @Mixin
    private CommonOptions common;

    @Override
    public Integer call() {
        if (!(seconds > 0) || seconds > 86_400) {
            throw new ParameterException(spec.commandLine(), "--seconds " + seconds + ": must be > 0 and at most "
                    + "86400");
        }
        Composite composite = rules.composite(InfoCommand.normalization(spec, normalization));
        Network net = seqLength == null ? model.load() : model.loadTokens(seqLength, TokenModel.ONNX);
        long floats = (long) batch * net.inputSize();
        if (floats > Integer.MAX_VALUE - 8) {
            throw new ParameterException(spec.commandLine(), "--batch " + batch + ": " + floats + " input values "
                    + "do not fit one array; use a smaller batch");
        }
        float[] x = new float[(int) floats];
        SplittableRandom rnd = new SplittableRandom(seed);
        TokenInput tokens = net.tokens();
        if (tokens == null) {
            for (int k = 0; k < x.length; k++) {
                x[k] = (float) gaussian(rnd);
            }
        } else {
            int n = tokens.sampleSize();
            for (int r = 0; r < batch; r++) {
                for (int p = 0; p < tokens.length(); p++) {
                    x[r * n + tokens.offset(TokenInput.IDS) + p] = tokens.vocab() == 1 ? 0 : 1 + rnd.nextInt(
                            tokens.vocab() - 1);
                    if (tokens.offset(TokenInput.MASK) >= 0) {
                        x[r * n + tokens.offset(TokenInput.MASK) + p] = 1f;
                    }
                }
            }
        }
        int[] shape = new int[net.inputShape().length + 1];
        shape[0] = batch;
        System.arraycopy(net.inputShape(), 0, shape, 1, net.inputShape().length);
        Tensor inputs = new Tensor(x, shape);
        Explainer.Builder b = GpuLrp.explainer(net).composite(composite).initialRelevance(init)
                .backend(backend);
        if (device != null) {
            b.device(device);
        }
        PrintWriter out = spec.commandLine().getOut();
        double flops = Flops.perSample(net);
        try (Explainer ex = b.build()) {
            BackendInfo be = ex.backend();
            // Warm-up: compile the hot paths (JIT, device kernels) before timing.
            long warm = System.nanoTime() + (long) (Math.min(2.0, Math.max(0.2, seconds / 4)) * 1e9);
            int warmCalls = 0;
            while (warmCalls < 2 || System.nanoTime() < warm) {
                ex.explain(inputs, Target.argmax());
                warmCalls++;
            }
            long t0 = System.nanoTime();
            long end = t0 + (long) (seconds * 1e9);
            long calls = 0;
            long now;
            do {
                ex.explain(inputs, Target.argmax());
                calls++;
                now = System.nanoTime();
            } while (now < end);
            double elapsed = (now - t0) / 1e9;
            double rate = calls * (double) batch / elapsed;
            out.printf(Locale.ROOT, "model: %s (%d inputs -> %d outputs, %d layers)%n", model.file(),
                    net.inputSize(), net.outputSize(), net.nodes().size());
            out.printf(Locale.ROOT, "backend: %s%n", be);
            out.printf(Locale.ROOT, "composite: %s%n", ex.composite().name());
            out.printf(Locale.ROOT, "batch: %d, warm-up calls: %d, timed calls: %d, seconds: %.3f%n", batch,
                    warmCalls, calls, elapsed);
            out.printf(Locale.ROOT, "flops per sample: %.0f%n", flops);
            out.printf(Locale.ROOT, "samples/s: %.1f%n", rate);
            out.printf(Locale.ROOT, "GFLOP/s: %.3f%n", rate * flops / 1e9);
        }
        return 0;
    }

    /** A standard normal value (Box-Muller), so that inputs look like standardized data. */
    private static double gaussian(SplittableRandom rnd) {
        double u = 1.0 - rnd.nextDouble();
        double v = rnd.nextDouble();
        return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    }
}
