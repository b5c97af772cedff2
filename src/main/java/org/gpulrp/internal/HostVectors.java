package org.gpulrp.internal;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
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
        FloatVector zero = FloatVector.zero(S);
        int q = 0;
        for (; q + L <= count; q += L) {
            FloatVector zv = FloatVector.fromArray(S, z, o + q);
            FloatVector d = zv.add(down.blend(up, zv.compare(VectorOperators.GE, zero)));
            FloatVector.fromArray(S, r, o + q).div(d).blend(zero, d.compare(VectorOperators.EQ, zero)).intoArray(s, q);
        }
        return q;
    }

    /**
     * Relevance through constant factors ({@link NodeStep.Scaled}), for {@code j < w} at {@code i = o + j}:
     * {@code z = x[i] * factors[j]}, {@code g = d == 0 ? 0 : rel[i] / d} with {@code d = z + (z >= 0 ? eps : -eps)};
     * then {@code rel[i] = g} and {@code x[i] = x[i] * (factors[j] * g)}.
     */
    static int scaled(float[] x, float[] rel, float[] factors, int o, float eps, int w) {
        FloatVector up = FloatVector.broadcast(S, eps);
        FloatVector down = FloatVector.broadcast(S, -eps);
        FloatVector zero = FloatVector.zero(S);
        int j = 0;
        for (; j + L <= w; j += L) {
            FloatVector xv = FloatVector.fromArray(S, x, o + j);
            FloatVector fv = FloatVector.fromArray(S, factors, j);
            FloatVector z = xv.mul(fv);
            FloatVector d = z.add(down.blend(up, z.compare(VectorOperators.GE, zero)));
            VectorMask<Float> zeroD = d.compare(VectorOperators.EQ, zero);
            FloatVector g = FloatVector.fromArray(S, rel, o + j).div(d).blend(zero, zeroD);
            g.intoArray(rel, o + j);
            xv.mul(fv.mul(g)).intoArray(x, o + j);
        }
        return j;
    }
}
