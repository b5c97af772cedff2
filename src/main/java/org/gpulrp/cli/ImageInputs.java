package org.gpulrp.cli;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.gpulrp.LrpException;
import org.gpulrp.ShapeMismatchException;
import org.gpulrp.Tensor;
import org.gpulrp.io.image.Heatmaps;
import org.gpulrp.io.image.Images;
import org.gpulrp.io.image.Palette;
import org.gpulrp.io.image.Preprocess;

/** {@code gpulrp explain} with images: reading them as the model's input, and turning relevance into heatmaps. */
final class ImageInputs {
    /** The grid's file name inside the heatmap folder. */
    static final String GRID = "grid.png";
    /** White pixels around and between the grid's tiles. */
    static final int GRID_PADDING = 4;

    private ImageInputs() {
    }

    /** Whether {@code input} is read as images: anything but a {@code .npy} or {@code .csv} file. */
    static boolean isImageInput(Path input) {
        return DataFiles.format(input) == null;
    }

    /**
     * The image files of {@code input} (one file, or a folder's .png/.jpg/.jpeg files); when heatmaps will be
     * written, fails before any work if two images would get the same heatmap file or one would be the grid.
     */
    static List<Path> list(Path input, boolean heatmaps, boolean grid) {
        if (!Files.exists(input)) {
            throw new LrpException("--input " + input + ": no such file or folder");
        }
        List<Path> files = Images.list(input);
        if (heatmaps) {
            Map<String, Path> seen = new HashMap<>();
            for (Path f : files) {
                String name = heatmapName(f);
                Path other = seen.put(name.toLowerCase(Locale.ROOT), f);
                if (other != null) {
                    throw new LrpException("--input: " + other + " and " + f + " would both write the heatmap "
                            + name + "; rename one of them");
                }
                if (grid && name.equalsIgnoreCase(GRID)) {
                    throw new LrpException("--input: the heatmap of " + f + " would be " + GRID + ", which --grid "
                            + "writes; rename the image or drop --grid");
                }
            }
        }
        return files;
    }

    /** The heatmap file name of an image: its name with the extension replaced by .png. */
    static String heatmapName(Path image) {
        String n = image.getFileName().toString();
        int dot = n.lastIndexOf('.');
        return (dot > 0 ? n.substring(0, dot) : n) + ".png";
    }

    /**
     * Checks the images against the model's input shape; a mismatch names both shapes and the options that would
     * fix it. A model with a flat input of {@code C*H*W} features takes the images flattened in {@code C, H, W}
     * order.
     */
    static void check(Images.Batch b, Preprocess p, int[] modelInput) {
        int[] s = b.tensor().shape();
        int[] image = {s[1], s[2], s[3]};
        boolean flat = modelInput.length == 1 && modelInput[0] == s[1] * s[2] * s[3];
        if (!flat && !Arrays.equals(image, modelInput)) {
            throw new ShapeMismatchException("image input", "the model's input " + Arrays.toString(modelInput)
                    + " (channels, height, width)", Arrays.toString(image) + " after preprocessing"
                    + hint(modelInput, image, p));
        }
    }

    private static String hint(int[] model, int[] image, Preprocess p) {
        List<String> fix = new ArrayList<>();
        if (model.length != 3) {
            return "; the model does not take images of this size";
        }
        if (model[0] != image[0]) {
            fix.add(model[0] == 1 ? "add --grayscale" : model[0] == 3 && p.grayscale() ? "drop --grayscale"
                    : "the model takes " + model[0] + " channels, images give 1 (--grayscale) or 3");
        }
        if (model[1] != image[1] || model[2] != image[2]) {
            fix.add(model[1] == model[2] ? "use --resize " + model[1] + " --crop " + model[1]
                    : "the crop is square: resize the images to " + model[2] + "x" + model[1]
                            + " (width x height) beforehand");
        }
        return "; " + String.join(", ", fix);
    }

    /**
     * The heatmap files and their images, in batch order, grid last: each rendered from the sample's relevance
     * ({@code [N, C, H, W]} values in any shape of that size), blended over the image when asked, then enlarged.
     */
    static Map<Path, BufferedImage> heatmaps(Images.Batch b, Tensor relevance, ImageOptions o) {
        int[] s = b.tensor().shape();
        Tensor r = new Tensor(relevance.toArray(), s);
        Palette palette = o.paletteOrDefault();
        int up = o.upscaleOrDefault();
        Map<Path, BufferedImage> out = new LinkedHashMap<>();
        List<BufferedImage> tiles = new ArrayList<>();
        for (int n = 0; n < b.size(); n++) {
            BufferedImage h = Heatmaps.render(r, n, palette);
            if (o.blend != null) {
                h = Heatmaps.blend(h, b.images().get(n), o.blend);
            }
            h = upscale(h, up);
            tiles.add(h);
            out.put(o.heatmap.resolve(heatmapName(b.files().get(n))), h);
        }
        if (o.grid != null) {
            out.put(o.heatmap.resolve(GRID), Heatmaps.grid(tiles, o.grid, GRID_PADDING));
        }
        return out;
    }

    /** Each pixel as a {@code factor x factor} block (nearest neighbour); the image itself when factor is 1. */
    static BufferedImage upscale(BufferedImage img, int factor) {
        if (factor == 1) {
            return img;
        }
        int w = img.getWidth();
        int h = img.getHeight();
        int[] src = img.getRGB(0, 0, w, h, null, 0, w);
        int ww = Math.multiplyExact(w, factor);
        int hh = Math.multiplyExact(h, factor);
        int[] dst = new int[Math.multiplyExact(ww, hh)];
        for (int y = 0; y < hh; y++) {
            for (int x = 0; x < ww; x++) {
                dst[y * ww + x] = src[(y / factor) * w + x / factor];
            }
        }
        BufferedImage out = new BufferedImage(ww, hh, BufferedImage.TYPE_INT_RGB);
        out.setRGB(0, 0, ww, hh, dst, 0, ww);
        return out;
    }
}
