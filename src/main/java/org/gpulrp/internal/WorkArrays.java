package org.gpulrp.internal;

/**
 * Each thread's work arrays for a host step, by slot, grown on demand and kept for the thread's next call: a host
 * loop over units (an attention head, a position, a block of values) needs a few arrays per unit, and new ones were
 * zeroed for nothing (every caller writes a value before it reads it). Contents are undefined.
 */
final class WorkArrays {
    private final ThreadLocal<float[][]> floats;
    private final ThreadLocal<double[][]> doubles;

    WorkArrays(int slots) {
        floats = ThreadLocal.withInitial(() -> new float[slots][0]);
        doubles = ThreadLocal.withInitial(() -> new double[slots][0]);
    }

    /** This thread's float array in {@code slot}, at least {@code count} long. */
    float[] floats(int slot, int count) {
        float[][] t = floats.get();
        if (t[slot].length < count) {
            t[slot] = new float[count];
        }
        return t[slot];
    }

    /** This thread's double array in {@code slot}, at least {@code count} long. */
    double[] doubles(int slot, int count) {
        double[][] t = doubles.get();
        if (t[slot].length < count) {
            t[slot] = new double[count];
        }
        return t[slot];
    }
}
