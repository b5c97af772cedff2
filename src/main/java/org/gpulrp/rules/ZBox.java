package org.gpulrp.rules;

import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;
import java.util.Arrays;
import org.gpulrp.InvalidArgumentException;

/**
 * LRP-z^B (Montavon et al. 2017) for the input layer with inputs bounded by {@code low <= x <= high}:
 * {@code D_j = sum_i (x_i w_ij - l_i w+_ij - h_i w-_ij)} (the bias cancels),
 * {@code R_i = x_i (W g)_i - l_i (W+ g)_i - h_i (W- g)_i}. Bounds are one value for every feature or one per feature.
 */
public final class ZBox implements Rule {
    private final float[] low;
    private final float[] high;
    private final float epsilon;

    /** The most bounds {@link #describe()} lists one by one. */
    private static final int LISTED = 8;

    public ZBox(float low, float high) {
        this(new float[] {low}, new float[] {high}, DEFAULT_EPSILON);
    }

    /** Per-feature bounds (or length-1 arrays for one bound for all). */
    public ZBox(float[] low, float[] high, float epsilon) {
        InvalidArgumentException.check(low != null && high != null && low.length > 0 && low.length == high.length,
                "low, high", "need the same non-zero length");
        for (int k = 0; k < low.length; k++) {
            InvalidArgumentException.check(Float.isFinite(low[k]) && Float.isFinite(high[k]) && low[k] <= high[k],
                    "low, high", "need finite low <= high, got low=" + low[k] + ", high=" + high[k] + " at " + k);
        }
        Rule.checkEpsilon(epsilon);
        this.low = low.clone();
        this.high = high.clone();
        this.epsilon = epsilon;
    }

    public float epsilon() {
        return epsilon;
    }

    /** Lower bound of feature {@code i}. */
    public float low(int i) {
        return low.length == 1 ? low[0] : low[i];
    }

    public float high(int i) {
        return high.length == 1 ? high[0] : high[i];
    }

    /** Number of per-feature bounds (1 when shared). */
    public int boundCount() {
        return low.length;
    }

    /**
     * {@code zbox(LOW,HIGH)} for one bound for all; up to {@value #LISTED} bounds (e.g. one per channel) listed with
     * four significant digits, {@code zbox(low=[-2.118,-2.036,-1.804],high=[2.249,2.429,2.64])}; more only as their
     * count and range, {@code zbox(784 bounds,low in [0,0],high in [1,1])}.
     */
    @Override
    public String describe() {
        if (low.length == 1) {
            return "zbox(" + low[0] + "," + high[0] + ")";
        }
        if (low.length <= LISTED) {
            return "zbox(low=" + list(low) + ",high=" + list(high) + ")";
        }
        return "zbox(" + low.length + " bounds,low in " + range(low) + ",high in " + range(high) + ")";
    }

    private static String list(float[] v) {
        StringBuilder b = new StringBuilder("[");
        for (int k = 0; k < v.length; k++) {
            b.append(k == 0 ? "" : ",").append(shortForm(v[k]));
        }
        return b.append(']').toString();
    }

    private static String range(float[] v) {
        float min = v[0];
        float max = v[0];
        for (float f : v) {
            min = Math.min(min, f);
            max = Math.max(max, f);
        }
        return "[" + shortForm(min) + "," + shortForm(max) + "]";
    }

    /** Four significant digits, without trailing zeros or an exponent: 2.2489083 is 2.249, 2.64 is 2.64. */
    private static String shortForm(float f) {
        if (f == 0) {
            return "0";
        }
        return new BigDecimal(Float.toString(f)).round(new MathContext(4, RoundingMode.HALF_EVEN))
                .stripTrailingZeros().toPlainString();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ZBox z && Arrays.equals(z.low, low) && Arrays.equals(z.high, high)
                && z.epsilon == epsilon;
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(low) * 31 + Arrays.hashCode(high);
    }

    @Override
    public String toString() {
        return describe();
    }
}
