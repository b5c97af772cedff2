package org.gpulrp.io.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.gpulrp.InvalidArgumentException;
import org.gpulrp.InvalidInputException;
import org.gpulrp.ShapeMismatchException;
import org.gpulrp.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Heatmap pixels against the palette, channel sums, per-image normalization, blend, grid and PNG output. */
class HeatmapsTest {
    @TempDir
    Path tmp;

    private static int px(BufferedImage img, int x, int y) {
        return img.getRGB(x, y) & 0xffffff;
    }

    /** Sample 1 of a [2, 1, 2, 3] tensor holds -4, -2, 0, 1, 2, 4 (max |R| = 4); sample 0 is 100 times larger. */
    @Test
    void pixelsFollowThePaletteAtKnownRelevance() {
        float[] one = {-4, -2, 0, 1, 2, 4};
        float[] data = new float[12];
        for (int k = 0; k < 6; k++) {
            data[k] = 100 * one[k];
            data[6 + k] = one[k];
        }
        Tensor r = new Tensor(data, 2, 1, 2, 3);
        for (Palette p : Palette.values()) {
            BufferedImage img = Heatmaps.render(r, 1, p);
            assertEquals(3, img.getWidth());
            assertEquals(2, img.getHeight());
            assertEquals(p.rgb(-1), px(img, 0, 0), p + " at -max");
            assertEquals(p.rgb(-0.5), px(img, 1, 0), p + " at -max/2");
            assertEquals(p.rgb(0), px(img, 2, 0), p + " at 0");
            assertEquals(p.rgb(0.25), px(img, 0, 1), p + " at max/4");
            assertEquals(p.rgb(0.5), px(img, 1, 1), p + " at max/2");
            assertEquals(p.rgb(1), px(img, 2, 1), p + " at +max");
            // normalized per image: sample 0 renders the same colours
            BufferedImage big = Heatmaps.render(r, 0, p);
            for (int k = 0; k < 6; k++) {
                assertEquals(px(img, k % 3, k / 3), px(big, k % 3, k / 3));
            }
        }
        assertEquals(PaletteTest.rgb(255, 0, 0), px(Heatmaps.render(r, 1, Palette.BWR), 2, 1));
        assertEquals(PaletteTest.rgb(0, 0, 255), px(Heatmaps.render(r, 1, Palette.BWR), 0, 0));
    }

    @Test
    void channelsAreSummedBeforeNormalizing() {
        // [1, 3, 1, 2]: pixel 0 sums to 1 + 2 - 5 = -2, pixel 1 to 3 + 0 + 1 = 4
        Tensor r = new Tensor(new float[] {1, 3, 2, 0, -5, 1}, 1, 3, 1, 2);
        BufferedImage img = Heatmaps.render(r, 0, Palette.GRAY);
        assertEquals(Palette.GRAY.rgb(-0.5), px(img, 0, 0));
        assertEquals(Palette.GRAY.rgb(1), px(img, 1, 0));
        // [N, H, W] works as one channel
        BufferedImage flat = Heatmaps.render(new Tensor(new float[] {-2, 4}, 1, 1, 2), 0, Palette.GRAY);
        assertEquals(px(img, 0, 0), px(flat, 0, 0));
        assertEquals(px(img, 1, 0), px(flat, 1, 0));
    }

    @Test
    void allZeroRelevanceIsThePalettesCentre() {
        Tensor r = new Tensor(new float[8], 2, 1, 2, 2);
        for (Palette p : Palette.values()) {
            BufferedImage img = Heatmaps.render(r, 1, p);
            for (int k = 0; k < 4; k++) {
                assertEquals(p.centre(), px(img, k % 2, k / 2));
            }
        }
        assertEquals(2, Heatmaps.renderAll(r, Palette.BWR).size());
    }

    @Test
    void badRelevanceIsRefused() {
        Tensor nan = new Tensor(new float[] {0, Float.NaN, 1, 2}, 1, 1, 2, 2);
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> Heatmaps.render(nan, 0, Palette.BWR));
        assertEquals(1, e.feature());
        assertThrows(ShapeMismatchException.class,
                () -> Heatmaps.render(new Tensor(new float[4], 1, 4), 0, Palette.BWR));
        assertThrows(InvalidArgumentException.class,
                () -> Heatmaps.render(new Tensor(new float[4], 1, 2, 2), 1, Palette.BWR));
    }

    private static BufferedImage solid(int w, int h, int rgb) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                img.setRGB(x, y, rgb);
            }
        }
        return img;
    }

    @Test
    void blendMixesChannelsByAlpha() {
        BufferedImage heat = solid(2, 2, PaletteTest.rgb(200, 0, 101));
        BufferedImage input = solid(2, 2, PaletteTest.rgb(100, 50, 0));
        // 0.25 * heat + 0.75 * input: 125, 37.5 -> 38, 25.25 -> 25
        assertEquals(PaletteTest.rgb(125, 38, 25), px(Heatmaps.blend(heat, input, 0.25), 1, 1));
        assertEquals(PaletteTest.rgb(200, 0, 101), px(Heatmaps.blend(heat, input, 1), 0, 0));
        assertEquals(PaletteTest.rgb(100, 50, 0), px(Heatmaps.blend(heat, input, 0), 0, 0));
        assertThrows(InvalidArgumentException.class, () -> Heatmaps.blend(heat, input, 1.5));
        assertThrows(ShapeMismatchException.class, () -> Heatmaps.blend(heat, solid(3, 2, 0), 0.5));
    }

    @Test
    void gridPlacesTilesWithPadding() {
        List<BufferedImage> tiles = List.of(solid(3, 2, 0x110000), solid(3, 2, 0x002200), solid(3, 2, 0x000033));
        BufferedImage g = Heatmaps.grid(tiles, 2, 1);
        assertEquals(2 * 3 + 3 * 1, g.getWidth());
        assertEquals(2 * 2 + 3 * 1, g.getHeight());
        assertEquals(Heatmaps.GRID_BACKGROUND, px(g, 0, 0));
        assertEquals(0x110000, px(g, 1, 1));
        assertEquals(0x110000, px(g, 3, 2));
        assertEquals(Heatmaps.GRID_BACKGROUND, px(g, 4, 1)); // between the columns
        assertEquals(0x002200, px(g, 5, 1));
        assertEquals(Heatmaps.GRID_BACKGROUND, px(g, 1, 3)); // between the rows
        assertEquals(0x000033, px(g, 1, 4));
        assertEquals(Heatmaps.GRID_BACKGROUND, px(g, 5, 4)); // the empty cell
        // fewer tiles than columns: one row, as wide as the tiles need
        BufferedImage row = Heatmaps.grid(tiles, 8, 0);
        assertEquals(9, row.getWidth());
        assertEquals(2, row.getHeight());
        assertEquals(0x000033, px(row, 8, 1));
        assertThrows(ShapeMismatchException.class, () -> Heatmaps.grid(List.of(solid(3, 2, 0), solid(2, 2, 0)), 2, 1));
        assertThrows(InvalidArgumentException.class, () -> Heatmaps.grid(tiles, 0, 1));
        assertThrows(InvalidArgumentException.class, () -> Heatmaps.grid(List.of(), 2, 1));
    }

    @Test
    void writePngRoundTripsAndLeavesNoTemporaryFile() throws IOException {
        Tensor r = new Tensor(new float[] {-1, 0, 0.5f, 1}, 1, 1, 2, 2);
        BufferedImage img = Heatmaps.render(r, 0, Palette.COLDNHOT);
        Path file = tmp.resolve("out/sub/heat.png");
        Heatmaps.writePng(img, file);
        BufferedImage back = ImageIO.read(file.toFile());
        for (int k = 0; k < 4; k++) {
            assertEquals(px(img, k % 2, k / 2), px(back, k % 2, k / 2));
        }
        try (Stream<Path> s = Files.list(file.getParent())) {
            assertEquals(List.of(file), s.toList());
        }
        assertTrue(Files.size(file) > 0);
    }
}
