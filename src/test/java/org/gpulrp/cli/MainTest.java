package org.gpulrp.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.gpulrp.BackendChoice;
import org.gpulrp.Explainer;
import org.gpulrp.Explanation;
import org.gpulrp.GpuLrp;
import org.gpulrp.InitialRelevance;
import org.gpulrp.Target;
import org.gpulrp.Tensor;
import org.gpulrp.composite.Composites;
import org.gpulrp.io.Csv;
import org.gpulrp.io.Npy;
import org.gpulrp.model.Network;
import org.gpulrp.rules.Gamma;
import org.gpulrp.rules.ZBox;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The {@code gpulrp} subcommands run in-process through {@link Main#run}: results, parsing and errors. */
class MainTest {
    @TempDir
    Path dir;
    private Path in;
    private float[][] rows;

    @BeforeEach
    void writeInput() {
        rows = java.util.Arrays.copyOf(SampleModel.heldOut().standardized(), 5);
        in = dir.resolve("in.npy");
        Npy.write(in, Tensor.ofRows(rows).toArray(), rows.length, 10);
    }

    private static Explanation library(Explainer.Builder b, float[][] x, Target t) {
        try (Explainer ex = b.backend(BackendChoice.CPU).keepLayerRelevances(true).build()) {
            return ex.explain(x, t);
        }
    }

    @Test
    void explainWritesTheLibrarysInputRelevance() {
        Path out = dir.resolve("out.npy");
        CliRun r = CliRun.of("explain", "--model", CliRun.MODEL, "--input", in.toString(), "--out", out.toString(),
                "--backend", "cpu", "--composite", "epsilon-gamma-box:-3,3");
        assertEquals(0, r.code(), r.toString());
        Npy.Array a = Npy.read(out);
        assertEquals(List.of(5, 10), List.of(a.shape()[0], a.shape()[1]));
        Explanation e = library(GpuLrp.explainer(SampleModel.network())
                .composite(Composites.epsilonGammaBox(-3, 3)), rows, Target.argmax());
        CliRun.assertBits(e.relevance().toArray(), a.data());
        assertEquals(1, r.errLines().size(), r.toString());
        assertTrue(r.err().startsWith("gpulrp: explained 5 samples on cpu"), r.err());
        assertEquals("", r.out());
    }

    @Test
    void stateDictGivesTheSameBitsAsOnnx() {
        Path a = dir.resolve("a.npy");
        Path b = dir.resolve("b.npy");
        assertEquals(0, CliRun.of("explain", "--model", CliRun.MODEL, "--input", in.toString(), "--out",
                a.toString(), "--backend", "cpu", "--rule", "gamma:0.5").code());
        CliRun r = CliRun.of("explain", "--weights", CliRun.WEIGHTS, "--arch", CliRun.ARCH, "--input", in.toString(),
                "--out", b.toString(), "--backend", "cpu", "--rule", "gamma:0.5");
        assertEquals(0, r.code(), r.toString());
        CliRun.assertBits(Npy.read(a).data(), Npy.read(b).data());
    }

    @Test
    void perSampleTargetsFromAFileAndTheLogit() {
        Path t = dir.resolve("t.npy");
        Npy.write(t, new float[] {0, 0, 0, 0, 0}, 5);
        Path out = dir.resolve("out.npy");
        CliRun r = CliRun.of("explain", "--model", CliRun.MODEL, "--input", in.toString(), "--out", out.toString(),
                "--backend", "cpu", "--target", t.toString(), "--init", "logit", "--rule", "zplus",
                "--batch-size", "2");
        assertEquals(0, r.code(), r.toString());
        Explanation e = library(GpuLrp.explainer(SampleModel.network()).initialRelevance(InitialRelevance.LOGIT)
                .rule(new org.gpulrp.rules.ZPlus()), rows, Target.perSample(0, 0, 0, 0, 0));
        CliRun.assertBits(e.relevance().toArray(), Npy.read(out).data());
        // The logit, not the probability: row 0's sigmoid saturates at 1, its logit is about 20.7.
        float sum = 0;
        for (float v : Npy.read(out).data()) {
            sum += v;
        }
        assertTrue(Math.abs(sum) > 2, "sum of relevance " + sum);
    }

    @Test
    void csvInputKeepsItsHeaderAndAHeaderlessOneGetsNone() throws IOException {
        List<String> names = SampleModel.heldOut().features();
        StringBuilder csv = new StringBuilder(String.join(",", names)).append('\n');
        StringBuilder bare = new StringBuilder();
        for (float[] row : rows) {
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < row.length; i++) {
                line.append(i == 0 ? "" : ",").append(row[i]);
            }
            csv.append(line).append('\n');
            bare.append(line).append('\n');
        }
        Path withHeader = Files.writeString(dir.resolve("in.csv"), csv);
        Path without = Files.writeString(dir.resolve("bare.csv"), bare);
        Path out = dir.resolve("out.csv");
        Path out2 = dir.resolve("out2.csv");
        Path ref = dir.resolve("ref.npy");
        assertEquals(0, CliRun.of("explain", "--model", CliRun.MODEL, "--input", withHeader.toString(), "--out",
                out.toString(), "--backend", "cpu").code());
        assertEquals(0, CliRun.of("explain", "--model", CliRun.MODEL, "--input", without.toString(), "--out",
                out2.toString(), "--backend", "cpu").code());
        assertEquals(0, CliRun.of("explain", "--model", CliRun.MODEL, "--input", in.toString(), "--out",
                ref.toString(), "--backend", "cpu").code());
        List<String> lines = Files.readAllLines(out);
        assertEquals(String.join(",", names), lines.get(0));
        assertEquals(6, lines.size());
        Csv.Table t = Csv.read(out);
        assertEquals(names, t.columns());
        CliRun.assertBits(Npy.read(ref).data(), Tensor.ofRows(t.rows()).toArray());
        List<String> bareLines = Files.readAllLines(out2);
        assertEquals(5, bareLines.size());
        assertEquals(lines.subList(1, 6), bareLines);
    }

    @Test
    void layersFolderHoldsEveryLayersRelevance() throws IOException {
        Path layers = dir.resolve("layers/deep");
        Path out = dir.resolve("out.npy");
        CliRun r = CliRun.of("explain", "--model", CliRun.MODEL, "--input", in.toString(), "--out", out.toString(),
                "--backend", "cpu", "--layers", layers.toString(), "--composite", "epsilon-plus");
        assertEquals(0, r.code(), r.toString());
        Network net = SampleModel.network();
        Explanation e = library(GpuLrp.explainer(net).composite(Composites.epsilonPlus()), rows, Target.argmax());
        Map<String, Tensor> expected = e.layerRelevances();
        assertFalse(expected.isEmpty());
        try (Stream<Path> files = Files.list(layers)) {
            assertEquals(expected.size(), files.count());
        }
        for (Map.Entry<String, Tensor> l : expected.entrySet()) {
            Npy.Array a = Npy.read(layers.resolve(DataFiles.fileName(l.getKey())));
            assertEquals(List.of(5, l.getValue().rowSize()), List.of(a.shape()[0], a.shape()[1]), l.getKey());
            CliRun.assertBits(l.getValue().toArray(), a.data());
        }
    }

    @Test
    void fileNamesForLayersAreSafe() {
        assertEquals("fc1.npy", DataFiles.fileName("fc1"));
        assertEquals("fc1_Gemm.npy", DataFiles.fileName("/fc1/Gemm"));
        assertEquals("a_b.npy", DataFiles.fileName("../a:b"));
        assertEquals("node.npy", DataFiles.fileName("/"));
    }

    static Stream<Arguments> usageErrors() {
        String m = CliRun.MODEL;
        return Stream.of(
                Arguments.of("--model", List.of("explain", "--input", "a.npy", "--out", "b.npy")),
                Arguments.of("valid rules", List.of("explain", "--model", m, "--input", "a.npy", "--out", "b.npy",
                        "--rule", "lrp")),
                Arguments.of("valid composites", List.of("explain", "--model", m, "--input", "a.npy", "--out",
                        "b.npy", "--composite", "epsilon-gamma-box")),
                Arguments.of("mutually exclusive", List.of("explain", "--model", m, "--input", "a.npy", "--out",
                        "b.npy", "--rule", "zplus", "--composite", "epsilon-plus")),
                Arguments.of("must end in .npy or .csv", List.of("explain", "--model", m, "--input", "a.npy",
                        "--out", "b.txt")),
                Arguments.of("must be > 0", List.of("explain", "--model", m, "--input", "a.npy", "--out", "b.npy",
                        "--batch-size", "0")),
                Arguments.of("expected argmax", List.of("explain", "--model", m, "--input", "a.npy", "--out",
                        "b.npy", "--target", "1.5")),
                Arguments.of("class index", List.of("explain", "--model", m, "--input", "a.npy", "--out",
                        "b.npy", "--target", "-1")),
                Arguments.of("--arch", List.of("explain", "--weights", "w.pth", "--input", "a.npy", "--out",
                        "b.npy")),
                Arguments.of("mutually exclusive", List.of("info", "--model", m, "--weights", "w.pth", "--arch",
                        CliRun.ARCH)),
                Arguments.of("valid: auto, cpu, opencl", List.of("explain", "--model", m, "--input", "a.npy",
                        "--out", "b.npy", "--backend", "quantum")),
                Arguments.of("valid: output, onehot, logit", List.of("explain", "--model", m, "--input", "a.npy",
                        "--out", "b.npy", "--init", "softmax")),
                Arguments.of("Unmatched argument", List.of("frobnicate")),
                Arguments.of("Unknown option", List.of("explain", "--model", m, "--input", "a.npy", "--out",
                        "b.npy", "--fast")),
                Arguments.of("valid: auto, cpu, opencl", List.of("--backend", "gpu")),
                Arguments.of("use --weights w.pth --arch", List.of("info", "--model", "w.pth")),
                Arguments.of("use --model m.onnx", List.of("info", "--weights", "m.onnx", "--arch", CliRun.ARCH)));
    }

    @ParameterizedTest
    @MethodSource("usageErrors")
    void usageErrorsExitTwoWithTheUsage(String fragment, List<String> args) {
        CliRun r = CliRun.of(args.toArray(new String[0]));
        assertEquals(2, r.code(), r.toString());
        assertTrue(r.err().contains(fragment), r.toString());
        assertTrue(r.err().contains("usage: gpulrp"), r.toString());
    }

    @Test
    void failuresPrintOneLineNamingTheFileAndWriteNothing() throws IOException {
        Path out = dir.resolve("out.npy");
        Path layers = dir.resolve("layers");
        Path bad = dir.resolve("seven.npy");
        Npy.write(bad, new float[14], 2, 7);
        Path corrupt = dir.resolve("corrupt.onnx");
        byte[] noise = new byte[300];
        new Random(7).nextBytes(noise);
        Files.write(corrupt, noise);
        Path shortTargets = dir.resolve("targets.npy");
        Npy.write(shortTargets, new float[] {0, 0}, 2);
        Path halfTargets = dir.resolve("half.npy");
        Npy.write(halfTargets, new float[] {0, 0, 0.5f, 0, 0}, 5);
        List<List<String>> calls = new ArrayList<>();
        String o = out.toString();
        calls.add(List.of("--model", CliRun.MODEL, "--input", dir.resolve("missing.npy").toString(), "--out", o,
                "missing.npy"));
        calls.add(List.of("--model", dir.resolve("nope.onnx").toString(), "--input", in.toString(), "--out", o,
                "nope.onnx"));
        calls.add(List.of("--model", CliRun.MODEL, "--input", bad.toString(), "--out", o, "seven.npy"));
        calls.add(List.of("--model", corrupt.toString(), "--input", in.toString(), "--out", o, "corrupt.onnx"));
        calls.add(List.of("--model", CliRun.MODEL, "--input", in.toString(), "--out", o, "--target",
                shortTargets.toString(), "targets.npy"));
        calls.add(List.of("--model", CliRun.MODEL, "--input", in.toString(), "--out", o, "--target",
                halfTargets.toString(), "half.npy"));
        calls.add(List.of("--model", CliRun.MODEL, "--input", in.toString(), "--out", o, "--target", "1",
                "target"));
        Path notTorch = Files.write(dir.resolve("weights.pth"), noise);
        calls.add(List.of("--weights", notTorch.toString(), "--arch", CliRun.ARCH, "--input", in.toString(), "--out",
                o, "weights.pth"));
        calls.add(List.of("--model", CliRun.MODEL, "--input", in.toString(), "--out",
                dir.resolve("no/such/dir/out.npy").toString(), "does not exist"));
        // a Latin-1 header (a fuzz finding: it escaped as UncheckedIOException with a decoder's message)
        Path latin1 = Files.write(dir.resolve("latin1.csv"),
                "caf\u00e9,b\n1,2\n".getBytes(StandardCharsets.ISO_8859_1));
        calls.add(List.of("--model", CliRun.MODEL, "--input", latin1.toString(), "--out", o, "latin1.csv: not UTF-8"));
        for (List<String> c : calls) {
            List<String> args = new ArrayList<>(List.of("explain", "--backend", "cpu", "--layers",
                    layers.toString()));
            args.addAll(c.subList(0, c.size() - 1));
            CliRun r = CliRun.of(args.toArray(new String[0]));
            String expect = c.get(c.size() - 1);
            assertEquals(1, r.code(), r.toString());
            assertEquals(1, r.errLines().size(), r.toString());
            assertTrue(r.err().startsWith("gpulrp: ") && r.err().contains(expect), expect + ": " + r);
            assertFalse(Files.exists(out), "output written after a failure: " + r);
            assertFalse(Files.exists(layers), "layers written after a failure: " + r);
        }
    }

    @Test
    void unsupportedOperatorNamesTheNodeAndTheFile() throws IOException {
        Path model = Files.write(dir.resolve("tiny.onnx"), TinyOnnx.withLastOp("Sin", "wobble"));
        Path x = dir.resolve("x.npy");
        Npy.write(x, new float[] {1, 2, 3}, 1, 3);
        Path out = dir.resolve("out.npy");
        CliRun r = CliRun.of("explain", "--model", model.toString(), "--input", x.toString(), "--out", out.toString());
        assertEquals(1, r.code(), r.toString());
        assertEquals(1, r.errLines().size(), r.toString());
        for (String s : new String[] {"tiny.onnx", "wobble", "Sin"}) {
            assertTrue(r.err().contains(s), s + ": " + r);
        }
        assertFalse(Files.exists(out));
        // The same model with a supported last op loads: the fixture itself is sound.
        Files.write(model, TinyOnnx.withLastOp("Relu", "relu"));
        CliRun ok = CliRun.of("explain", "--model", model.toString(), "--input", x.toString(), "--out",
                out.toString(), "--backend", "cpu");
        assertEquals(0, ok.code(), ok.toString());
        // y = relu(W x + b) = relu(6.5, -12.5); epsilon on class 0 gives R_i = x_i w_0i, summing to 6 (the bias
        // keeps the 0.5).
        Npy.Array a = Npy.read(out);
        assertEquals(List.of(1, 3), List.of(a.shape()[0], a.shape()[1]));
        assertEquals(1f, a.data()[0], 1e-5f);
        assertEquals(-4f, a.data()[1], 1e-5f);
        assertEquals(9f, a.data()[2], 1e-5f);
    }

    @Test
    void verboseAddsTheStackTrace() {
        CliRun r = CliRun.of("explain", "--verbose", "--model", dir.resolve("nope.onnx").toString(), "--input",
                in.toString(), "--out", dir.resolve("out.npy").toString());
        assertEquals(1, r.code(), r.toString());
        assertTrue(r.errLines().size() > 1 && r.err().contains("\tat "), r.toString());
    }

    @Test
    void infoListsLayersParametersAndRules() {
        Network net = SampleModel.network();
        CliRun r = CliRun.of("info", "--model", CliRun.MODEL, "--composite", "epsilon-gamma-box:-3,3",
                "--first-rule", "zbox:-3,3");
        assertEquals(0, r.code(), r.toString());
        assertTrue(r.out().contains("897 parameters"), r.out());
        assertTrue(r.out().contains("10 inputs -> 1 outputs"), r.out());
        List<String> lines = r.out().lines().toList();
        var rules = InfoCommand.rules(net, Composites.epsilonGammaBox(-3, 3).withFirst(new ZBox(-3, 3)));
        for (int k = 0; k < net.nodes().size(); k++) {
            var n = net.nodes().get(k);
            String line = lines.get(3 + k);
            assertTrue(line.contains(n.name()) && line.contains(n.inputSize() + " -> " + n.outputSize())
                    && line.endsWith(rules.get(k).describe()), line);
        }
        assertTrue(lines.get(3).contains("352") && lines.get(3).contains("zbox"), lines.get(3));
        CliRun torch = CliRun.of("info", "--weights", CliRun.WEIGHTS, "--arch", CliRun.ARCH, "--rule", "gamma");
        assertEquals(0, torch.code(), torch.toString());
        assertTrue(torch.out().contains(new Gamma().describe()), torch.out());
    }

    @Test
    void infoCountsConvolutionParameters() {
        String model = "src/test/resources/zennit/rn18.onnx";
        CliRun r = CliRun.of("info", "--model", model);
        assertEquals(0, r.code(), r.toString());
        var net = org.gpulrp.io.onnx.OnnxImporter.load(java.nio.file.Path.of(model));
        var conv = net.nodes().get(0);
        assertEquals(org.gpulrp.model.LayerKind.CONV, conv.kind());
        String line = r.out().lines().filter(l -> l.strip().startsWith(conv.name() + " ")).findFirst().orElseThrow();
        long p = org.gpulrp.model.Network.parameterCount(conv);
        assertTrue(p > 0 && line.contains(String.format(java.util.Locale.ROOT, "%,d", p)), line);
    }

    @Test
    void devicesListsOrSaysThereAreNone() {
        CliRun r = CliRun.of("devices");
        assertEquals(0, r.code(), r.toString());
        assertTrue(r.out().startsWith("platform: ") && r.out().contains("bit-exact: ")
                || r.out().startsWith("no OpenCL platform found"), r.out());
    }

    @Test
    void helpGoesToStdoutWithExitZero() {
        CliRun r = CliRun.of("explain", "--help");
        assertEquals(0, r.code(), r.toString());
        assertTrue(r.out().startsWith("usage: gpulrp explain"), r.out());
        assertTrue(r.out().contains("--layers"), r.out());
        CliRun top = CliRun.of("--help");
        assertEquals(0, top.code());
        assertTrue(top.out().contains("explain") && top.out().contains("devices") && top.out().contains("info"));
        assertEquals("", top.err());
    }
}
