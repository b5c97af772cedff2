package org.gpulrp.internal;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@code exp} in double precision on whole vectors, for the host's transcendental steps (softmax, sigmoid, SiLU,
 * GELU's erfc). It uses only IEEE-754 operations that Java defines exactly (add, multiply, fused multiply-add,
 * comparisons, integer bit arithmetic), so it gives the same bits on every JVM and CPU and in every lane, as
 * {@code StrictMath} did (docs/DESIGN.md section 3, rule 5), at a tenth of the cost; within one ulp of the exact
 * value on the arguments it takes.
 *
 * <p>The method is the textbook one: {@code x = n ln 2 + r} with {@code n} the nearest integer to {@code x / ln 2}
 * (found by adding and subtracting 1.5 * 2^52, which rounds to nearest), {@code r} reduced in two fused steps with
 * {@code ln 2} split into a high part of 32 significant bits and a low part, {@code |r| <= ln 2 / 2}; {@code exp(r)}
 * from its Taylor series to degree 13 (truncation error below 1e-17 relative) by Horner's rule; and the scale
 * {@code 2^n} put into the exponent field. Arguments are first clamped to {@code [-708, 709]}, where {@code 2^n} is a
 * normal double: below, the callers' results (quotients by sums of at least 1, products with erfc's other factors)
 * round to the same float as with the exact tiny value; above, {@code exp} overflows in float anyway.
 */
final class VectorExp {
    static final VectorSpecies<Double> S = DoubleVector.SPECIES_PREFERRED;
    static final int LANES = S.length();

    private static final double LOG2E = 1.4426950408889634;
    private static final double LN2_HI = 0.6931471803691238;      // ln 2 rounded to 32 significant bits
    private static final double LN2_LO = 1.9082149292705877e-10;  // ln 2 - LN2_HI
    private static final double SHIFTER = 0x1.8p52;
    private static final long SHIFTER_BITS = Double.doubleToRawLongBits(SHIFTER);
    private static final double LOW = -708.0;
    private static final double HIGH = 709.0;
    /** 1/k!, the Taylor coefficients. */
    private static final double T2 = 1.0 / 2;
    private static final double T3 = T2 / 3;
    private static final double T4 = T3 / 4;
    private static final double T5 = T4 / 5;
    private static final double T6 = T5 / 6;
    private static final double T7 = T6 / 7;
    private static final double T8 = T7 / 8;
    private static final double T9 = T8 / 9;
    private static final double T10 = T9 / 10;
    private static final double T11 = T10 / 11;
    private static final double T12 = T11 / 12;
    private static final double T13 = T12 / 13;

    private VectorExp() {
    }

    /**
     * {@code out[j] = exp(in[j])} for {@code j < n}, {@code n} a multiple of {@link #LANES} (may be the same array);
     * NaN stays NaN. Callers pass arrays, not vectors, and the whole computation is written out in this one loop:
     * the Vector API's ops inline into a method only up to C2's inlining budget, and a vector that crosses a call
     * which is not inlined is boxed and then computed by the API's slow Java fallback (seen: 10x slower).
     */
    static void exp(double[] in, double[] out, int n) {
        DoubleVector log2e = DoubleVector.broadcast(S, LOG2E);
        DoubleVector shifter = DoubleVector.broadcast(S, SHIFTER);
        DoubleVector ln2Hi = DoubleVector.broadcast(S, -LN2_HI);
        DoubleVector ln2Lo = DoubleVector.broadcast(S, -LN2_LO);
        DoubleVector one = DoubleVector.broadcast(S, 1.0);
        for (int j = 0; j < n; j += LANES) {
            DoubleVector c = DoubleVector.fromArray(S, in, j).lanewise(VectorOperators.MAX, LOW)
                    .lanewise(VectorOperators.MIN, HIGH);
            DoubleVector t = c.fma(log2e, shifter);
            DoubleVector k = t.sub(shifter);
            DoubleVector r = k.fma(ln2Lo, k.fma(ln2Hi, c));
            DoubleVector p = r.mul(T13).add(T12);
            p = p.fma(r, DoubleVector.broadcast(S, T11));
            p = p.fma(r, DoubleVector.broadcast(S, T10));
            p = p.fma(r, DoubleVector.broadcast(S, T9));
            p = p.fma(r, DoubleVector.broadcast(S, T8));
            p = p.fma(r, DoubleVector.broadcast(S, T7));
            p = p.fma(r, DoubleVector.broadcast(S, T6));
            p = p.fma(r, DoubleVector.broadcast(S, T5));
            p = p.fma(r, DoubleVector.broadcast(S, T4));
            p = p.fma(r, DoubleVector.broadcast(S, T3));
            p = p.fma(r, DoubleVector.broadcast(S, T2));
            p = p.fma(r, one).fma(r, one);
            LongVector bits = t.reinterpretAsLongs().sub(SHIFTER_BITS).add(1023).lanewise(VectorOperators.LSHL, 52);
            p.mul(bits.reinterpretAsDoubles()).intoArray(out, j);
        }
    }

    /** {@code exp(x)} through the vector path, so a scalar caller gets the vector's bits. */
    static double exp(double x) {
        double[] v = new double[LANES];
        v[0] = x;
        exp(v, v, LANES);
        return v[0];
    }

    /** {@code n} rounded up to whole vectors. */
    static int padded(int n) {
        return (n + LANES - 1) / LANES * LANES;
    }
}
