package org.gpulrp.io.image;

import java.util.Locale;
import org.gpulrp.InvalidArgumentException;

/**
 * Diverging colour maps for relevance in [-1, 1] (negative, zero, positive): a colour is the linear interpolation
 * between the two nearest anchors, each channel rounded to the nearest integer (halves up).
 */
public enum Palette {
    /** matplotlib's {@code bwr}: blue (0, 0, 255) at -1, white at 0, red (255, 0, 0) at +1. */
    BWR(new double[] {-1, 0, 1}, new int[][] {{0, 0, 255}, {255, 255, 255}, {255, 0, 0}}),
    /**
     * Zennit's {@code coldnhot}: cyan at -1, blue at -1/2, black at 0, red at +1/3, yellow at +2/3, white at +1.
     * Zennit places these at 8-bit palette indices 0x00, 0x40, 0x80, 0xaa, 0xd4, 0xff, which puts its black 1/255
     * above the centre; here the anchors sit at the exact fractions, so zero relevance is pure black.
     */
    COLDNHOT(new double[] {-1, -0.5, 0, 1.0 / 3, 2.0 / 3, 1},
            new int[][] {{0, 255, 255}, {0, 0, 255}, {0, 0, 0}, {255, 0, 0}, {255, 255, 0}, {255, 255, 255}}),
    /**
     * matplotlib's {@code seismic}: dark blue (0, 0, 76.5) at -1, blue at -1/2, white at 0, red at +1/2, dark red
     * (127.5, 0, 0) at +1 (anchors 0.3 and 0.5 of full scale, kept unrounded until the final rounding).
     */
    SEISMIC(new double[] {-1, -0.5, 0, 0.5, 1},
            new double[][] {{0, 0, 76.5}, {0, 0, 255}, {255, 255, 255}, {255, 0, 0}, {127.5, 0, 0}}),
    /** Black at -1, mid gray at 0, white at +1. */
    GRAY(new double[] {-1, 1}, new int[][] {{0, 0, 0}, {255, 255, 255}});

    private final double[] at;
    private final double[][] colours;

    Palette(double[] at, int[][] colours) {
        this(at, toDouble(colours));
    }

    Palette(double[] at, double[][] colours) {
        this.at = at;
        this.colours = colours;
    }

    private static double[][] toDouble(int[][] c) {
        double[][] d = new double[c.length][3];
        for (int i = 0; i < c.length; i++) {
            for (int k = 0; k < 3; k++) {
                d[i][k] = c[i][k];
            }
        }
        return d;
    }

    /**
     * The colour at {@code v} as {@code 0xRRGGBB}; values outside [-1, 1] are clamped.
     *
     * @throws InvalidArgumentException if {@code v} is NaN
     */
    public int rgb(double v) {
        InvalidArgumentException.check(!Double.isNaN(v), "v", "NaN has no colour");
        double x = v < -1 ? -1 : v > 1 ? 1 : v;
        int seg = 0;
        while (seg < at.length - 2 && x > at[seg + 1]) {
            seg++;
        }
        double t = (x - at[seg]) / (at[seg + 1] - at[seg]);
        int out = 0;
        for (int k = 0; k < 3; k++) {
            double c = colours[seg][k] + (colours[seg + 1][k] - colours[seg][k]) * t;
            out = out << 8 | (int) Math.floor(c + 0.5);
        }
        return out;
    }

    /** The colour of zero relevance. */
    public int centre() {
        return rgb(0);
    }

    /** The palette named {@code name}, ignoring case: bwr, coldnhot, seismic or gray. */
    public static Palette parse(String name) {
        try {
            return valueOf(name.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new InvalidArgumentException("palette", "unknown palette '" + name + "'; choose bwr, coldnhot, "
                    + "seismic or gray");
        }
    }

    /** The name as users type it, e.g. {@code coldnhot}. */
    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }
}
