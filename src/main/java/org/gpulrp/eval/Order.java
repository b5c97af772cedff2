package org.gpulrp.eval;

import java.util.Locale;
import org.gpulrp.InvalidArgumentException;

/**
 * The order in which regions are removed (docs/DESIGN.md section 2.10): {@link #MORF} most relevant first (descending
 * region score), {@link #LERF} least relevant first (ascending), {@link #RANDOM} a seeded random permutation, the
 * control. Ties go by region index, lowest first, in both sorted orders.
 */
public enum Order {
    MORF, LERF, RANDOM;

    /** The name as written on the command line and in files: {@code morf}, {@code lerf}, {@code random}. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Parses {@code morf}, {@code lerf} or {@code random} (any case). */
    public static Order parse(String s) {
        for (Order o : values()) {
            if (o.label().equalsIgnoreCase(s.strip())) {
                return o;
            }
        }
        throw new InvalidArgumentException("order", "unknown order '" + s + "'; use morf, lerf or random");
    }

    /**
     * The regions in removal order.
     *
     * @param scores each region's score (the sum of its relevance)
     * @param seed   the random order's seed
     * @param sample the sample's index in the data set (selects its random stream)
     */
    public int[] rank(double[] scores, long seed, int sample) {
        int n = scores.length;
        if (this == RANDOM) {
            // Fisher-Yates from the last position down, each swap partner drawn from the sample's own stream.
            int[] p = new int[n];
            for (int i = 0; i < n; i++) {
                p[i] = i;
            }
            SplitMix r = new SplitMix(seed, sample);
            for (int i = n - 1; i > 0; i--) {
                int j = r.below(i + 1);
                int t = p[i];
                p[i] = p[j];
                p[j] = t;
            }
            return p;
        }
        Integer[] idx = new Integer[n];
        for (int i = 0; i < n; i++) {
            idx[i] = i;
        }
        boolean descending = this == MORF;
        // Stable sort on the score alone keeps equal scores in index order.
        java.util.Arrays.sort(idx, (a, b) -> descending ? Double.compare(scores[b], scores[a])
                : Double.compare(scores[a], scores[b]));
        int[] p = new int[n];
        for (int i = 0; i < n; i++) {
            p[i] = idx[i];
        }
        return p;
    }
}
