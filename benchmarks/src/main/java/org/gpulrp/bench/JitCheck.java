package org.gpulrp.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.gpulrp.BackendChoice;
import org.gpulrp.Explainer;
import org.gpulrp.GpuLrp;
import org.gpulrp.Target;
import org.gpulrp.Tensor;
import org.gpulrp.model.Network;

/**
 * Whether the CPU kernels compiled as written: runs explain calls in fresh JVMs with C2's compilation log and reads,
 * for every compiled gpulrp method, which calls C2 inlined late (docs/DESIGN.md section 3, "Kernel size on Java
 * 17"). A Vector API intrinsic ({@code jdk.internal.vm.vector.VectorSupport}) that was inlined late without becoming
 * an intrinsic runs the Vector API's element-wise Java fallback: that is a failure, and the tool exits with status 1.
 * Ordinary methods inlined late mean the compile crossed C2's node budget; they are listed as a warning (their
 * intrinsics may still have held, as the packed 5-by-4 dense tile's do). A fallback in an on-stack-replacement
 * compile is not counted where the method also has a standard C2 compile (the OSR one serves only the call that was
 * running when it was made).
 * Usage: {@code java -cp benchmarks.jar org.gpulrp.bench.JitCheck [model=sample,mlp,cnn]
 * [composite=epsilon,epsilon-gamma-box] [runs=3] [calls=N]}; extra JVM options for the children go in
 * {@code -Dgpulrp.jitcheck.jvm="-XX:UseAVX=2"}. Each case runs {@code runs} fresh JVMs, since what C2 does depends on
 * the profile it compiles with.
 */
public final class JitCheck {
    private JitCheck() {
    }

    private static final Pattern TASK = Pattern.compile(
            "<task compile_id='(\\d+)'( compile_kind='osr')? method='(org\\.gpulrp\\.[\\w.$]+) ([\\w$<>]+) ([^>]*)>");
    private static final Pattern METHOD = Pattern.compile("<method id='(\\d+)' holder='(\\d+)' name='([\\w$<>]+)'");
    private static final Pattern KLASS = Pattern.compile("<klass id='(\\d+)' name='([^']+)'");
    private static final Pattern LATE = Pattern.compile("<late_inline method='(\\d+)'");

    public static void main(String[] args) throws Exception {
        if (args.length > 0 && args[0].equals("--workload")) {
            workload(args[1], args[2], Integer.parseInt(args[3]));
            return;
        }
        List<String> models = List.of("sample", "mlp", "cnn");
        List<String> composites = List.of("epsilon", "epsilon-gamma-box");
        int runs = 3;
        int calls = 0;
        for (String a : args) {
            if (a.startsWith("model=")) {
                models = List.of(a.substring(6).split(","));
            } else if (a.startsWith("composite=")) {
                composites = List.of(a.substring(10).split(","));
            } else if (a.startsWith("runs=")) {
                runs = Integer.parseInt(a.substring(5));
            } else if (a.startsWith("calls=")) {
                calls = Integer.parseInt(a.substring(6));
            } else {
                throw new IllegalArgumentException("unknown argument " + a);
            }
        }
        int failures = 0;
        for (String model : models) {
            for (String composite : composites) {
                for (int r = 0; r < runs; r++) {
                    failures += check(model, composite, calls > 0 ? calls : defaultCalls(model));
                }
            }
        }
        System.out.println(failures == 0 ? "JitCheck: every Vector API intrinsic held"
                : "JitCheck: " + failures + " Vector API intrinsics fell back to Java code");
        System.exit(failures == 0 ? 0 : 1);
    }

    /** Enough calls for C2 to compile the kernels at their final tier. */
    private static int defaultCalls(String model) {
        return switch (model) {
            case "sample" -> 300;
            case "mlp", "cnn" -> 20;
            default -> 3;
        };
    }

    /** One fresh JVM running the case; prints its compiles that inlined something late. Returns its failures. */
    private static int check(String model, String composite, int calls) throws IOException, InterruptedException {
        Path log = Files.createTempFile("gpulrp-jit", ".xml");
        try {
            List<String> cmd = new ArrayList<>();
            cmd.add(ProcessHandle.current().info().command().orElse("java"));
            cmd.add("--add-modules");
            cmd.add("jdk.incubator.vector");
            cmd.add("-Xmx12g");
            String extra = System.getProperty("gpulrp.jitcheck.jvm", "").trim();
            if (!extra.isEmpty()) {
                cmd.addAll(List.of(extra.split("\\s+")));
            }
            cmd.addAll(List.of("-XX:+UnlockDiagnosticVMOptions", "-XX:+LogCompilation", "-XX:LogFile=" + log,
                    "-cp", System.getProperty("java.class.path"), JitCheck.class.getName(), "--workload", model,
                    composite, Integer.toString(calls)));
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            if (p.waitFor() != 0) {
                throw new IllegalStateException(model + "/" + composite + ": the workload JVM exited with "
                        + p.exitValue());
            }
            return report(model + "/" + composite, Files.readString(log));
        } finally {
            Files.deleteIfExists(log);
        }
    }

    /** Prints, per compile of a gpulrp method, its late inlines; returns how many intrinsics did not hold. */
    static int report(String label, String xml) {
        int failures = 0;
        int compiles = 0;
        // Methods with a standard (not on-stack-replacement) C2 compile: C1's tasks carry a level, C2's do not.
        java.util.Set<String> standard = new java.util.HashSet<>();
        for (Matcher t = TASK.matcher(xml); t.find(); ) {
            if (t.group(2) == null && !t.group(5).contains("level=")) {
                standard.add(t.group(3) + "." + t.group(4));
            }
        }
        Matcher t = TASK.matcher(xml);
        while (t.find()) {
            int end = xml.indexOf("</task>", t.end());
            String task = xml.substring(t.start(), end < 0 ? xml.length() : end);
            compiles++;
            Map<String, String> klass = new HashMap<>();
            for (Matcher k = KLASS.matcher(task); k.find(); ) {
                klass.put(k.group(1), k.group(2));
            }
            Map<String, String[]> method = new HashMap<>();
            for (Matcher m = METHOD.matcher(task); m.find(); ) {
                method.put(m.group(1), new String[] {m.group(2), m.group(3)});
            }
            Map<String, Integer> late = new TreeMap<>();
            Map<String, Integer> fellBack = new TreeMap<>();
            for (Matcher l = LATE.matcher(task); l.find(); ) {
                String[] m = method.getOrDefault(l.group(1), new String[] {"", l.group(1)});
                boolean intrinsicCall = klass.getOrDefault(m[0], "").equals("jdk.internal.vm.vector.VectorSupport");
                if (!intrinsicCall) {
                    if (!(m[1].equals("valueOf") && klass.getOrDefault(m[0], "").startsWith("java.lang."))) {
                        late.merge(m[1], 1, Integer::sum); // boxing (valueOf) is always inlined late: not counted
                    }
                    continue;
                }
                // An intrinsic that held logs <intrinsic .../> right after its late_inline element.
                int close = task.indexOf("</late_inline>", l.end());
                String next = close < 0 ? "" : task.substring(close + 14).stripLeading();
                if (!next.startsWith("<intrinsic ")) {
                    fellBack.merge(m[1], 1, Integer::sum);
                }
            }
            // An on-stack-replacement compile enters its loop with the interpreter's boxed vectors, and serves only
            // the call that was running when it was made where the method also has a standard compile: reported,
            // not counted then.
            boolean osrOnly = t.group(2) != null && standard.contains(t.group(3) + "." + t.group(4));
            if (!late.isEmpty() || !fellBack.isEmpty()) {
                System.out.printf(Locale.ROOT, "%s: compile %s of %s.%s%s: %s%s%n", label, t.group(1),
                        t.group(3).substring(t.group(3).lastIndexOf('.') + 1), t.group(4),
                        t.group(2) == null ? "" : osrOnly ? " (on-stack replacement, not counted: the method also has a"
                                + " standard compile)" : " (on-stack replacement)",
                        fellBack.isEmpty() ? "" : "FELL BACK to Java code " + fellBack + "; ",
                        late.isEmpty() ? "" : "over the node budget, inlined late: " + late);
            }
            if (!osrOnly) {
                failures += fellBack.values().stream().mapToInt(Integer::intValue).sum();
            }
        }
        System.out.printf(Locale.ROOT, "%s: %d compiles of gpulrp methods read, %d intrinsics fell back%n", label,
                compiles, failures);
        return failures;
    }

    /** The child JVM's work: explain calls on the CPU path. */
    private static void workload(String model, String composite, int calls) {
        Network net = Models.network(model);
        int batch = Models.batch(model);
        Tensor in = new Tensor(Models.inputs(model, batch), batch, net.inputSize());
        try (Explainer e = GpuLrp.explainer(net).composite(Models.composite(composite)).backend(BackendChoice.CPU)
                .build()) {
            for (int c = 0; c < calls; c++) {
                e.explain(in, Target.argmax());
            }
        }
    }
}
