package org.gpulrp.bench;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import org.gpulrp.BackendChoice;
import org.gpulrp.Explainer;
import org.gpulrp.GpuLrp;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

/**
 * Runs the JMH suite and prints one table: time per batch, samples/s, effective GFLOP/s, and OpenCL/CPU ratio.
 * Arguments: an optional include regex, {@code -quick} for a short smoke run.
 */
public final class BenchMain {
    private BenchMain() {
    }

    public static void main(String[] args) throws RunnerException {
        boolean quick = false;
        String include = ExplainBenchmark.class.getSimpleName();
        for (String a : args) {
            if (a.equals("-quick")) {
                quick = true;
            } else {
                include = a;
            }
        }
        ChainedOptionsBuilder opt = new OptionsBuilder().include(include).forks(1)
                .jvmArgsAppend("--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                        "-Xmx8g")
                .warmupIterations(quick ? 1 : 3).warmupTime(TimeValue.seconds(quick ? 1 : 3))
                .measurementIterations(quick ? 2 : 5).measurementTime(TimeValue.seconds(quick ? 1 : 3));
        Collection<RunResult> results = new Runner(opt.build()).run();
        List<String[]> rows = new ArrayList<>();
        for (RunResult r : results) {
            String model = r.getParams().getParam("model");
            String comp = r.getParams().getParam("composite");
            String be = r.getParams().getParam("backend");
            double ms = r.getPrimaryResult().getScore();
            double err = r.getPrimaryResult().getScoreError();
            int batch = Models.batch(model);
            double sps = batch / (ms / 1e3);
            double gflops = sps * Models.flopsPerSample(model) / 1e9;
            rows.add(new String[] {model, String.valueOf(batch), comp, be,
                String.format(Locale.ROOT, "%.2f ± %.2f", ms, Double.isNaN(err) ? 0 : err),
                String.format(Locale.ROOT, "%,.0f", sps), String.format(Locale.ROOT, "%.1f", gflops)});
        }
        System.out.println();
        System.out.println("| model | batch | composite | backend | ms/batch | samples/s | GFLOP/s |");
        System.out.println("|---|---|---|---|---|---|---|");
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
        System.out.println("JVM: " + System.getProperty("java.vm.name") + " " + System.getProperty("java.version")
                + ", " + Runtime.getRuntime().availableProcessors() + " CPUs");
    }
}
