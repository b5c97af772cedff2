package org.gpulrp.cli;

import java.nio.file.Path;
import java.util.Locale;
import org.gpulrp.InvalidArgumentException;
import org.gpulrp.io.image.Palette;
import org.gpulrp.io.image.Preprocess;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.TypeConversionException;

/** {@code gpulrp explain}'s options for image inputs: preprocessing and how the heatmaps are drawn. */
final class ImageOptions {
    @Mixin
    NormalizationOptions normalization;

    @Option(names = "--resize", paramLabel = "N", converter = NonNegative.class,
            description = "Resize each image so that its shorter side is N pixels (bilinear; 0 keeps the size).")
    Integer resize;

    @Option(names = "--crop", paramLabel = "N", converter = NonNegative.class,
            description = "Then take the centre N x N square (0: no crop).")
    Integer crop;

    @Option(names = "--grayscale", description = "One gray channel (as Pillow's convert(\"L\")) instead of RGB.")
    boolean grayscale;

    @Option(names = "--heatmap", paramLabel = "DIR",
            description = "Write one heatmap per image as DIR/<image name>.png (image input only).")
    Path heatmap;

    @Option(names = "--palette", paramLabel = "bwr|coldnhot|seismic|gray", converter = PaletteConverter.class,
            description = "Heatmap colours (default bwr: blue negative, white zero, red "
                    + "positive).")
    Palette palette;

    @Option(names = "--blend", paramLabel = "ALPHA", converter = Alpha.class,
            description = "Draw the heatmap over the (preprocessed) input image with weight ALPHA in [0, 1] "
                    + "(default: the heatmap alone).")
    Double blend;

    @Option(names = "--grid", paramLabel = "COLUMNS", converter = Converters.Positive.class,
            description = "Also write DIR/grid.png: all heatmaps in rows of COLUMNS, in file-name order.")
    Integer grid;

    @Option(names = "--upscale", paramLabel = "N", converter = Converters.Positive.class,
            description = "Enlarge every heatmap N times (nearest neighbour, so each pixel becomes an N x N "
                    + "block), e.g. for small images (default 1).")
    Integer upscale;

    /** The first image-only option given, or null (they make no sense with a .npy or .csv input). */
    String firstImageOption() {
        return firstImageOption(true);
    }

    /**
     * As {@link #firstImageOption()}; without {@code normalization}, {@code --preprocess}, {@code --mean} and
     * {@code --std} are not counted (they also give the derived ZBox bounds).
     */
    String firstImageOption(boolean normalizationToo) {
        return firstImageOption(normalizationToo, true);
    }

    private String firstImageOption(boolean normalizationToo, boolean paletteToo) {
        String h = firstHeatmapOption(paletteToo);
        if (h != null) {
            return h;
        }
        String n = normalizationToo ? normalization.firstGiven() : null;
        if (n != null) {
            return n;
        }
        if (resize != null) {
            return "--resize";
        }
        if (crop != null) {
            return "--crop";
        }
        if (grayscale) {
            return "--grayscale";
        }
        return heatmap != null ? "--heatmap" : null;
    }

    /**
     * The first option given that text inputs cannot use, or null: all of them but {@code --palette}, which colours
     * the token heatmaps too.
     */
    String firstNonTextOption() {
        return firstImageOption(true, false);
    }

    /** The first option given that only matters for heatmaps, or null. */
    String firstHeatmapOption() {
        return firstHeatmapOption(true);
    }

    private String firstHeatmapOption(boolean paletteToo) {
        if (paletteToo && palette != null) {
            return "--palette";
        }
        if (blend != null) {
            return "--blend";
        }
        if (grid != null) {
            return "--grid";
        }
        return upscale != null ? "--upscale" : null;
    }

    /** The palette, bwr by default. */
    Palette paletteOrDefault() {
        return palette != null ? palette : Palette.BWR;
    }

    /** The enlargement, 1 by default. */
    int upscaleOrDefault() {
        return upscale != null ? upscale : 1;
    }

    /**
     * The preprocessing: the preset with the given options on top. {@code --grayscale} with the imagenet preset needs
     * {@code --mean} and {@code --std} (the preset's are per RGB channel).
     *
     * @throws InvalidArgumentException when the combination is invalid (e.g. three means for one gray channel)
     */
    Preprocess preprocess() {
        Preprocess base = normalization.base();
        float[] m = normalization.meanOrBase();
        float[] s = normalization.stdOrBase();
        if (grayscale && normalization.preset == NormalizationOptions.Preset.IMAGENET
                && (normalization.mean == null || normalization.std == null)) {
            throw new InvalidArgumentException("grayscale", "--preprocess imagenet has three means and stds (RGB); "
                    + "with --grayscale give one each with --mean and --std");
        }
        return new Preprocess(resize != null ? resize : base.resize(), crop != null ? crop : base.crop(), m, s,
                grayscale);
    }

    /** A palette name. */
    static final class PaletteConverter implements ITypeConverter<Palette> {
        @Override
        public Palette convert(String v) {
            try {
                return Palette.parse(v);
            } catch (InvalidArgumentException e) {
                throw new TypeConversionException(Converters.withoutParameter(e));
            }
        }
    }

    /** A count >= 0. */
    static final class NonNegative implements ITypeConverter<Integer> {
        @Override
        public Integer convert(String v) {
            int n;
            try {
                n = Integer.parseInt(v.strip());
            } catch (NumberFormatException e) {
                throw new TypeConversionException("'" + v + "' is not a whole number");
            }
            if (n < 0) {
                throw new TypeConversionException("must be >= 0, got " + n);
            }
            return n;
        }
    }

    /** A number in [0, 1]. */
    static final class Alpha implements ITypeConverter<Double> {
        @Override
        public Double convert(String v) {
            double a;
            try {
                a = Double.parseDouble(v.strip());
            } catch (NumberFormatException e) {
                throw new TypeConversionException("'" + v + "' is not a number");
            }
            if (!(a >= 0 && a <= 1)) {
                throw new TypeConversionException("must be in [0, 1] (the heatmap's weight), got " + v);
            }
            return a;
        }
    }
}
