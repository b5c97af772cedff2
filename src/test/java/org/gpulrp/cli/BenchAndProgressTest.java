package org.gpulrp.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.gpulrp.BackendChoice;
import org.gpulrp.Explainer;
import org.gpulrp.GpuLrp;
import org.gpulrp.Target;
import org.gpulrp.Tensor;
import org.gpulrp.io.Npy;
import org.gpulrp.io.onnx.OnnxImporter;
import org.gpulrp.model.Dense;
import org.gpulrp.model.Network;
import org.gpulrp.model.Node;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code gpulrp bench} and the progress line of {@code gpulrp explain}. */
class BenchAndProgressTest {
    private static final Pattern LINE = Pattern.compile("^([A-Za-z/ -]+): (.*)$", Pattern.MULTILINE);

    @TempDir
    Path dir;

    private static Map<String, String> fields(String out) {
        Map<String, String> m = new HashMap<>();
        Matcher x = LINE.matcher(out);
        while (x.find()) {
            m.put(x.group(1), x.group(2).strip());
        }
        return m;
    }

    @Test
    void benchPrintsSamplesPerSecondAndEffectiveGflops() {
        CliRun r = CliRun.of("bench", "--model", CliRun.MODEL, "--batch", "64", "--seconds", "0.3", "--backend",
                "cpu", "--composite", "epsilon-plus");
        assertEquals(0, r.code(), r.toString());
        Map<String, String> f = fields(r.out());
        Network net = OnnxImporter.load(Path.of(CliRun.MODEL));
        double flops = 0;
        for (Node n : net.nodes()) {
            if (n.layer() instanceof Dense d) {
                flops += 2.0 * 2 * d.in() * d.out();
            }
        }
        assertTrue(flops > 0);
        assertEquals(flops, Double.parseDouble(f.get("flops per sample")), 0.5, r.toString());
        double rate = Double.parseDouble(f.get("samples/s"));
        double gflops = Double.parseDouble(f.get("GFLOP/s"));
        assertTrue(rate > 0, r.toString());
        assertEquals(rate * flops / 1e9, gflops, 1e-3 + 1e-3 * gflops, r.toString());
        assertTrue(f.get("backend").startsWith("cpu ["), r.toString());
        assertEquals("epsilon-plus", f.get("composite"), r.toString());
        Matcher calls = Pattern.compile("timed calls: (\\d+), seconds: ([0-9.]+)").matcher(f.get("batch"));
        assertTrue(calls.find(), r.toString());
        double seconds = Double.parseDouble(calls.group(2));
        assertTrue(seconds >= 0.3, r.toString());
        assertEquals(Long.parseLong(calls.group(1)) * 64 / seconds, rate, rate * 0.01, r.toString());
    }

    @Test
    void benchAndInfoBuildATokenModelForTheSequenceLengthAsked() {
        String bert = "examples/text/fortune-bert.onnx";
        CliRun none = CliRun.of("info", "--model", bert);
        assertEquals(1, none.code(), none.toString());
        assertTrue(none.err().contains("--seq-length T"), none.toString());
        CliRun info = CliRun.of("info", "--model", bert, "--seq-length", "12", "--composite", "attnlrp");
        assertEquals(0, info.code(), info.toString());
        Network net = OnnxImporter.load(Path.of(bert), org.gpulrp.io.onnx.ImportOptions.defaults()
                .withSequenceLength(12));
        assertEquals(12, net.tokens().length());
        long params = 0;
        for (Node n : net.nodes()) {
            if (n.layer() instanceof org.gpulrp.model.Embedding e) {
                params += (long) e.vocab() * e.hidden();
            }
        }
        assertTrue(params > 0 && net.parameterCount() > params, "embedding tables are counted: " + params);
        assertTrue(info.out().contains(String.format(java.util.Locale.ROOT, "%,d parameters", net.parameterCount())),
                info.toString());
        CliRun r = CliRun.of("bench", "--model", bert, "--seq-length", "12", "--batch", "4", "--seconds", "0.2",
                "--backend", "cpu", "--composite", "attnlrp");
        assertEquals(0, r.code(), r.toString());
        Map<String, String> f = fields(r.out());
        assertEquals(org.gpulrp.backend.Flops.perSample(net), Double.parseDouble(f.get("flops per sample")), 0.5,
                r.toString());
        assertTrue(Double.parseDouble(f.get("samples/s")) > 0, r.toString());
        assertEquals("attnlrp", f.get("composite"), r.toString());
    }

    @Test
    void benchRefusesBadArgumentsAsUsageErrors() {
        CliRun zero = CliRun.of("bench", "--model", CliRun.MODEL, "--batch", "8", "--seconds", "0");
        assertEquals(2, zero.code(), zero.toString());
        assertTrue(zero.err().contains("--seconds"), zero.toString());
        CliRun noBatch = CliRun.of("bench", "--model", CliRun.MODEL);
        assertEquals(2, noBatch.code(), noBatch.toString());
        assertTrue(noBatch.err().contains("--batch"), noBatch.toString());
        CliRun negative = CliRun.of("bench", "--model", CliRun.MODEL, "--batch", "-3");
        assertEquals(2, negative.code(), negative.toString());
    }

    @Test
    void explainShowsProgressWhenAskedAndNothingWhenQuiet() {
        int rows = 3000;
        float[] x = new float[rows * 10];
        float[][] base = SampleModel.heldOut().standardized();
        for (int b = 0; b < rows; b++) {
            System.arraycopy(base[b % base.length], 0, x, b * 10, 10);
        }
        Path in = dir.resolve("in.npy");
        Npy.write(in, x, rows, 10);
        Path out = dir.resolve("out.npy");
        CliRun r = CliRun.of("explain", "--model", CliRun.MODEL, "--input", in.toString(), "--out", out.toString(),
                "--backend", "cpu", "--progress");
        assertEquals(0, r.code(), r.toString());
        assertTrue(r.err().contains("\rgpulrp: " + rows + "/" + rows + " samples (100.0%), "), r.toString());
        assertTrue(r.err().matches("(?s).*samples/s, ETA 0:00\\s*\n.*"), r.toString());
        assertTrue(r.err().contains("gpulrp: explained " + rows + " samples on cpu"), r.toString());
        try (Explainer ex = GpuLrp.explainer(OnnxImporter.load(Path.of(CliRun.MODEL))).backend(BackendChoice.CPU)
                .build()) {
            CliRun.assertBits(ex.explain(new Tensor(x, rows, 10), Target.argmax()).relevance().toArray(),
                    Npy.read(out).data());
        }
        CliRun q = CliRun.of("explain", "--model", CliRun.MODEL, "--input", in.toString(), "--out", out.toString(),
                "--backend", "cpu", "--progress", "--quiet");
        assertEquals(0, q.code(), q.toString());
        assertEquals("", q.err(), q.toString());
        assertTrue(Files.exists(out));
    }

    @Test
    void theProgressLineRedrawsAtMostFourTimesASecond() {
        StringWriter s = new StringWriter();
        long[] now = {0};
        ProgressLine p = new ProgressLine(new PrintWriter(s), () -> now[0]);
        for (int k = 1; k <= 100; k++) {
            now[0] = k * 20_000_000L; // an update every 20 ms over 2 s
            p.update(k * 10L, 1000);
        }
        now[0] = 4_000_000_000L;
        p.update(1000, 1000);
        p.finish();
        String[] draws = s.toString().split("\r");
        long drawn = Arrays.stream(draws).filter(d -> !d.isEmpty()).count();
        assertTrue(drawn <= 2_000 / 250 + 2, drawn + " redraws in 2 s: " + s);
        assertTrue(drawn >= 2, s.toString());
        assertTrue(s.toString().endsWith("gpulrp: 1000/1000 samples (100.0%), 250 samples/s, ETA 0:00" + System
                .lineSeparator()), s.toString());
        assertEquals("gpulrp: 250/1000 samples (25.0%), 50 samples/s, ETA 0:15",
                ProgressLine.format(250, 1000, 5_000_000_000L));
        assertEquals("1:01:05", ProgressLine.clock(3665));
        assertEquals("2:05", ProgressLine.clock(125));
        assertFalse(ProgressLine.wanted(true, true), "--quiet wins");
        assertTrue(ProgressLine.wanted(true, false));
    }
}
