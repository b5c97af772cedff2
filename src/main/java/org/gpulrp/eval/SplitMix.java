package org.gpulrp.eval;

/**
 * The SplitMix64 generator (Steele, Lea and Flood 2014), written out so that a fixture script can repeat every draw:
 * the random orders and the noise baseline give the same values in Java and in numpy. Each sample gets its own stream,
 * started from {@link #mix} of the seed plus the sample index times the golden gamma, so a sample's draws do not
 * depend on the batch around it. docs/DESIGN.md section 2.10.
 */
final class SplitMix {
    static final long GAMMA = 0x9E3779B97F4A7C15L;
    private long state;

    /** The stream of sample {@code sample} under {@code seed}. */
    SplitMix(long seed, long sample) {
        this.state = mix(seed + sample * GAMMA);
    }

    /** The SplitMix64 finalizer. */
    static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    long next() {
        state += GAMMA;
        return mix(state);
    }

    /** A uniform integer in {@code 0 .. bound - 1}: the unsigned remainder of the next draw (bound small). */
    int below(int bound) {
        return (int) Long.remainderUnsigned(next(), bound);
    }

    /** A uniform value in [0, 1) with 24 random bits (exact in float and double). */
    double unit() {
        return (next() >>> 40) * 0x1.0p-24;
    }
}
