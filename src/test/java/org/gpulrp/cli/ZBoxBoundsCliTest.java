package org.gpulrp.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.gpulrp.io.Npy;
import org.gpulrp.io.image.Preprocess;
import org.gpulrp.rules.Rule;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * ZBox bounds per channel on the command line, and bounds derived from the preprocessing ({@code zbox} and
 * {@code epsilon-gamma-box} without bounds), through {@code gpulrp info} and {@code gpulrp explain} in-process.
 */
class ZBoxBoundsCliTest {
    /** A small VGG (3 input channels) with its input [2, 3, 28, 28]. */
    static final String VGG = "src/test/resources/torchvision/vgg-o17-dyn-fold.onnx";
    static final String VGG_INPUT = "src/test/resources/torchvision/vgg_input.npy";

    @TempDir
    Path dir;

    @Test
    void infoShowsTheBoundsDerivedFromThePreprocessing() {
        CliRun r = CliRun.of("info", "--model", VGG, "--composite", "epsilon-gamma-box", "--preprocess", "imagenet");
        assertEquals(0, r.code(), r.toString());
        String box = RuleOptions.derivedBox(Preprocess.imagenet()).describe();
        assertEquals("zbox(low=[-2.118,-2.036,-1.804],high=[2.249,2.429,2.64])", box);
        List<String> rows = r.out().lines().filter(l -> l.endsWith(box)).toList();
        assertEquals(1, rows.size(), r.out());
        assertTrue(rows.get(0).contains("conv"), rows.get(0));
        // The same rows as with the bounds written out.
        CliRun given = CliRun.of("info", "--model", VGG, "--composite", "epsilon-gamma-box:" + spec(
                Preprocess.imagenet()));
        assertEquals(0, given.code(), given.toString());
        assertEquals(given.out(), r.out());
        // --mean/--std alone: the preset none with them on top.
        CliRun ms = CliRun.of("info", "--model", VGG, "--rule", "zbox", "--mean", "0.5", "--std", "0.25");
        assertEquals(0, ms.code(), ms.toString());
        assertTrue(ms.out().contains("zbox(-2.0,2.0)"), ms.out());
    }

    @Test
    void productsAndAttentionOverrideTheCompositesModes() {
        CliRun r = CliRun.of("info", "--model", VGG, "--composite", "cp-lrp");
        assertEquals(0, r.code(), r.toString());
        assertTrue(r.out().contains("composite: cp-lrp (products constant-gate; attention cp-lrp)\n"), r.out());
        r = CliRun.of("info", "--model", VGG, "--composite", "cp-lrp", "--products", "uniform", "--attention",
                "attnlrp");
        assertEquals(0, r.code(), r.toString());
        assertTrue(r.out().contains("composite: cp-lrp (products uniform)\n"), r.out());
        r = CliRun.of("info", "--model", VGG, "--composite", "epsilon-plus", "--attention", "cp-lrp");
        assertTrue(r.out().contains("composite: epsilon-plus (attention cp-lrp)\n"), r.out());
        r = CliRun.of("info", "--model", VGG, "--composite", "attnlrp-vit:0.5");
        assertTrue(r.out().contains("composite: attnlrp-vit (products uniform; attention cp-lrp)\n"), r.out());
        assertTrue(r.out().contains("gamma(0.5"), r.out());
        r = CliRun.of("info", "--model", VGG, "--attention", "cp");
        assertEquals(2, r.code(), r.toString());
        assertTrue(r.err().contains("attnlrp, cp-lrp"), r.err());
        r = CliRun.of("info", "--model", VGG, "--products", "half");
        assertEquals(2, r.code(), r.toString());
        assertTrue(r.err().contains("gradient, constant-gate, uniform"), r.err());
    }

    @Test
    void theStabilizerOfTheStepsWithoutARuleIsShownAndChecked() {
        CliRun r = CliRun.of("info", "--model", VGG, "--composite", "cp-lrp", "--stabilizer", "1e-30");
        assertEquals(0, r.code(), r.toString());
        assertTrue(r.out().contains("composite: cp-lrp (products constant-gate; attention cp-lrp; stabilizer 1.0E-30)"
                + "\n"), r.out());
        r = CliRun.of("info", "--model", VGG, "--stabilizer", "1e-6");
        assertTrue(r.out().contains("composite: epsilon\n"), "the default is not a mode: " + r.out());
        for (String bad : new String[] {"-1e-6", "NaN", "Infinity"}) {
            r = CliRun.of("info", "--model", VGG, "--stabilizer", bad);
            assertEquals(2, r.code(), r.toString());
            assertTrue(r.err().contains("--stabilizer") && r.err().contains("finite number >= 0"), r.err());
        }
    }

    @Test
    void withoutPreprocessingTheBoundsCannotBeDerived() {
        CliRun r = CliRun.of("info", "--model", VGG, "--composite", "epsilon-gamma-box");
        assertEquals(2, r.code(), r.toString());
        String first = r.errLines().get(0);
        assertTrue(first.contains("--composite epsilon-gamma-box") && first.contains("LOW,HIGH")
                && first.contains("--preprocess") && first.contains(RuleSpecs.COMPOSITES), first);
        Path out = dir.resolve("r.npy");
        r = CliRun.of("explain", "--model", VGG, "--input", VGG_INPUT, "--out", out.toString(), "--first-rule",
                "zbox");
        assertEquals(2, r.code(), r.toString());
        first = r.errLines().get(0);
        assertTrue(first.contains("--first-rule zbox") && first.contains("zbox:LOW,HIGH")
                && first.contains("--preprocess") && first.contains(RuleSpecs.RULES), first);
        assertFalse(Files.exists(out));
        r = CliRun.of("info", "--model", VGG, "--composite", "epsilon-gamma-box", "--mean", "0.1,0.2");
        assertEquals(2, r.code(), r.toString());
        assertTrue(r.errLines().get(0).contains("--mean"), r.toString());
    }

    @Test
    void anExplanationWithDerivedBoundsEqualsOneWithTheBoundsGiven() {
        Path derived = dir.resolve("derived.npy");
        CliRun r = CliRun.of("explain", "--model", VGG, "--input", VGG_INPUT, "--out", derived.toString(),
                "--backend", "cpu", "--composite", "epsilon-gamma-box", "--preprocess", "imagenet", "--verbose");
        assertEquals(0, r.code(), r.toString());
        Preprocess.Range range = Preprocess.imagenet().inputRange();
        assertTrue(r.err().contains("zbox bounds per channel: low " + java.util.Arrays.toString(range.low())
                + ", high " + java.util.Arrays.toString(range.high()) + " (from --preprocess imagenet)"), r.err());
        assertTrue(r.err().contains(RuleOptions.derivedBox(Preprocess.imagenet()).describe()), r.err());
        Path given = dir.resolve("given.npy");
        r = CliRun.of("explain", "--model", VGG, "--input", VGG_INPUT, "--out", given.toString(), "--backend", "cpu",
                "--composite", "epsilon-gamma-box:" + spec(Preprocess.imagenet()));
        assertEquals(0, r.code(), r.toString());
        Path scalar = dir.resolve("scalar.npy");
        r = CliRun.of("explain", "--model", VGG, "--input", VGG_INPUT, "--out", scalar.toString(), "--backend",
                "cpu", "--composite", "epsilon-gamma-box:-2.118,2.64");
        assertEquals(0, r.code(), r.toString());
        float[] d = Npy.read(derived).data();
        CliRun.assertBits(Npy.read(given).data(), d);
        assertFalse(java.util.Arrays.equals(Npy.read(scalar).data(), d), "the per-channel bounds matter");
    }

    @Test
    void imagesDeriveTheBoundsFromTheirPreprocessing() {
        String model = ImageExplainTest.MODEL;
        String images = ImageExplainTest.IMAGES.toString();
        Preprocess mnist = Preprocess.none().withNormalization(new float[] {0.1307f}, new float[] {0.3081f})
                .withGrayscale(true);
        Path derived = dir.resolve("derived.npy");
        CliRun r = CliRun.of("explain", "--model", model, "--input", images, "--grayscale", "--mean", "0.1307",
                "--std", "0.3081", "--out", derived.toString(), "--backend", "cpu", "--rule", "zbox", "--verbose");
        assertEquals(0, r.code(), r.toString());
        assertTrue(r.err().contains("zbox bounds for every channel") && r.err().contains("(from --mean 0.1307 "
                + "--std 0.3081)"), r.err());
        Path given = dir.resolve("given.npy");
        r = CliRun.of("explain", "--model", model, "--input", images, "--grayscale", "--mean", "0.1307", "--std",
                "0.3081", "--out", given.toString(), "--backend", "cpu", "--rule", "zbox:" + spec(mnist));
        assertEquals(0, r.code(), r.toString());
        CliRun.assertBits(Npy.read(given).data(), Npy.read(derived).data());
        // No normalization options: the default preprocessing, pixels in [0, 1].
        Path plain = dir.resolve("plain.npy");
        r = CliRun.of("explain", "--model", model, "--input", images, "--grayscale", "--out", plain.toString(),
                "--backend", "cpu", "--composite", "epsilon-gamma-box");
        assertEquals(0, r.code(), r.toString());
        Path zeroOne = dir.resolve("zero-one.npy");
        r = CliRun.of("explain", "--model", model, "--input", images, "--grayscale", "--out", zeroOne.toString(),
                "--backend", "cpu", "--composite", "epsilon-gamma-box:0,1");
        assertEquals(0, r.code(), r.toString());
        CliRun.assertBits(Npy.read(zeroOne).data(), Npy.read(plain).data());
    }

    @Test
    void normalizationOptionsWithADataFileStillNeedAZBoxWithoutBounds() {
        CliRun r = CliRun.of("explain", "--model", VGG, "--input", VGG_INPUT, "--out", dir.resolve("o.npy")
                .toString(), "--preprocess", "imagenet", "--composite", "epsilon-gamma-box:0,1");
        assertEquals(2, r.code(), r.toString());
        assertTrue(r.errLines().get(0).contains("--preprocess needs an image input"), r.toString());
    }

    /** The preprocessing's input range as a spec's bounds, {@code L1:L2:..,H1:H2:..}, each float written exactly. */
    private static String spec(Preprocess p) {
        Preprocess.Range r = p.inputRange();
        StringBuilder low = new StringBuilder();
        StringBuilder high = new StringBuilder();
        for (int c = 0; c < r.low().length; c++) {
            low.append(c == 0 ? "" : ":").append(r.low()[c]);
            high.append(c == 0 ? "" : ":").append(r.high()[c]);
        }
        Rule check = RuleSpecs.rule("zbox:" + low + "," + high);
        assertEquals(RuleOptions.derivedBox(p), check, "the written bounds parse back exactly");
        return low + "," + high;
    }
}
