package org.gpulrp.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.gpulrp.BackendChoice;
import org.gpulrp.Explanation;
import org.gpulrp.GpuLrp;
import org.gpulrp.Target;
import org.gpulrp.composite.Composites;
import org.gpulrp.io.Npy;
import org.gpulrp.model.Activation;
import org.gpulrp.model.Dense;
import org.gpulrp.model.Network;
import org.junit.jupiter.api.Test;

/** The built-in example: the trained model reproduces PyTorch's outputs, and the main job prints what it promises. */
class SampleModelTest {

    @Test
    void reproducesThePyTorchProbabilities() throws IOException {
        Network net = SampleModel.network();
        SampleModel.Rows rows = SampleModel.heldOut();
        List<String> lines = Files.readAllLines(Path.of("examples/breast-cancer/heldout-labels.csv"));
        Explanation e;
        try (var ex = GpuLrp.explainer(net).backend(BackendChoice.CPU).build()) {
            e = ex.explain(rows.standardized(), Target.classIndex(0));
        }
        assertEquals(8, e.batchSize());
        for (int b = 0; b < 8; b++) {
            double torch = Double.parseDouble(lines.get(b + 1).split(",")[3]);
            // Standardization runs in double here and in PyTorch; sigmoid near 1 saturates, so compare loosely.
            assertEquals(torch, e.outputs().get(b, 0), 2e-6, "row " + b);
        }
        assertEquals(List.of("mean radius", "mean texture", "mean perimeter", "mean area", "mean smoothness",
                "mean compactness", "mean concavity", "mean concave points", "mean symmetry",
                "mean fractal dimension"), rows.features());
    }

    @Test
    void theOnnxFileHoldsTheSameWeightsAsTheNpyFiles() {
        List<Dense> dense = SampleModel.network().nodes().stream().filter(n -> n.layer() instanceof Dense)
                .map(n -> (Dense) n.layer()).toList();
        assertEquals(3, dense.size());
        for (int k = 0; k < 3; k++) {
            String base = "examples/breast-cancer/fc" + (k + 1);
            Npy.Array w = Npy.read(Path.of(base + ".weight.npy"));
            Npy.Array b = Npy.read(Path.of(base + ".bias.npy"));
            assertEquals(new Dense(w.shape()[1], w.shape()[0], w.data(), b.data()), dense.get(k), "fc" + (k + 1));
        }
        List<Activation.Function> acts = SampleModel.network().nodes().stream()
                .filter(n -> n.layer() instanceof Activation).map(n -> ((Activation) n.layer()).function()).toList();
        assertEquals(List.of(Activation.Function.RELU, Activation.Function.RELU, Activation.Function.SIGMOID), acts);
    }

    @Test
    void mainJobPrintsLayersRankingConservationAndBackend() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Main.run(new String[] {"--backend", "cpu"}, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        String text = out.toString(StandardCharsets.UTF_8);
        assertEquals(0, code, err.toString(StandardCharsets.UTF_8));
        List<String> layers = new java.util.ArrayList<>(List.of("output", "input"));
        SampleModel.network().nodes().forEach(n -> layers.add(n.name()));
        assertEquals(8, layers.size());
        for (String layer : layers) {
            assertTrue(text.contains("Relevance Scores for layer '" + layer + "'"), "missing layer " + layer);
        }
        assertTrue(text.contains("Row 7 (benign)"), text);
        assertTrue(text.contains("conservation: sum R_input"), text);
        assertTrue(text.contains("backend: cpu"), text);
    }

    @Test
    void badArgumentsExitWithTwoAndUsage() {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Main.run(new String[] {"--backend", "quantum"}, new PrintStream(new ByteArrayOutputStream()),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        assertEquals(2, code);
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("usage: gpulrp"));
    }

    @Test
    void inputRelevanceIsTheSameOnEveryCpuKernel() {
        Network net = SampleModel.network();
        float[][] x = SampleModel.heldOut().standardized();
        try (var vec = new org.gpulrp.backend.cpu.CpuBackend();
             var sca = new org.gpulrp.backend.cpu.CpuBackend(org.gpulrp.backend.cpu.CpuBackend.Kernels.SCALAR, 1)) {
            float[] a = GpuLrp.explainer(net).composite(Composites.epsilonPlus()).backend(vec).build()
                    .explain(x, Target.argmax()).relevance().toArray();
            float[] b = GpuLrp.explainer(net).composite(Composites.epsilonPlus()).backend(sca).build()
                    .explain(x, Target.argmax()).relevance().toArray();
            for (int k = 0; k < a.length; k++) {
                assertEquals(Float.floatToRawIntBits(b[k]), Float.floatToRawIntBits(a[k]), "element " + k);
            }
        }
    }
}
