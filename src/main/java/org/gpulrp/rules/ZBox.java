package org.gpulrp.rules;

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

    @Override
    public String describe() {
        return low.length == 1 ? "zbox(" + low[0] + "," + high[0] + ")" : "zbox(per-feature)";
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
