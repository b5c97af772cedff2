package org.gpulrp.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.StandardOpenOption;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.gpulrp.BackendChoice;
import org.gpulrp.Explainer;
import org.gpulrp.GpuLrp;
import org.gpulrp.Target;
import org.gpulrp.Tensor;
import org.gpulrp.composite.Composites;
import org.gpulrp.io.Csv;
import org.gpulrp.io.Npy;
import org.gpulrp.io.onnx.OnnxImporter;
import org.gpulrp.model.Network;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The built CLI as a user runs it: a separate JVM with the flags the launcher passes, on fixture files. Few runs, as
 * each JVM start costs about a second.
 */
class CliProcessTest {
    @TempDir
    Path dir;

    /** What a finished process left. */
    private record Proc(int code, String out, String err) {
        @Override
        public String toString() {
            return "exit " + code + "\n--- stdout\n" + out + "--- stderr\n" + err;
        }
    }

    private Proc gpulrp(String... args) throws IOException, InterruptedException {
        return gpulrpWithHeap("-Xmx512m", args);
    }

    private Proc gpulrpWithHeap(String heap, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", heap,
                "-cp", System.getProperty("java.class.path"), "org.gpulrp.cli.Main"));
        cmd.addAll(Arrays.asList(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(Path.of("").toAbsolutePath().toFile());
        pb.environment().remove("LD_PRELOAD");
        String preload = System.getenv("LD_PRELOAD");
        if (preload != null) {
            pb.environment().put("LD_PRELOAD", preload);
        }
        Path out = dir.resolve("proc.out");
        Path err = dir.resolve("proc.err");
        Process p = pb.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("gpulrp " + String.join(" ", args) + " did not finish in 120 s");
        }
        // The JVM itself announces the incubator module on stderr; that line is not the command's.
        String errText = Files.readString(err, StandardCharsets.UTF_8).lines()
                .filter(l -> !l.equals("WARNING: Using incubator modules: jdk.incubator.vector"))
                .map(l -> l + "\n").reduce("", String::concat);
        return new Proc(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8), errText);
    }

    private static float[][] rows() {
        return Arrays.copyOf(SampleModel.heldOut().standardized(), 6);
    }

    @Test
    void explainWritesTheSameBitsAsTheLibraryInProcess() throws Exception {
        float[][] x = rows();
        Path in = dir.resolve("in.npy");
        Npy.write(in, Tensor.ofRows(x).toArray(), x.length, 10);
        Path out = dir.resolve("relevance.npy");
        Proc p = gpulrp("explain", "--model", CliRun.MODEL, "--input", in.toString(), "--out", out.toString(),
                "--backend", "cpu", "--composite", "epsilon-plus-flat");
        assertEquals(0, p.code(), p.toString());
        assertTrue(p.err().startsWith("gpulrp: explained 6 samples on cpu"), p.toString());
        Npy.Array a = Npy.read(out);
        assertEquals(List.of(6, 10), List.of(a.shape()[0], a.shape()[1]));
        Network net = OnnxImporter.load(Path.of(CliRun.MODEL));
        try (Explainer ex = GpuLrp.explainer(net).composite(Composites.epsilonPlusFlat()).backend(BackendChoice.CPU)
                .build()) {
            CliRun.assertBits(ex.explain(x, Target.argmax()).relevance().toArray(), a.data());
        }
    }

    @Test
    void csvInAndOutKeepsTheHeader() throws Exception {
        float[][] x = rows();
        List<String> names = SampleModel.heldOut().features();
        StringBuilder csv = new StringBuilder(String.join(",", names)).append('\n');
        for (float[] r : x) {
            for (int i = 0; i < r.length; i++) {
                csv.append(i == 0 ? "" : ",").append(r[i]);
            }
            csv.append('\n');
        }
        Path in = Files.writeString(dir.resolve("rows.csv"), csv);
        Path out = dir.resolve("relevance.csv");
        Proc p = gpulrp("explain", "--model", CliRun.MODEL, "--input", in.toString(), "--out", out.toString(),
                "--backend", "cpu", "--rule", "epsilon:0.01");
        assertEquals(0, p.code(), p.toString());
        assertEquals(String.join(",", names), Files.readAllLines(out).get(0));
        Csv.Table t = Csv.read(out);
        assertEquals(6, t.rows().length);
        try (Explainer ex = GpuLrp.explainer(OnnxImporter.load(Path.of(CliRun.MODEL)))
                .rule(new org.gpulrp.rules.Epsilon(0.01f)).backend(BackendChoice.CPU).build()) {
            CliRun.assertBits(ex.explain(x, Target.argmax()).relevance().toArray(), Tensor.ofRows(t.rows()).toArray());
        }
    }

    @Test
    void usageErrorsExitTwoWithTheUsage() throws Exception {
        Path out = dir.resolve("out.npy");
        Proc flag = gpulrp("explain", "--model", CliRun.MODEL, "--input", "in.npy", "--out", out.toString(),
                "--turbo");
        assertEquals(2, flag.code(), flag.toString());
        assertTrue(flag.err().contains("--turbo") && flag.err().contains("usage: gpulrp explain"), flag.toString());
        Proc rule = gpulrp("explain", "--model", CliRun.MODEL, "--input", "in.npy", "--out", out.toString(),
                "--rule", "lrp-zero");
        assertEquals(2, rule.code(), rule.toString());
        assertTrue(rule.err().contains("unknown rule 'lrp-zero'") && rule.err().contains(RuleSpecs.RULES)
                && rule.err().contains("usage: gpulrp explain"), rule.toString());
        assertFalse(Files.exists(out));
    }

    @Test
    void corruptAndUnsupportedModelsFailWithOneLineNamingTheFile() throws Exception {
        Path in = dir.resolve("in.npy");
        Npy.write(in, new float[] {1, 2, 3}, 1, 3);
        Path out = dir.resolve("out.npy");
        byte[] noise = new byte[512];
        new Random(42).nextBytes(noise);
        Path corrupt = Files.write(dir.resolve("corrupt.onnx"), noise);
        Proc c = gpulrp("explain", "--model", corrupt.toString(), "--input", in.toString(), "--out", out.toString());
        assertEquals(1, c.code(), c.toString());
        assertEquals(1, c.err().lines().count(), c.toString());
        assertTrue(c.err().startsWith("gpulrp: ") && c.err().contains("corrupt.onnx"), c.toString());
        assertFalse(Files.exists(out));

        Path odd = Files.write(dir.resolve("odd.onnx"), TinyOnnx.withLastOp("Sin", "wobble"));
        Proc u = gpulrp("explain", "--model", odd.toString(), "--input", in.toString(), "--out", out.toString());
        assertEquals(1, u.code(), u.toString());
        assertEquals(1, u.err().lines().count(), u.toString());
        for (String s : new String[] {"gpulrp: ", "odd.onnx", "wobble", "Sin"}) {
            assertTrue(u.err().contains(s), s + ": " + u);
        }
        assertFalse(Files.exists(out));
        try (var files = Files.list(dir)) {
            assertTrue(files.noneMatch(f -> f.getFileName().toString().endsWith(".tmp")), "temporary files left");
        }
    }

    /**
     * A .npy input twice the heap, explained in a JVM with {@code -Xmx32m}: the command streams it chunk by chunk.
     * The output's first and last rows are checked against the library in this JVM.
     */
    @Test
    void explainStreamsAnInputLargerThanTheHeap() throws Exception {
        int features = 10;
        int rows = 6 * 266_667; // about 64 MB of float32 in, as much out
        float[][] seed = rows();
        Path in = dir.resolve("big.npy");
        try (FileChannel ch = FileChannel.open(in, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(Npy.headerBytes(Npy.DType.FLOAT32, rows, features)));
            ByteBuffer block = ByteBuffer.allocate(seed.length * features * 4).order(ByteOrder.LITTLE_ENDIAN);
            for (int b = 0; b < rows; b += seed.length) {
                block.clear();
                for (int r = 0; r < seed.length; r++) {
                    for (float v : seed[r]) {
                        block.putFloat(v + (b / seed.length % 7) * 0.125f);
                    }
                }
                block.flip();
                while (block.hasRemaining()) {
                    ch.write(block);
                }
            }
        }
        assertEquals(0, rows % seed.length);
        Path out = dir.resolve("big-relevance.npy");
        Proc p = gpulrpWithHeap("-Xmx32m", "explain", "--model", CliRun.MODEL, "--input", in.toString(), "--out",
                out.toString(), "--backend", "cpu", "--progress");
        assertEquals(0, p.code(), p.toString());
        assertTrue(p.err().contains("explained " + rows + " samples"), p.toString());
        assertTrue(p.err().contains(rows + "/" + rows + " samples (100.0%)"), p.toString());
        Npy.Header h = Npy.header(out);
        assertEquals(List.of(rows, features), List.of(h.shape()[0], h.shape()[1]));
        assertEquals("f4", h.type());
        int check = 2 * seed.length;
        float[] head = new float[check * features];
        float[] tail = new float[check * features];
        try (FileChannel ch = FileChannel.open(in); FileChannel o = FileChannel.open(out)) {
            for (int part = 0; part < 2; part++) {
                long row0 = part == 0 ? 0 : rows - check;
                float[] x = new float[check * features];
                ch.map(FileChannel.MapMode.READ_ONLY, Npy.header(in).dataOffset() + row0 * features * 4,
                        x.length * 4L).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(x);
                o.map(FileChannel.MapMode.READ_ONLY, h.dataOffset() + row0 * features * 4, x.length * 4L)
                        .order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(part == 0 ? head : tail);
                try (Explainer ex = GpuLrp.explainer(OnnxImporter.load(Path.of(CliRun.MODEL)))
                        .backend(BackendChoice.CPU).build()) {
                    CliRun.assertBits(ex.explain(new Tensor(x, check, features), Target.argmax()).relevance()
                            .toArray(), part == 0 ? head : tail);
                }
            }
        }
    }
}
