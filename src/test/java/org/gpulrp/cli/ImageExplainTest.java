package org.gpulrp.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.gpulrp.BackendChoice;
import org.gpulrp.Explainer;
import org.gpulrp.Explanation;
import org.gpulrp.GpuLrp;
import org.gpulrp.Target;
import org.gpulrp.Tensor;
import org.gpulrp.composite.Composite;
import org.gpulrp.composite.Composites;
import org.gpulrp.io.Npy;
import org.gpulrp.io.image.Heatmaps;
import org.gpulrp.io.image.Images;
import org.gpulrp.io.image.Palette;
import org.gpulrp.io.image.Preprocess;
import org.gpulrp.io.torch.StateDict;
import org.gpulrp.model.Network;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** {@code gpulrp explain} with image inputs and heatmaps, in-process on the digits example and tiny images. */
class ImageExplainTest {
    static final String DIGITS = "examples/digits/";
    static final Path IMAGES = Path.of(DIGITS + "images");
    static final String MODEL = DIGITS + "model.onnx";

    @TempDir
    Path dir;

    /** The digits CNN built from its state dict (independent of the ONNX importer). */
    static Network digits() {
        StateDict sd = StateDict.read(Path.of(DIGITS + "model_weights.pth"));
        return Network.builder("digits", 1, 8, 8)
                .conv2d("conv1", 8, 3, 1, 1, sd.get("conv1.weight").data(), sd.get("conv1.bias").data())
                .relu("relu1")
                .conv2d("conv2", 16, 3, 1, 1, sd.get("conv2.weight").data(), sd.get("conv2.bias").data())
                .relu("relu2")
                .maxPool2d("pool", 2, 2)
                .flatten("flatten")
                .dense("fc1", 32, sd.get("fc1.weight").data(), sd.get("fc1.bias").data())
                .relu("relu3")
                .dense("fc2", 10, sd.get("fc2.weight").data(), sd.get("fc2.bias").data())
                .build();
    }

    private static Explanation library(Network net, Tensor x, Composite c) {
        try (Explainer ex = GpuLrp.explainer(net).composite(c).backend(BackendChoice.CPU).build()) {
            return ex.explain(x, Target.argmax());
        }
    }

    private static BufferedImage png(Path f) {
        try {
            BufferedImage img = ImageIO.read(f.toFile());
            assertTrue(img != null, f + " is not a PNG");
            return img;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void assertSamePixels(BufferedImage expected, BufferedImage actual, String what) {
        assertEquals(expected.getWidth(), actual.getWidth(), what + " width");
        assertEquals(expected.getHeight(), actual.getHeight(), what + " height");
        int w = expected.getWidth();
        int h = expected.getHeight();
        int[] e = expected.getRGB(0, 0, w, h, null, 0, w);
        int[] a = actual.getRGB(0, 0, w, h, null, 0, w);
        for (int k = 0; k < e.length; k++) {
            assertEquals(Integer.toHexString(e[k] & 0xffffff), Integer.toHexString(a[k] & 0xffffff),
                    what + " pixel (" + k % w + ", " + k / w + ")");
        }
    }

    private static List<String> names(Path folder) {
        if (!Files.exists(folder)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(folder)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A gray 8-bit PNG of the given pixels (row-major, {@code width} per row). */
    private Path grayPng(String name, int width, int... pixels) {
        BufferedImage img = new BufferedImage(width, pixels.length / width, BufferedImage.TYPE_BYTE_GRAY);
        for (int k = 0; k < pixels.length; k++) {
            img.getRaster().setSample(k % width, k / width, 0, pixels[k]);
        }
        Path f = dir.resolve(name);
        try {
            ImageIO.write(img, "png", f.toFile());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return f;
    }

    private Path tinyModel() throws IOException {
        Path m = dir.resolve("tiny.onnx");
        Files.write(m, TinyOnnx.withLastOp("Relu", "relu"));
        return m;
    }

    @Test
    void digitsHeatmapsAreTheLibrarysExplanationRendered() {
        Path heat = dir.resolve("heat");
        Path rel = dir.resolve("rel.npy");
        CliRun r = CliRun.of("explain", "--model", MODEL, "--input", IMAGES.toString(), "--preprocess", "none",
                "--grayscale", "--composite", "epsilon-gamma-box:0,1", "--heatmap", heat.toString(), "--grid", "5",
                "--upscale", "4", "--out", rel.toString(), "--backend", "cpu");
        assertEquals(0, r.code(), r.toString());
        assertEquals(1, r.errLines().size(), r.toString());
        assertTrue(r.err().startsWith("gpulrp: explained 10 images on cpu"), r.err());

        Images.Batch b = Images.read(Images.list(IMAGES), new Preprocess(0, 0, new float[] {0}, new float[] {1},
                true));
        Explanation e = library(digits(), b.tensor(), Composites.epsilonGammaBox(0, 1));
        Npy.Array a = Npy.read(rel);
        assertArrayEquals(new int[] {10, 1, 8, 8}, a.shape());
        CliRun.assertBits(e.relevance().toArray(), a.data());

        List<String> expectedNames = new ArrayList<>();
        Tensor relevance = new Tensor(e.relevance().toArray(), 10, 1, 8, 8);
        for (int n = 0; n < 10; n++) {
            String name = b.name(n) + ".png";
            expectedNames.add(name);
            BufferedImage want = ImageInputs.upscale(Heatmaps.render(relevance, n, Palette.BWR), 4);
            assertSamePixels(want, png(heat.resolve(name)), name);
        }
        expectedNames.add("grid.png");
        assertEquals(expectedNames.stream().sorted().toList(), names(heat));
        BufferedImage grid = png(heat.resolve("grid.png"));
        // 5 columns, 2 rows of 32x32 tiles with 4 white pixels around and between them
        assertEquals(5 * 32 + 6 * 4, grid.getWidth());
        assertEquals(2 * 32 + 3 * 4, grid.getHeight());
        assertSamePixels(png(heat.resolve(b.name(6) + ".png")),
                grid.getSubimage(4 + 1 * 36, 4 + 1 * 36, 32, 32), "grid tile 6");
        assertEquals(0xffffff, grid.getRGB(0, 0) & 0xffffff);
    }

    /** examples/digits/heatmaps.png is what the README's command writes as grid.png. */
    @Test
    void theCommittedDigitsGridIsTheReadmeCommandsOutput() {
        Path heat = dir.resolve("heat");
        CliRun r = CliRun.of("explain", "--model", MODEL, "--input", IMAGES.toString(), "--grayscale",
                "--composite", "epsilon-gamma-box:0,1", "--heatmap", heat.toString(), "--grid", "5", "--upscale", "16",
                "--backend", "cpu");
        assertEquals(0, r.code(), r.toString());
        BufferedImage grid = png(heat.resolve("grid.png"));
        assertEquals(5 * 128 + 6 * 4, grid.getWidth());
        assertEquals(2 * 128 + 3 * 4, grid.getHeight());
        assertSamePixels(png(Path.of(DIGITS + "heatmaps.png")), grid, "examples/digits/heatmaps.png");
    }

    @Test
    void oneImageBlendedWithAnotherPalette() {
        Path heat = dir.resolve("heat");
        Path img = IMAGES.resolve("digit3_test1390.png");
        CliRun r = CliRun.of("explain", "--model", MODEL, "--input", img.toString(), "--grayscale",
                "--heatmap", heat.toString(), "--palette", "coldnhot", "--blend", "0.6", "--backend", "cpu");
        assertEquals(0, r.code(), r.toString());
        Images.Batch b = Images.read(List.of(img), new Preprocess(0, 0, new float[] {0}, new float[] {1}, true));
        Explanation e = library(digits(), b.tensor(), Composites.epsilon());
        BufferedImage want = Heatmaps.blend(Heatmaps.render(new Tensor(e.relevance().toArray(), 1, 1, 8, 8), 0,
                Palette.COLDNHOT), b.images().get(0), 0.6);
        assertEquals(List.of("digit3_test1390.png"), names(heat));
        assertSamePixels(want, png(heat.resolve("digit3_test1390.png")), "blended heatmap");
    }

    @Test
    void aFlatModelTakesTheImageFlattened() throws IOException {
        Path in = grayPng("row.png", 3, 0, 128, 255);
        Path heat = dir.resolve("heat");
        Path rel = dir.resolve("rel.npy");
        CliRun r = CliRun.of("explain", "--model", tinyModel().toString(), "--input", in.toString(), "--grayscale",
                "--heatmap", heat.toString(), "--out", rel.toString(), "--backend", "cpu", "--palette", "gray");
        assertEquals(0, r.code(), r.toString());
        Npy.Array a = Npy.read(rel);
        assertArrayEquals(new int[] {1, 1, 1, 3}, a.shape());
        BufferedImage want = Heatmaps.render(new Tensor(a.data(), 1, 1, 1, 3), 0, Palette.GRAY);
        assertSamePixels(want, png(heat.resolve("row.png")), "heatmap");
    }

    @ParameterizedTest
    @ValueSource(strings = {"--palette=jet", "--blend=1.5", "--blend=x", "--upscale=0", "--grid=0",
        "--preprocess=vgg", "--mean=0.5,x", "--resize=-1", "--mean=0.1,0.2", "--std=0"})
    void badImageOptionsAreUsageErrors(String option) {
        Path heat = dir.resolve("heat");
        CliRun r = CliRun.of("explain", "--model", MODEL, "--input", IMAGES.toString(), "--grayscale",
                "--heatmap", heat.toString(), option);
        assertEquals(2, r.code(), r.toString());
        assertTrue(r.errLines().get(0).startsWith("gpulrp: "), r.toString());
        assertFalse(Files.exists(heat));
    }

    @Test
    void optionsThatDoNotFitTheInputAreUsageErrors() throws IOException {
        Path npy = dir.resolve("x.npy");
        Npy.write(npy, new float[64], 1, 1, 8, 8);
        CliRun r = CliRun.of("explain", "--model", MODEL, "--input", npy.toString(), "--heatmap", "h");
        assertEquals(2, r.code(), r.toString());
        assertTrue(r.errLines().get(0).contains("--heatmap needs an image input"), r.toString());
        r = CliRun.of("explain", "--model", MODEL, "--input", npy.toString());
        assertEquals(2, r.code(), r.toString());
        assertTrue(r.errLines().get(0).contains("--out FILE.npy|.csv is required"), r.toString());
        r = CliRun.of("explain", "--model", MODEL, "--input", IMAGES.toString(), "--grayscale");
        assertEquals(2, r.code(), r.toString());
        assertTrue(r.errLines().get(0).contains("nothing to write"), r.toString());
        r = CliRun.of("explain", "--model", MODEL, "--input", IMAGES.toString(), "--grid", "3", "--out",
                dir.resolve("o.npy").toString());
        assertEquals(2, r.code(), r.toString());
        assertTrue(r.errLines().get(0).contains("--grid draws heatmaps: add --heatmap DIR"), r.toString());
        r = CliRun.of("explain", "--model", MODEL, "--input", IMAGES.toString(), "--preprocess", "imagenet",
                "--grayscale", "--heatmap", dir.resolve("h").toString());
        assertEquals(2, r.code(), r.toString());
        assertTrue(r.errLines().get(0).contains("with --grayscale give one each with --mean and --std"),
                r.toString());
        assertFalse(Files.exists(dir.resolve("h")));
    }

    /** Runs with {@code input} into a fresh heatmap folder and --out; expects exit 1, one line, nothing written. */
    private String failsWritingNothing(String model, Path input, String... more) {
        Path heat = dir.resolve("heat");
        Path rel = dir.resolve("rel.npy");
        List<String> args = new ArrayList<>(List.of("explain", "--model", model, "--input", input.toString(),
                "--heatmap", heat.toString(), "--grid", "2", "--out", rel.toString(), "--backend", "cpu"));
        args.addAll(List.of(more));
        CliRun r = CliRun.of(args.toArray(String[]::new));
        assertEquals(1, r.code(), r.toString());
        assertEquals(1, r.errLines().size(), r.toString());
        assertFalse(Files.exists(heat), "the heatmap folder was created");
        assertFalse(Files.exists(rel), "--out was written");
        return r.errLines().get(0);
    }

    @Test
    void badImagesFailWithOneLineAndWriteNothing() throws IOException {
        Path mixed = Files.createDirectories(dir.resolve("mixed"));
        Files.copy(IMAGES.resolve("digit0_test695.png"), mixed.resolve("a.png"));
        Files.writeString(mixed.resolve("b.png"), "not a picture");
        String m = failsWritingNothing(MODEL, mixed, "--grayscale");
        assertTrue(m.contains("b.png") && m.contains("not an image"), m);

        Path text = Files.writeString(dir.resolve("notes.dat"), "hello");
        m = failsWritingNothing(MODEL, text, "--grayscale");
        assertTrue(m.contains("notes.dat") && m.contains("not an image"), m);

        Path empty = Files.createDirectories(dir.resolve("empty"));
        Files.writeString(empty.resolve("readme.md"), "no images here");
        m = failsWritingNothing(MODEL, empty, "--grayscale");
        assertTrue(m.contains("holds no .png, .jpg or .jpeg files"), m);

        m = failsWritingNothing(MODEL, dir.resolve("missing"), "--grayscale");
        assertTrue(m.contains("missing: no such file or folder"), m);

        Path twins = Files.createDirectories(dir.resolve("twins"));
        Files.copy(IMAGES.resolve("digit0_test695.png"), twins.resolve("a.png"));
        Files.copy(IMAGES.resolve("digit0_test695.png"), twins.resolve("a.jpg"));
        m = failsWritingNothing(MODEL, twins, "--grayscale");
        assertTrue(m.contains("would both write the heatmap a.png"), m);

        Path gridName = Files.createDirectories(dir.resolve("gridname"));
        Files.copy(IMAGES.resolve("digit0_test695.png"), gridName.resolve("grid.png"));
        m = failsWritingNothing(MODEL, gridName, "--grayscale");
        assertTrue(m.contains("grid.png, which --grid writes"), m);
    }

    @Test
    void imagesThatDoNotFitTheModelSayWhichOptionsToUse() throws IOException {
        String m = failsWritingNothing(MODEL, IMAGES);
        assertTrue(m.contains("[1, 8, 8]") && m.contains("[3, 8, 8]") && m.contains("add --grayscale"), m);
        m = failsWritingNothing(MODEL, IMAGES, "--grayscale", "--resize", "16");
        assertTrue(m.contains("[1, 8, 8]") && m.contains("[1, 16, 16]") && m.contains("--resize 8 --crop 8"), m);
        m = failsWritingNothing(tinyModel().toString(), grayPng("wide.png", 4, 0, 1, 2, 3), "--grayscale");
        assertTrue(m.contains("[3]") && m.contains("[1, 1, 4]"), m);
    }
}
