package org.gpulrp.bench;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import org.gpulrp.BackendChoice;
import org.gpulrp.Explainer;
import org.gpulrp.GpuLrp;
import org.gpulrp.backend.Flops;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

/**
 * Runs the JMH suite and prints one table: time per batch, samples/s, effective GFLOP/s, and OpenCL/CPU ratio.
 * Arguments: {@code suite} for every case (dense and convolutional), {@code cnn} for the convolutional cases only
 * (default: the dense ones), {@code transformers} for the transformer cases ({@code suite} runs them only when
 * {@code model=} names them: they take minutes), {@code name=v1,v2} to restrict a parameter (e.g. {@code model=cnn}), {@code -quick}
 * for a short smoke run, {@code -peer FILE.tsv} to add the peer's numbers written by
 * {@code benchmarks/peer/peer_lrp.py --out FILE.tsv} (ratios per model and composite), or a JMH include regex.
 */
public final class BenchMain {
    private BenchMain() {
    }

    /** Iterations come from each class's annotations; {@code quick} overrides them with a short smoke run. */
    private static Collection<RunResult> run(String include, java.util.Map<String, String> params, boolean quick)
            throws RunnerException {
        ChainedOptionsBuilder opt = new OptionsBuilder().include(include).forks(1)
                .jvmArgsAppend("--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                        "-Xmx12g");
        if (quick) {
            opt.warmupIterations(1).warmupTime(TimeValue.seconds(1))
                    .measurementIterations(2).measurementTime(TimeValue.seconds(1));
        }
        params.forEach((k, v) -> opt.param(k, v.split(",")));
        return new Runner(opt.build()).run();
    }

    public static void main(String[] args) throws RunnerException {
        boolean quick = false;
        boolean suite = false;
        String include = ExplainBenchmark.class.getSimpleName();
        java.util.Map<String, String> params = new java.util.LinkedHashMap<>();
        java.nio.file.Path peerFile = null;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("-quick")) {
                quick = true;
            } else if (a.equals("-peer") && i + 1 < args.length) {
                peerFile = java.nio.file.Path.of(args[++i]);
            } else if (a.equals("suite")) {
                suite = true;
            } else if (a.equals("cnn")) {
                include = CnnBenchmark.class.getSimpleName();
            } else if (a.equals("transformers")) {
                include = TransformerBenchmark.class.getSimpleName();
            } else if (a.contains("=")) {
                params.put(a.substring(0, a.indexOf('=')), a.substring(a.indexOf('=') + 1));
            } else {
                include = a;
            }
        }
        int cpus = Runtime.getRuntime().availableProcessors();
        double peak = FmaPeak.measure(cpus);
        System.out.printf(Locale.ROOT, "FMA peak measured before the cases: %.0f GFLOP/s on %d threads%n", peak, cpus);
        List<RunResult> results = new ArrayList<>();
        if (suite) {
            // The two classes share the parameter names, so each runs alone with its own models.
            List<String> wanted = params.containsKey("model") ? List.of(params.get("model").split(","))
                    : List.of("sample", "mlp", "cnn", "vgg16");
            List<String> dense = wanted.stream().filter(m -> m.equals("sample") || m.equals("mlp")).toList();
            List<String> conv = wanted.stream().filter(m -> m.equals("cnn") || m.equals("vgg16")).toList();
            List<String> tx = wanted.stream().filter(Models::transformer).toList();
            if (!dense.isEmpty()) {
                params.put("model", String.join(",", dense));
                results.addAll(run(ExplainBenchmark.class.getSimpleName(), params, quick));
            }
            if (!conv.isEmpty()) {
                params.put("model", String.join(",", conv));
                results.addAll(run(CnnBenchmark.class.getSimpleName(), params, quick));
            }
            if (!tx.isEmpty()) {
                params.put("model", String.join(",", tx));
                results.addAll(run(TransformerBenchmark.class.getSimpleName(), params, quick));
            }
        } else {
            results.addAll(run(include, params, quick));
        }
        // The ceiling is the better of the two measurements around the cases: a neighbour on the shared machine can
        // hold one of them down for its whole second (seen: 123 before, 169 after), and a low ceiling inflates shares.
        double peakAfter = FmaPeak.measure(cpus);
        double ceiling = Math.max(peak, peakAfter);
        List<String[]> rows = new ArrayList<>();
        for (RunResult r : results) {
            String model = r.getParams().getParam("model");
            String comp = r.getParams().getParam("composite");
            if ("reused".equals(r.getParams().getParam("arrays"))) {
                comp += " (arrays reused)";
            }
            String be = r.getParams().getParam("backend");
            // The median of the measured iterations, as the peer reports its median: one iteration that the shared
            // machine slowed down moves a mean of five by a third.
            org.openjdk.jmh.util.Statistics st = r.getPrimaryResult().getStatistics();
            double ms = st.getPercentile(50);
            int batch = Models.batch(model);
            double sps = batch / (ms / 1e3);
            double gflops = sps * Flops.perSample(Models.network(model)) / 1e9;
            rows.add(new String[] {model, String.valueOf(batch), comp, be,
                String.format(Locale.ROOT, "%.2f (%.2f-%.2f)", ms, st.getMin(), st.getMax()),
                String.format(Locale.ROOT, sps < 100 ? "%,.3f" : "%,.0f", sps), String.format(Locale.ROOT, "%.1f", gflops),
                String.format(Locale.ROOT, "%.0f %%", 100 * gflops / ceiling)});
        }
        System.out.println();
        System.out.println("| model | batch | composite | backend | ms/batch, median (min-max) | samples/s | GFLOP/s "
                + "| of the FMA peak |");
        System.out.println("|---|---|---|---|---|---|---|---|");
        for (String[] r : rows) {
            System.out.println("| " + String.join(" | ", r) + " |");
        }
        System.out.println();
        for (String[] cpu : rows) {
            if (!cpu[3].equals("cpu")) {
                continue;
            }
            for (String[] cl : rows) {
                if (cl[3].equals("opencl") && cl[0].equals(cpu[0]) && cl[2].equals(cpu[2])) {
                    double a = Double.parseDouble(cpu[5].replace(",", ""));
                    double b = Double.parseDouble(cl[5].replace(",", ""));
                    System.out.printf(Locale.ROOT, "%s / %s: OpenCL runs at %.2fx the CPU path%n", cpu[0], cpu[2],
                            b / a);
                }
            }
        }
        try (Explainer cpu = GpuLrp.explainer(Models.network("sample")).backend(BackendChoice.CPU).build();
             Explainer cl = GpuLrp.explainer(Models.network("sample")).backend(BackendChoice.OPENCL).build()) {
            System.out.println("CPU backend:    " + cpu.backend());
            System.out.println("OpenCL backend: " + cl.backend());
        } catch (RuntimeException e) {
            System.out.println("backend description unavailable: " + e.getMessage());
        }
        if (peerFile != null) {
            Peer.printComparison(peerFile, rows);
        }
        System.out.printf(Locale.ROOT, "FMA peak (Java FMA loop, same run): %.0f GFLOP/s before the cases, %.0f after; "
                + "shares are of the higher%n", peak, peakAfter);
        System.out.println("JVM: " + System.getProperty("java.vm.name") + " " + System.getProperty("java.version")
                + ", " + Runtime.getRuntime().availableProcessors() + " CPUs");
    }
}
