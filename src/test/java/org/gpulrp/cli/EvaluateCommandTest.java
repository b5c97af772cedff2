package org.gpulrp.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.gpulrp.BackendChoice;
import org.gpulrp.Explainer;
import org.gpulrp.GpuLrp;
import org.gpulrp.Target;
import org.gpulrp.Tensor;
import org.gpulrp.composite.Composites;
import org.gpulrp.eval.Baseline;
import org.gpulrp.eval.Evaluation;
import org.gpulrp.eval.Order;
import org.gpulrp.eval.Regions;
import org.gpulrp.io.Npy;
import org.gpulrp.io.onnx.OnnxImporter;
import org.gpulrp.model.Network;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code gpulrp evaluate}: its files equal the library's results, the plot is a PNG, errors are one line. */
class EvaluateCommandTest {
    private static final String DIGITS = "examples/digits/model.onnx";
    private static final String IMAGES = "examples/digits/images.npy";

    @TempDir
    Path dir;

    @Test
    void writesTheLibrarysCurvesSummaryAndPlot() throws IOException {
        Path out = dir.resolve("eval");
        Path plot = dir.resolve("curves.png");
        CliRun r = CliRun.of("evaluate", "--model", DIGITS, "--input", IMAGES, "--composite",
                "epsilon,epsilon-gamma-box:0,1", "--patch", "3", "--steps", "5", "--baseline", "mean",
                "--order", "morf,lerf", "--backend", "cpu", "--out", out.toString(), "--plot", plot.toString());
        assertEquals(0, r.code(), r.toString());
        List<String> csv = Files.readAllLines(out.resolve("summary.csv"));
        assertEquals("composite,order,aopc,abpc,samples,steps", csv.get(0));
        assertEquals(5, csv.size(), csv.toString());
        assertTrue(csv.get(3).startsWith("\"epsilon-gamma-box:0,1\",morf,"), csv.toString());
        assertTrue(r.out().contains("epsilon-gamma-box:0,1"), r.out());
        Network net = OnnxImporter.load(Path.of(DIGITS));
        Npy.Array x = Npy.read(Path.of(IMAGES));
        Evaluation.Result lib;
        try (Explainer ex = GpuLrp.explainer(net).composite(Composites.epsilonGammaBox(0, 1))
                .backend(BackendChoice.CPU).build()) {
            // 8 x 8 in patches of 3: 3 x 3 regions, the last row and column 2 pixels wide.
            lib = Evaluation.run(ex, new Tensor(x.data(), x.shape()), Target.argmax(), new Evaluation.Settings(
                    Regions.patches(new int[] {1, 8, 8}, 3), Baseline.parse("mean"), List.of(Order.MORF,
                    Order.LERF), 5, 0), null);
        }
        Npy.Array morf = Npy.read(out.resolve("epsilon-gamma-box_0_1-morf.npy"));
        assertEquals(List.of(10, 6), List.of(morf.shape()[0], morf.shape()[1]));
        float[] flat = new float[60];
        for (int b = 0; b < 10; b++) {
            System.arraycopy(lib.curve(Order.MORF)[b], 0, flat, b * 6, 6);
        }
        CliRun.assertBits(flat, morf.data());
        assertTrue(csv.get(3).contains(String.format(java.util.Locale.ROOT, ",%.6f,%.6f,10,5",
                lib.aopc(Order.MORF), lib.abpc())), csv.get(3));
        byte[] png = Files.readAllBytes(plot);
        assertTrue(png.length > 1000 && png[1] == 'P' && png[2] == 'N' && png[3] == 'G');
        assertTrue(Files.exists(out.resolve("epsilon-lerf.npy")));
    }

    @Test
    void sanityCheckDecorrelates() throws IOException {
        Path out = dir.resolve("sanity");
        CliRun r = CliRun.of("evaluate", "--model", DIGITS, "--input", IMAGES, "--composite", "epsilon-plus",
                "--sanity", "--seed", "3", "--backend", "cpu", "--out", out.toString());
        assertEquals(0, r.code(), r.toString());
        List<String> csv = Files.readAllLines(out.resolve("sanity.csv"));
        assertEquals("step,randomized,epsilon-plus", csv.get(0));
        assertTrue(csv.get(1).startsWith("0,(none),1.000000"), csv.toString());
        // One line per dense and convolution layer, top first; each randomization changes the ranking. (On these
        // digits epsilon-plus stays correlated, about 0.93: the many zero pixels get zero relevance whatever the
        // weights, the input dependence the check is meant to reveal; README "Which composite should I use?".)
        assertEquals(List.of("1,+fc2", "2,+fc1", "3,+conv2", "4,+conv1"), csv.subList(2, 6).stream()
                .map(l -> l.substring(0, l.lastIndexOf(','))).toList());
        for (String line : csv.subList(2, csv.size())) {
            double rho = Double.parseDouble(line.split(",")[2]);
            assertTrue(rho > -1 && rho < 0.99, line);
        }
        assertEquals(List.of(csv.size() - 1, 10), List.of(Npy.read(out.resolve("epsilon-plus-sanity.npy"))
                .shape()[0], 10));
    }

    @Test
    void badArgumentsAreOneLineErrorsAndWriteNothing() throws IOException {
        Path out = dir.resolve("none");
        String[][] usage = {
            {"--composite", "epsilon-bogus"},
            {"--patch", "9"},
            {"--steps", "0"},
            {"--steps", "17", "--patch", "2"},
            {"--baseline", "blur:-1"},
            {"--order", "morf,best"},
            {"--plot", dir.resolve("p.jpg").toString()},
        };
        CliRun.assertUsageErrors(List.of("evaluate", "--model", DIGITS, "--input", IMAGES, "--backend", "cpu",
                "--out", out.toString()), usage, out);
        Path nan = dir.resolve("nan.npy");
        float[] x = new float[20];
        x[13] = Float.NaN;
        Npy.write(nan, x, 2, 10);
        CliRun r = CliRun.of("evaluate", "--model", CliRun.MODEL, "--input", nan.toString(), "--backend", "cpu",
                "--out", out.toString(), "--plot", dir.resolve("p.png").toString());
        assertEquals(1, r.code(), r.toString());
        assertEquals(1, r.errLines().size(), r.toString());
        assertTrue(r.err().contains("sample 1 feature 3 is NaN"), r.err());
        assertFalse(Files.exists(out));
        assertFalse(Files.exists(dir.resolve("p.png")));
    }

    @Test
    void compositesSplitAtNames() {
        assertEquals(List.of("epsilon-gamma-box:0,1", "epsilon", "alpha-beta:2,1"),
                EvaluateCommand.splitComposites("epsilon-gamma-box:0,1,epsilon, alpha-beta:2,1"));
    }
}
