package org.gpulrp.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.gpulrp.io.image.Preprocess;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Option;
import picocli.CommandLine.TypeConversionException;

/**
 * The preprocessing preset and its per-channel normalization ({@code --preprocess}, {@code --mean}, {@code --std}),
 * mixed in with {@code @Mixin}: by {@link ImageOptions} (how images become input) and by {@code gpulrp info} (where
 * they only give a {@code zbox} without bounds its bounds).
 */
final class NormalizationOptions {
    @Option(names = "--preprocess", paramLabel = "none|imagenet", converter = PresetConverter.class,
            description = "Image preprocessing preset: none (default: decoded size, RGB, value/255) or imagenet "
                    + "(resize 256, crop 224, ImageNet mean/std, RGB). --mean and --std (and for images --resize, "
                    + "--crop) override parts of it. Its normalization of [0, 1] also gives zbox and "
                    + "epsilon-gamma-box without LOW,HIGH their per-channel bounds.")
    Preset preset;

    @Option(names = "--mean", paramLabel = "A[,B,C]", converter = Floats.class,
            description = "Subtracted per channel after scaling to [0, 1] (one value, or one per channel).")
    Values mean;

    @Option(names = "--std", paramLabel = "A[,B,C]", converter = Floats.class,
            description = "Then divided per channel (one value, or one per channel).")
    Values std;

    /** Comma-separated numbers (a holder, so that picocli takes the option once rather than as a list). */
    record Values(float[] values) {
    }

    /** The preprocessing presets. */
    enum Preset { NONE, IMAGENET }

    /** Whether any of the three options was given. */
    boolean given() {
        return firstGiven() != null;
    }

    /** The first of the options given, or null. */
    String firstGiven() {
        return preset != null ? "--preprocess" : mean != null ? "--mean" : std != null ? "--std" : null;
    }

    /** The preset, {@link Preprocess#none()} when none was given (without the overrides). */
    Preprocess base() {
        return preset == Preset.IMAGENET ? Preprocess.imagenet() : Preprocess.none();
    }

    /** The preset's mean, or {@code --mean}. */
    float[] meanOrBase() {
        return mean != null ? mean.values() : base().mean();
    }

    /** The preset's std, or {@code --std}. */
    float[] stdOrBase() {
        return std != null ? std.values() : base().std();
    }

    /**
     * The preset with {@code --mean} and {@code --std} on top (RGB, the preset's resize and crop), or null when none
     * of the options was given.
     *
     * @throws org.gpulrp.InvalidArgumentException when the values do not fit (e.g. two means)
     */
    Preprocess normalizationOrNull() {
        if (!given()) {
            return null;
        }
        return base().withNormalization(meanOrBase(), stdOrBase());
    }

    /** The options as given, e.g. {@code --preprocess imagenet --std 0.5}, or {@code default} when none was. */
    String source() {
        List<String> s = new ArrayList<>();
        if (preset != null) {
            s.add("--preprocess " + preset.name().toLowerCase(Locale.ROOT));
        }
        if (mean != null) {
            s.add("--mean " + join(mean.values()));
        }
        if (std != null) {
            s.add("--std " + join(std.values()));
        }
        return s.isEmpty() ? "the default --preprocess none" : String.join(" ", s);
    }

    private static String join(float[] v) {
        StringBuilder b = new StringBuilder();
        for (float f : v) {
            b.append(b.length() == 0 ? "" : ",").append(f);
        }
        return b.toString();
    }

    /** {@code none|imagenet}. */
    static final class PresetConverter extends Converters.Named<Preset> {
        PresetConverter() {
            super(Preset.class, "preset");
        }
    }

    /** Comma-separated finite numbers. */
    static final class Floats implements ITypeConverter<Values> {
        @Override
        public Values convert(String v) {
            String[] parts = v.split(",", -1);
            float[] out = new float[parts.length];
            for (int i = 0; i < parts.length; i++) {
                try {
                    out[i] = Float.parseFloat(parts[i].strip());
                } catch (NumberFormatException e) {
                    throw new TypeConversionException("'" + v + "': '" + parts[i].strip() + "' is not a number; "
                            + "expected comma-separated numbers such as 0.485,0.456,0.406");
                }
                if (!Float.isFinite(out[i])) {
                    throw new TypeConversionException("'" + v + "': values must be finite");
                }
            }
            return new Values(out);
        }
    }
}
