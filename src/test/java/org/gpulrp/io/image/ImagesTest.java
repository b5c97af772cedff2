package org.gpulrp.io.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import javax.imageio.ImageIO;
import org.gpulrp.InvalidArgumentException;
import org.gpulrp.ShapeMismatchException;
import org.gpulrp.Tensor;
import org.gpulrp.io.FormatException;
import org.gpulrp.io.Npy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reading images: exact PNG values, JPEG within tolerance, Pillow-identical resize and crop, the error cases. */
class ImagesTest {
    private static final double[] IMAGENET_MEAN = {0.485, 0.456, 0.406};
    private static final double[] IMAGENET_STD = {0.229, 0.224, 0.225};

    @TempDir
    Path tmp;

    static Path resource(String name) {
        try {
            return Path.of(ImagesTest.class.getResource("/images/" + name).toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The pixel formula of scripts/make_image_fixtures.py. */
    static int[] known(int x, int y) {
        return new int[] {10 + 40 * x + 7 * y, 200 - 30 * y - 5 * x, 3 + 40 * x + 50 * y};
    }

    private static void assertKnownNormalized(Tensor t, double[] mean, double[] std) {
        assertArrayEquals(new int[] {1, 3, 3, 4}, t.shape());
        float[] d = t.toArray();
        for (int c = 0; c < 3; c++) {
            for (int y = 0; y < 3; y++) {
                for (int x = 0; x < 4; x++) {
                    double expected = (known(x, y)[c] / 255.0 - mean[c]) / std[c];
                    assertEquals(expected, d[(c * 3 + y) * 4 + x], 1e-5, "c" + c + " y" + y + " x" + x);
                }
            }
        }
    }

    @Test
    void pngValuesAreScaledAndNormalizedPerChannel() {
        Preprocess p = new Preprocess(0, 0, new float[] {0.485f, 0.456f, 0.406f},
                new float[] {0.229f, 0.224f, 0.225f}, false);
        assertKnownNormalized(Images.load(List.of(resource("known_4x3.png")), p), IMAGENET_MEAN, IMAGENET_STD);
        assertKnownNormalized(Images.load(resource("known_4x3.png"), Preprocess.none()), new double[3],
                new double[] {1, 1, 1});
    }

    @Test
    void alphaIsIgnoredAndPalettesAreExpanded() {
        Tensor plain = Images.load(resource("known_4x3.png"), Preprocess.none());
        assertArrayEquals(plain.toArray(), Images.load(resource("known_4x3_rgba.png"), Preprocess.none()).toArray());
        assertArrayEquals(plain.toArray(), Images.load(resource("known_4x3_palette.png"), Preprocess.none()).toArray());
    }

    @Test
    void jpegDecodesWithinTwoLevels() {
        Tensor t = Images.load(resource("blocks_16x8.jpg"), Preprocess.none());
        assertArrayEquals(new int[] {1, 3, 8, 16}, t.shape());
        int[][] colours = {{200, 40, 90}, {30, 160, 220}};
        float[] d = t.toArray();
        for (int c = 0; c < 3; c++) {
            for (int y = 0; y < 8; y++) {
                for (int x = 0; x < 16; x++) {
                    assertEquals(colours[x / 8][c] / 255.0, d[(c * 8 + y) * 16 + x], 2.0 / 255 + 1e-6);
                }
            }
        }
    }

    @Test
    void grayscaleIsPillowsLConversion() {
        Preprocess gray = Preprocess.none().withGrayscale(true);
        float[] d = Images.load(resource("known_4x3.png"), gray).toArray();
        for (int y = 0; y < 3; y++) {
            for (int x = 0; x < 4; x++) {
                int[] v = known(x, y);
                // ITU-R 601-2 luma, rounded as Pillow does; matches R*299/1000 + G*587/1000 + B*114/1000 within 1
                int l = (int) Math.floor(v[0] * 0.299 + v[1] * 0.587 + v[2] * 0.114 + 0.5);
                assertEquals(l / 255.0, d[y * 4 + x], 1e-6, "x" + x + " y" + y);
            }
        }
        // a gray PNG: one channel as stored (no gamma), and three equal channels for RGB models
        Tensor g1 = Images.load(resource("gray_4x3.png"), gray);
        Tensor g3 = Images.load(resource("gray_4x3.png"), Preprocess.none());
        assertArrayEquals(new int[] {1, 1, 3, 4}, g1.shape());
        assertArrayEquals(new int[] {1, 3, 3, 4}, g3.shape());
        for (int y = 0; y < 3; y++) {
            for (int x = 0; x < 4; x++) {
                double v = (20 * x + 70 * y + 5) / 255.0;
                assertEquals(v, g1.toArray()[y * 4 + x], 1e-6);
                for (int c = 0; c < 3; c++) {
                    assertEquals(v, g3.toArray()[(c * 3 + y) * 4 + x], 1e-6);
                }
            }
        }
    }

    @Test
    void resizeKeepsAspectAndTruncatesTheLongSide() {
        assertArrayEquals(new int[] {21, 16}, Images.resizedSize(40, 30, 16));
        assertArrayEquals(new int[] {16, 21}, Images.resizedSize(30, 40, 16));
        assertArrayEquals(new int[] {60, 45}, Images.resizedSize(40, 30, 45));
        assertArrayEquals(new int[] {256, 341}, Images.resizedSize(375, 500, 256));
        assertArrayEquals(new int[] {7, 7}, Images.resizedSize(5, 5, 7));
        Tensor t = Images.load(resource("photo_40x30.png"), Preprocess.none().withResize(16));
        assertArrayEquals(new int[] {1, 3, 16, 21}, t.shape());
    }

    /** Shrinking (antialiased) and enlarging, each with a crop whose left offset is a half rounded to even. */
    @Test
    void resizeAndCropMatchPillowAndTorchvisionBitForBit() {
        float[] mean = {0.485f, 0.456f, 0.406f};
        float[] std = {0.229f, 0.224f, 0.225f};
        assertBits("photo_r16_c12_imagenet.npy", new Preprocess(16, 12, mean, std, false));
        assertBits("photo_r45_c9_imagenet.npy", new Preprocess(45, 9, mean, std, false));
        assertBits("photo_gray_r16_c12.npy", new Preprocess(16, 12, new float[] {0.5f}, new float[] {0.25f}, true));
    }

    private static void assertBits(String npy, Preprocess p) {
        Npy.Array expected = Npy.read(resource(npy));
        Tensor t = Images.load(resource("photo_40x30.png"), p);
        assertArrayEquals(expected.shape(), t.shape(), npy);
        float[] a = t.toArray();
        for (int k = 0; k < a.length; k++) {
            assertEquals(Float.floatToRawIntBits(expected.data()[k]), Float.floatToRawIntBits(a[k]),
                    npy + " index " + k + ": " + expected.data()[k] + " vs " + a[k]);
        }
    }

    @Test
    void cropTakesTheCentreWithHalfToEvenOffsets() throws IOException {
        // 7 wide, 4 high, each pixel's red = 10 * x + y: crop 2 -> left round(2.5) = 2, top round(1.0) = 1
        BufferedImage img = new BufferedImage(7, 4, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 4; y++) {
            for (int x = 0; x < 7; x++) {
                img.setRGB(x, y, (10 * x + y) << 16);
            }
        }
        Path f = tmp.resolve("c.png");
        ImageIO.write(img, "png", f.toFile());
        float[] d = Images.load(f, Preprocess.none().withCrop(2)).toArray();
        assertEquals(21 / 255.0, d[0], 1e-7);
        assertEquals(31 / 255.0, d[1], 1e-7);
        assertEquals(22 / 255.0, d[2], 1e-7);
        assertEquals(32 / 255.0, d[3], 1e-7);
        // crop 3: left round(2.0) = 2, top round(0.5) = 0
        float[] e = Images.load(f, Preprocess.none().withCrop(3)).toArray();
        assertEquals(20 / 255.0, e[0], 1e-7);
    }

    @Test
    void batchKeepsOrderAndPreviewsWhatTheModelSees() {
        List<Path> files = List.of(resource("known_4x3.png"), resource("gray_4x3.png"));
        Images.Batch b = Images.read(files, Preprocess.none());
        assertArrayEquals(new int[] {2, 3, 3, 4}, b.tensor().shape());
        assertEquals("known_4x3", b.name(0));
        BufferedImage preview = b.images().get(0);
        assertEquals(4, preview.getWidth());
        int[] v = known(3, 2);
        assertEquals(v[0] << 16 | v[1] << 8 | v[2], preview.getRGB(3, 2) & 0xffffff);
        assertEquals(5 + 20 + 140, b.images().get(1).getRGB(1, 2) & 0xff);
    }

    @Test
    void listSortsImageFilesByNameAndSkipsOthers() throws IOException {
        for (String n : List.of("b.PNG", "a.jpg", "c.jpeg", "notes.txt", ".hidden.png")) {
            Files.write(tmp.resolve(n), new byte[] {1});
        }
        Files.createDirectory(tmp.resolve("d.png"));
        List<String> names = Images.list(tmp).stream().map(p -> p.getFileName().toString()).toList();
        assertEquals(List.of("a.jpg", "b.PNG", "c.jpeg"), names);
        assertEquals(List.of(tmp.resolve("notes.txt")), Images.list(tmp.resolve("notes.txt")));
    }

    @Test
    void emptyFolderAndMissingPathsAreRefused() throws IOException {
        Path empty = Files.createDirectory(tmp.resolve("empty"));
        Files.write(empty.resolve("readme.txt"), new byte[] {1});
        InvalidArgumentException e = assertThrows(InvalidArgumentException.class, () -> Images.list(empty));
        assertTrue(e.getMessage().contains("holds no .png"), e.getMessage());
        Path missing = tmp.resolve("missing.png");
        e = assertThrows(InvalidArgumentException.class, () -> Images.list(missing));
        assertTrue(e.getMessage().contains(missing.toString()), e.getMessage());
        e = assertThrows(InvalidArgumentException.class, () -> Images.load(List.of(missing), Preprocess.none()));
        assertTrue(e.getMessage().contains("no such file: " + missing), e.getMessage());
        assertThrows(InvalidArgumentException.class, () -> Images.load(List.of(), Preprocess.none()));
    }

    @Test
    void filesThatAreNotImagesAreNamed() throws IOException {
        Path text = tmp.resolve("fake.png");
        Files.writeString(text, "not an image at all");
        FormatException e = assertThrows(FormatException.class, () -> Images.load(text, Preprocess.none()));
        assertTrue(e.getMessage().startsWith(text.toString()), e.getMessage());
        byte[] png = Files.readAllBytes(resource("photo_40x30.png"));
        Path truncated = tmp.resolve("truncated.png");
        Files.write(truncated, Arrays.copyOf(png, png.length / 2));
        e = assertThrows(FormatException.class, () -> Images.load(truncated, Preprocess.none()));
        assertTrue(e.getMessage().startsWith(truncated.toString()), e.getMessage());
    }

    @Test
    void differentSizesWithoutCropAreRefusedNamingBoth() {
        Path a = resource("known_4x3.png");
        Path b = resource("blocks_16x8.jpg");
        ShapeMismatchException e = assertThrows(ShapeMismatchException.class,
                () -> Images.load(List.of(a, b), Preprocess.none()));
        assertTrue(e.getMessage().contains(a.toString()) && e.getMessage().contains(b.toString()), e.getMessage());
        // with a crop they agree
        assertArrayEquals(new int[] {2, 3, 3, 3}, Images.load(List.of(a, b), Preprocess.none().withCrop(3)).shape());
    }

    @Test
    void cropLargerThanTheImageIsRefused() {
        InvalidArgumentException e = assertThrows(InvalidArgumentException.class,
                () -> Images.load(resource("known_4x3.png"), Preprocess.none().withCrop(4)));
        assertTrue(e.getMessage().contains("known_4x3.png") && e.getMessage().contains("4x3"), e.getMessage());
    }

    @Test
    void preprocessChecksItsParameters() {
        assertThrows(InvalidArgumentException.class, () -> Preprocess.imagenet().withGrayscale(true));
        assertThrows(InvalidArgumentException.class, () -> Preprocess.none().withResize(-1));
        assertThrows(InvalidArgumentException.class, () -> Preprocess.none().withCrop(-2));
        assertThrows(InvalidArgumentException.class,
                () -> Preprocess.none().withNormalization(new float[] {0}, new float[] {0}));
        assertThrows(InvalidArgumentException.class,
                () -> Preprocess.none().withNormalization(new float[] {0, 0}, new float[] {1}));
        assertThrows(InvalidArgumentException.class,
                () -> Preprocess.none().withNormalization(new float[] {Float.NaN}, new float[] {1}));
        Preprocess p = Preprocess.imagenet();
        assertEquals(256, p.resize());
        assertEquals(224, p.crop());
        assertEquals(3, p.channels());
        assertEquals(p, Preprocess.imagenet());
        float[] m = p.mean();
        m[0] = 9;
        assertEquals(0.485f, p.mean()[0]);
        assertEquals(new Preprocess(8, 8, new float[] {0}, new float[] {1}, false), Preprocess.none(8));
    }
}
