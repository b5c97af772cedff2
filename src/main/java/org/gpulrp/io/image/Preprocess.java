package org.gpulrp.io.image;

import java.util.Arrays;
import org.gpulrp.InvalidArgumentException;

/**
 * How an image becomes model input, in torchvision's order: {@code Resize(resize)} (the shorter side to
 * {@code resize} pixels, the longer side {@code int(resize * long / short)}, Pillow's bilinear filter), then
 * {@code CenterCrop(crop)}, then {@code ToTensor} (8-bit value / 255) and {@code Normalize(mean, std)} per channel.
 *
 * @param resize    the shorter side after resizing, or 0 to keep the decoded size
 * @param crop      the side of the square centre crop, or 0 for no crop
 * @param mean      per-channel mean subtracted after scaling to [0, 1]; one value per channel, or one for all
 * @param std       per-channel divisor (positive); one value per channel, or one for all
 * @param grayscale one channel, converted as Pillow's {@code convert("L")}; otherwise three channels, RGB
 */
public record Preprocess(int resize, int crop, float[] mean, float[] std, boolean grayscale) {
    private static final float[] IMAGENET_MEAN = {0.485f, 0.456f, 0.406f};
    private static final float[] IMAGENET_STD = {0.229f, 0.224f, 0.225f};

    /** Checks every parameter and copies the arrays. */
    public Preprocess {
        InvalidArgumentException.check(resize >= 0, "resize", "must be >= 0 (0 keeps the size), got " + resize);
        InvalidArgumentException.check(crop >= 0, "crop", "must be >= 0 (0 means no crop), got " + crop);
        InvalidArgumentException.check(mean != null && std != null, "mean/std", "must not be null");
        int channels = grayscale ? 1 : 3;
        InvalidArgumentException.check(mean.length == 1 || mean.length == channels, "mean",
                "needs 1 or " + channels + " values for " + (grayscale ? "grayscale" : "RGB") + " images, got "
                        + mean.length);
        InvalidArgumentException.check(std.length == 1 || std.length == channels, "std",
                "needs 1 or " + channels + " values for " + (grayscale ? "grayscale" : "RGB") + " images, got "
                        + std.length);
        for (float m : mean) {
            InvalidArgumentException.check(Float.isFinite(m), "mean", "must be finite, got " + Arrays.toString(mean));
        }
        for (float s : std) {
            InvalidArgumentException.check(s > 0 && Float.isFinite(s), "std",
                    "must be positive and finite, got " + Arrays.toString(std));
        }
        mean = mean.clone();
        std = std.clone();
    }

    /**
     * torchvision's ImageNet recipe: Resize(256), CenterCrop(224), mean (0.485, 0.456, 0.406), std (0.229, 0.224,
     * 0.225), RGB.
     */
    public static Preprocess imagenet() {
        return new Preprocess(256, 224, IMAGENET_MEAN, IMAGENET_STD, false);
    }

    /** The decoded pixels as they are, scaled to [0, 1], RGB: no resize, no crop, mean 0, std 1. */
    public static Preprocess none() {
        return new Preprocess(0, 0, new float[] {0f}, new float[] {1f}, false);
    }

    /** Resize(size) and CenterCrop(size), scaled to [0, 1], no normalization. */
    public static Preprocess none(int size) {
        InvalidArgumentException.check(size > 0, "size", "must be > 0, got " + size);
        return new Preprocess(size, size, new float[] {0f}, new float[] {1f}, false);
    }

    public Preprocess withResize(int newResize) {
        return new Preprocess(newResize, crop, mean, std, grayscale);
    }

    public Preprocess withCrop(int newCrop) {
        return new Preprocess(resize, newCrop, mean, std, grayscale);
    }

    public Preprocess withNormalization(float[] newMean, float[] newStd) {
        return new Preprocess(resize, crop, newMean, newStd, grayscale);
    }

    /** Switching to grayscale needs a mean and std of one value (or set them in the same step with the constructor). */
    public Preprocess withGrayscale(boolean newGrayscale) {
        return new Preprocess(resize, crop, mean, std, newGrayscale);
    }

    /** 1 for grayscale, 3 for RGB. */
    public int channels() {
        return grayscale ? 1 : 3;
    }

    @Override
    public float[] mean() {
        return mean.clone();
    }

    @Override
    public float[] std() {
        return std.clone();
    }

    /**
     * Where pixels in [0, 1] land after the normalization: per channel {@code low = (0 - mean) / std} and
     * {@code high = (1 - mean) / std}, computed in float exactly as the images are normalized, so that they bound the
     * model input (e.g. as ZBox's bounds). One value per channel, or one for all when the mean and std are one value.
     */
    public Range inputRange() {
        int n = mean.length == 1 && std.length == 1 ? 1 : channels();
        float[] low = new float[n];
        float[] high = new float[n];
        for (int c = 0; c < n; c++) {
            low[c] = (0f - meanOf(c)) / stdOf(c);
            high[c] = (1f - meanOf(c)) / stdOf(c);
        }
        return new Range(low, high);
    }

    /**
     * The per-channel range of the normalized input, see {@link #inputRange()}.
     *
     * @param low  the lowest value per channel
     * @param high the highest value per channel
     */
    public record Range(float[] low, float[] high) {
        public Range {
            low = low.clone();
            high = high.clone();
        }

        @Override
        public float[] low() {
            return low.clone();
        }

        @Override
        public float[] high() {
            return high.clone();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Range r && Arrays.equals(low, r.low) && Arrays.equals(high, r.high);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(low) * 31 + Arrays.hashCode(high);
        }

        @Override
        public String toString() {
            return "low " + Arrays.toString(low) + ", high " + Arrays.toString(high);
        }
    }

    float meanOf(int channel) {
        return mean[mean.length == 1 ? 0 : channel];
    }

    float stdOf(int channel) {
        return std[std.length == 1 ? 0 : channel];
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Preprocess p && resize == p.resize && crop == p.crop && grayscale == p.grayscale
                && Arrays.equals(mean, p.mean) && Arrays.equals(std, p.std);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(new int[] {resize, crop, Arrays.hashCode(mean), Arrays.hashCode(std),
            grayscale ? 1 : 0});
    }

    @Override
    public String toString() {
        return "Preprocess[resize=" + resize + ", crop=" + crop + ", mean=" + Arrays.toString(mean) + ", std="
                + Arrays.toString(std) + ", grayscale=" + grayscale + "]";
    }
}
