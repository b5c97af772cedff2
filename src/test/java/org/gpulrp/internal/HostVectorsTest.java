package org.gpulrp.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * {@link HostVectors}' loops give, bit for bit, the one-value-at-a-time statements they replace: at offsets and
 * lengths that leave lane tails, with zeros, {@code -0.0}, NaN, infinities and values whose stabilized denominator is
 * exactly zero (epsilon 0), and a factor of zero.
 */
class HostVectorsTest {
    /** The float vector width the loops use. */
    private static final int LANES = jdk.incubator.vector.FloatVector.SPECIES_PREFERRED.length();
    private static final int[] LENGTHS = {0, 1, 7, 15, 16, 17, 31, 32, 33, 64, 100, 129};

    @Test
    void signalsGiveTheScalarStatementsBits() {
        Random rnd = new Random(5);
        for (float eps : new float[] {1e-6f, 0f, 0.25f}) {
            for (int count : LENGTHS) {
                int o = rnd.nextInt(5);
                float[] z = values(rnd, o + count, eps);
                float[] r = values(rnd, o + count, eps);
                float[] got = new float[count];
                int done = HostVectors.signals(z, r, o, eps, got, count);
                assertTrue(done >= 0 && done <= count && count - done < LANES, "covered " + done);
                for (int q = done; q < count; q++) {
                    got[q] = signal(z[o + q], r[o + q], eps);
                }
                for (int q = 0; q < count; q++) {
                    assertEquals(Float.floatToRawIntBits(signal(z[o + q], r[o + q], eps)),
                            Float.floatToRawIntBits(got[q]), "eps " + eps + ", " + count + " values, at " + q);
                }
            }
        }
    }

    @Test
    void scaledGivesTheScalarStatementsBits() {
        Random rnd = new Random(6);
        for (float eps : new float[] {1e-6f, 0f}) {
            for (int w : LENGTHS) {
                int o = rnd.nextInt(5);
                float[] factors = values(rnd, w, eps);
                float[] x = values(rnd, o + w, eps);
                float[] rel = values(rnd, o + w, eps);
                float[] wantX = x.clone();
                float[] wantRel = rel.clone();
                for (int j = 0; j < w; j++) {
                    int i = o + j;
                    float z = wantX[i] * factors[j];
                    float d = z + (z >= 0 ? eps : -eps);
                    float g = d == 0 ? 0f : wantRel[i] / d;
                    wantRel[i] = g;
                    wantX[i] = wantX[i] * (factors[j] * g);
                }
                int done = HostVectors.scaled(x, rel, factors, o, eps, w);
                assertTrue(done >= 0 && done <= w && w - done < LANES, "covered " + done);
                for (int j = 0; j < done; j++) {
                    String at = "eps " + eps + ", width " + w + ", at " + j;
                    assertEquals(Float.floatToRawIntBits(wantRel[o + j]), Float.floatToRawIntBits(rel[o + j]), at);
                    assertEquals(Float.floatToRawIntBits(wantX[o + j]), Float.floatToRawIntBits(x[o + j]), at);
                }
            }
        }
    }

    private static float signal(float z, float r, float eps) {
        float d = z + (z >= 0 ? eps : -eps);
        return d == 0 ? 0f : r / d;
    }

    /** Gaussian values with exact zeros, -0.0, +-eps (a zero denominator), NaN and infinities among them. */
    private static float[] values(Random rnd, int count, float eps) {
        float[] v = new float[count];
        for (int i = 0; i < count; i++) {
            v[i] = switch (rnd.nextInt(16)) {
                case 0 -> 0f;
                case 1 -> -0f;
                case 2 -> -eps;
                case 3 -> eps;
                case 4 -> Float.NaN;
                case 5 -> Float.POSITIVE_INFINITY;
                case 6 -> Float.NEGATIVE_INFINITY;
                case 7 -> Float.MIN_VALUE;
                default -> (float) rnd.nextGaussian();
            };
        }
        return v;
    }
}
