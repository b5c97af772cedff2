package org.gpulrp.io.image;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import javax.imageio.ImageIO;
import org.gpulrp.InvalidArgumentException;
import org.gpulrp.InvalidInputException;
import org.gpulrp.ShapeMismatchException;
import org.gpulrp.Tensor;
import org.gpulrp.io.AtomicFiles;

/**
 * Relevance as pictures: one heatmap per sample (relevance summed over channels, divided by that sample's
 * max |R| so that the strongest pixel reaches the palette's end and zero stays at its centre), blended over the
 * input, laid out in a grid, written as PNG.
 */
public final class Heatmaps {
    /** The padding colour of {@link #grid(List, int, int)}: white. */
    public static final int GRID_BACKGROUND = 0xffffff;

    private Heatmaps() {
    }

    /**
     * The heatmap of sample {@code sample}: {@code R[y][x] = sum_c relevance[sample][c][y][x]} (channels added in
     * order, in double), coloured at {@code R / max|R|}. An all-zero map is the palette's centre colour.
     *
     * @param relevance {@code [N, C, H, W]} or {@code [N, H, W]}
     * @throws InvalidInputException if the sample holds NaN or infinite relevance
     */
    public static BufferedImage render(Tensor relevance, int sample, Palette palette) {
        int[] s = relevance.shape();
        if (s.length != 3 && s.length != 4) {
            throw new ShapeMismatchException("relevance for a heatmap", "[N, C, H, W] or [N, H, W]",
                    Arrays.toString(s) + "; reshape it with new Tensor(r.toArray(), n, c, h, w)");
        }
        InvalidArgumentException.check(sample >= 0 && sample < s[0], "sample",
                "must be in [0, " + s[0] + "), got " + sample);
        int c = s.length == 4 ? s[1] : 1;
        int h = s[s.length - 2];
        int w = s[s.length - 1];
        float[] r = relevance.row(sample);
        double[] sum = new double[h * w];
        double max = 0;
        for (int k = 0; k < h * w; k++) {
            double acc = 0;
            for (int ch = 0; ch < c; ch++) {
                float v = r[ch * h * w + k];
                if (!Float.isFinite(v)) {
                    throw new InvalidInputException("relevance of sample " + sample + " is " + v + " at channel "
                            + ch + ", pixel (" + k % w + ", " + k / w + "); a heatmap needs finite values",
                            sample, ch * h * w + k);
                }
                acc += v;
            }
            sum[k] = acc;
            max = Math.max(max, Math.abs(acc));
        }
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        int[] rgb = new int[h * w];
        for (int k = 0; k < rgb.length; k++) {
            rgb[k] = palette.rgb(max == 0 ? 0 : sum[k] / max);
        }
        img.setRGB(0, 0, w, h, rgb, 0, w);
        return img;
    }

    /** One heatmap per sample of the batch. */
    public static List<BufferedImage> renderAll(Tensor relevance, Palette palette) {
        List<BufferedImage> out = new ArrayList<>();
        for (int n = 0; n < relevance.rows(); n++) {
            out.add(render(relevance, n, palette));
        }
        return out;
    }

    /**
     * {@code alpha * heat + (1 - alpha) * input} per channel, rounded to the nearest integer (halves up).
     *
     * @param alpha the heatmap's weight, in [0, 1]
     */
    public static BufferedImage blend(BufferedImage heat, BufferedImage input, double alpha) {
        InvalidArgumentException.check(alpha >= 0 && alpha <= 1, "alpha", "must be in [0, 1], got " + alpha);
        int w = heat.getWidth();
        int h = heat.getHeight();
        if (input.getWidth() != w || input.getHeight() != h) {
            throw new ShapeMismatchException("blend input", w + "x" + h + " like the heatmap",
                    input.getWidth() + "x" + input.getHeight()
                            + "; use the preprocessed image (Images.Batch.images())");
        }
        int[] a = heat.getRGB(0, 0, w, h, null, 0, w);
        int[] b = input.getRGB(0, 0, w, h, null, 0, w);
        int[] out = new int[a.length];
        for (int k = 0; k < a.length; k++) {
            int v = 0;
            for (int shift = 16; shift >= 0; shift -= 8) {
                double x = alpha * (a[k] >> shift & 0xff) + (1 - alpha) * (b[k] >> shift & 0xff);
                v |= (int) Math.floor(x + 0.5) << shift;
            }
            out[k] = v;
        }
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        img.setRGB(0, 0, w, h, out, 0, w);
        return img;
    }

    /**
     * The tiles in rows of {@code min(columns, tiles)}, in order, with {@code padding} white pixels around and
     * between them; cells after the last tile stay white. Every tile must have the first tile's size.
     */
    public static BufferedImage grid(List<BufferedImage> tiles, int columns, int padding) {
        InvalidArgumentException.check(!tiles.isEmpty(), "tiles", "no images to lay out");
        InvalidArgumentException.check(columns >= 1, "columns", "must be >= 1, got " + columns);
        InvalidArgumentException.check(padding >= 0, "padding", "must be >= 0, got " + padding);
        int tw = tiles.get(0).getWidth();
        int th = tiles.get(0).getHeight();
        int cols = Math.min(columns, tiles.size());
        int rows = (tiles.size() + cols - 1) / cols;
        int width = Math.addExact(Math.multiplyExact(cols, tw), Math.multiplyExact(cols + 1, padding));
        int height = Math.addExact(Math.multiplyExact(rows, th), Math.multiplyExact(rows + 1, padding));
        BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        int[] background = new int[width];
        Arrays.fill(background, GRID_BACKGROUND);
        for (int y = 0; y < height; y++) {
            img.setRGB(0, y, width, 1, background, 0, width);
        }
        for (int i = 0; i < tiles.size(); i++) {
            BufferedImage t = tiles.get(i);
            if (t.getWidth() != tw || t.getHeight() != th) {
                throw new ShapeMismatchException("grid tile " + i, tw + "x" + th + " like tile 0",
                        t.getWidth() + "x" + t.getHeight());
            }
            int x0 = padding + (i % cols) * (tw + padding);
            int y0 = padding + (i / cols) * (th + padding);
            img.setRGB(x0, y0, tw, th, t.getRGB(0, 0, tw, th, null, 0, tw), 0, tw);
        }
        return img;
    }

    /** Writes {@code img} as a PNG, whole or not at all (temporary file, then rename); creates missing folders. */
    public static void writePng(BufferedImage img, Path file) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try {
            if (!ImageIO.write(img, "png", bytes)) {
                throw new IllegalStateException("no PNG writer in javax.imageio");
            }
            Path parent = file.toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        }
        AtomicFiles.write(file, bytes.toByteArray());
    }
}
