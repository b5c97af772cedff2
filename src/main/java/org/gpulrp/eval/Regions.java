package org.gpulrp.eval;

import java.util.Arrays;
import org.gpulrp.InvalidArgumentException;
import org.gpulrp.ShapeMismatchException;
import org.gpulrp.model.TokenInput;

/**
 * How a sample's features group into the regions that are removed together (docs/DESIGN.md section 2.10): one feature
 * per region for tabular inputs ({@link #features}), a grid of non-overlapping P x P patches over all channels for
 * images ({@link #patches}; the last row and column of patches are smaller where P does not divide the size), one
 * token per region for token models ({@link #tokens}; the mask and token-type blocks belong to no region, and a
 * sample's regions are only its real tokens, the positions its attention mask keeps: {@link #present}). A region's
 * score is the sum of its features' relevance.
 */
public final class Regions {
    /** Each feature's region, or -1 for a feature that is never replaced. */
    private final int[] regionOf;
    private final int count;
    private final String description;
    /** Where region p's attention-mask value lies in a sample ({@code maskAt + p}), or -1: every region is real. */
    private final int maskAt;

    private Regions(int[] regionOf, int count, String description, int maskAt) {
        this.regionOf = regionOf;
        this.count = count;
        this.description = description;
        this.maskAt = maskAt;
    }

    /** One region per feature of a sample of {@code features} values. */
    public static Regions features(int features) {
        InvalidArgumentException.check(features >= 1, "features", "must be >= 1, got " + features);
        int[] r = new int[features];
        for (int i = 0; i < features; i++) {
            r[i] = i;
        }
        return new Regions(r, features, features + " features", -1);
    }

    /**
     * Patches of {@code patch x patch} pixels of an image {@code [channels, height, width]}, numbered row by row; a
     * patch spans all channels. Where {@code patch} does not divide the height or width, the last patches of a row or
     * column are smaller ({@code size % patch} pixels).
     */
    public static Regions patches(int[] imageShape, int patch) {
        if (imageShape.length != 3) {
            throw new ShapeMismatchException("input for image patches", "an image [channels, height, width]",
                    Arrays.toString(imageShape));
        }
        int c = imageShape[0];
        int h = imageShape[1];
        int w = imageShape[2];
        InvalidArgumentException.check(patch >= 1, "patch", "must be >= 1, got " + patch);
        InvalidArgumentException.check(patch <= Math.min(h, w), "patch", patch + " is larger than the " + h + " x "
                + w + " image; choose at most " + Math.min(h, w));
        int across = (w + patch - 1) / patch;
        int down = (h + patch - 1) / patch;
        int[] r = new int[c * h * w];
        for (int ch = 0; ch < c; ch++) {
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    r[(ch * h + y) * w + x] = y / patch * across + x / patch;
                }
            }
        }
        return new Regions(r, across * down, down + " x " + across + " patches of " + patch + " x " + patch
                + " pixels", -1);
    }

    /**
     * One region per token position of a token model's ids block; its other blocks are never replaced. Where the
     * layout has an attention mask, a sample's regions are its real tokens only (mask not 0, {@link #present}):
     * padding is neither ranked nor replaced.
     */
    public static Regions tokens(TokenInput layout) {
        int[] r = new int[layout.sampleSize()];
        Arrays.fill(r, -1);
        int ids = layout.offset(TokenInput.IDS);
        for (int p = 0; p < layout.length(); p++) {
            r[ids + p] = p;
        }
        int mask = layout.offset(TokenInput.MASK);
        return new Regions(r, layout.length(), mask < 0 ? layout.length() + " tokens"
                : "real tokens (" + layout.length() + " positions)", mask);
    }

    /** Features per sample. */
    public int features() {
        return regionOf.length;
    }

    /** How many regions a sample has at most (for token models: the padded length). */
    public int count() {
        return count;
    }

    /**
     * The regions sample {@code sample} of {@code inputs} has, ascending: all of them, except for token models with an
     * attention mask, whose regions are the positions the sample's mask keeps (its real tokens).
     *
     * @param inputs the samples, {@code [samples, features]} row-major
     */
    public int[] present(float[] inputs, int sample) {
        int[] p = new int[count];
        int n = 0;
        int off = sample * regionOf.length;
        for (int k = 0; k < count; k++) {
            if (maskAt < 0 || inputs[off + maskAt + k] != 0) {
                p[n++] = k;
            }
        }
        return n == count ? p : Arrays.copyOf(p, n);
    }

    /** The fewest regions a sample of {@code inputs} has (see {@link #present}): the most steps they all allow. */
    public int fewest(float[] inputs) {
        int rows = inputs.length / regionOf.length;
        int m = count;
        for (int b = 0; b < rows && maskAt >= 0; b++) {
            m = Math.min(m, present(inputs, b).length);
        }
        return m;
    }

    /** E.g. {@code 2 x 2 patches of 4 x 4 pixels}. */
    public String describe() {
        return description;
    }

    /** The region of feature {@code i}, or -1 when it is never replaced. */
    public int regionOf(int i) {
        return regionOf[i];
    }

    /**
     * Each region's score for one sample: the sum of its relevance, in double, features in ascending order.
     *
     * @param relevance the relevance of all samples, {@code [samples, features]} row-major
     */
    public double[] scores(float[] relevance, int sample) {
        double[] s = new double[count];
        int off = sample * regionOf.length;
        for (int i = 0; i < regionOf.length; i++) {
            if (regionOf[i] >= 0) {
                s[regionOf[i]] += relevance[off + i];
            }
        }
        return s;
    }

    /** The features of each region, ascending. */
    int[][] members() {
        int[] n = new int[count];
        for (int r : regionOf) {
            if (r >= 0) {
                n[r]++;
            }
        }
        int[][] m = new int[count][];
        for (int k = 0; k < count; k++) {
            m[k] = new int[n[k]];
            n[k] = 0;
        }
        for (int i = 0; i < regionOf.length; i++) {
            int r = regionOf[i];
            if (r >= 0) {
                m[r][n[r]++] = i;
            }
        }
        return m;
    }
}
