package org.gpulrp.internal;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Element-wise loops of the host steps on whole vectors: the same IEEE float operations, in the same order, as the
 * one-value-at-a-time statements they replace (so the same bits), without a branch on each value's sign. Each
 * method covers the largest multiple of the vector width and returns where the caller's scalar loop goes on.
 */
final class HostVectors {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();

    private HostVectors() {
    }

    /**
     * The epsilon rule's signals {@code s[q] = d == 0 ? 0 : r[o + q] / d} with {@code d = z[o + q] + (z[o + q] >= 0
     * ? eps : -eps)}, for {@code q < count} ({@link HostMatMul#relevance}).
     */
    static int signals(float[] z, float[] r, int o, float eps, float[] s, int count) {
        FloatVector up = FloatVector.broadcast(S, eps);
        FloatVector down = FloatVector.broadcast(S, -eps);
        int q = 0;
        for (; q + L <= count; q += L) {
            signal(FloatVector.fromArray(S, r, o + q), FloatVector.fromArray(S, z, o + q), up, down).intoArray(s, q);
        }
        return q;
    }

    /** {@code d == 0 ? 0 : r / d} with {@code d = z + (z >= 0 ? eps : -eps)}, lane-wise ({@code up}: eps). */
    private static FloatVector signal(FloatVector r, FloatVector z, FloatVector up, FloatVector down) {
        FloatVector d = z.add(down.blend(up, z.compare(VectorOperators.GE, 0f)));
        return r.div(d).blend(0f, d.compare(VectorOperators.EQ, 0f));
    }

    /**
     * Relevance through constant factors ({@link NodeStep.Scaled}), for {@code j < w} at {@code i = o + j}:
     * {@code z = x[i] * factors[j]}, {@code g = d == 0 ? 0 : rel[i] / d} with {@code d = z + (z >= 0 ? eps : -eps)};
     * then {@code rel[i] = g} and {@code x[i] = x[i] * (factors[j] * g)}.
     */
    static int scaled(float[] x, float[] rel, float[] factors, int o, float eps, int w) {
        FloatVector up = FloatVector.broadcast(S, eps);
        FloatVector down = FloatVector.broadcast(S, -eps);
        int j = 0;
        for (; j + L <= w; j += L) {
            FloatVector xv = FloatVector.fromArray(S, x, o + j);
            FloatVector fv = FloatVector.fromArray(S, factors, j);
            FloatVector g = signal(FloatVector.fromArray(S, rel, o + j), xv.mul(fv), up, down);
            g.intoArray(rel, o + j);
            xv.mul(fv.mul(g)).intoArray(x, o + j);
        }
        return j;
    }
}
