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
        for (int j = 0; j < n; j += LANES) {
            DoubleVector c = DoubleVector.fromArray(S, in, j).lanewise(VectorOperators.MAX, LOW_V)
                    .lanewise(VectorOperators.MIN, HIGH_V);
            DoubleVector t = c.fma(LOG2E_V, SHIFTER_V);
            DoubleVector k = t.sub(SHIFTER_V);
            DoubleVector r = k.fma(LN2_LO_V, k.fma(LN2_HI_V, c));
            DoubleVector p = r.mul(T13_V).add(T12_V);
            p = p.fma(r, T11_V);
            p = p.fma(r, T10_V);
            p = p.fma(r, T9_V);
            p = p.fma(r, T8_V);
            p = p.fma(r, T7_V);
            p = p.fma(r, T6_V);
            p = p.fma(r, T5_V);
            p = p.fma(r, T4_V);
            p = p.fma(r, T3_V);
            p = p.fma(r, T2_V);
            p = p.fma(r, ONE_V).fma(r, ONE_V);
            LongVector bits = t.reinterpretAsLongs().sub(SHIFTER_BITS).add(1023).lanewise(VectorOperators.LSHL, 52);
            p.mul(bits.reinterpretAsDoubles()).intoArray(out, j);
        }
    }

    /**
     * {@code e[j] = (x == null ? 1 : x[j]) / (1 + e[j])} for {@code j < n}, a multiple of {@link #LANES}: sigmoid's
     * and SiLU's last step after {@link #exp} of {@code -x}, the same IEEE operations as the scalar statement (the
     * scalar double division was a third of a sigmoid).
     */
    static void logistic(double[] x, double[] e, int n) {
        DoubleVector one = DoubleVector.broadcast(S, 1.0);
        for (int j = 0; j < n; j += LANES) {
            DoubleVector num = x == null ? one : DoubleVector.fromArray(S, x, j);
            num.div(one.add(DoubleVector.fromArray(S, e, j))).intoArray(e, j);
        }
    }

    /** {@code y[j] = x[j] * 0.5 * y[j]} for {@code j < n}, a multiple of {@link #LANES} (GELU's last step). */
    static void halfProduct(double[] x, double[] y, int n) {
        DoubleVector half = DoubleVector.broadcast(S, 0.5);
        for (int j = 0; j < n; j += LANES) {
            DoubleVector.fromArray(S, x, j).mul(half).mul(DoubleVector.fromArray(S, y, j)).intoArray(y, j);
        }
    }

    // The constants of exp as vectors: static final fields are constants to C2, so the loop broadcasts nothing and
    // its compile stays smaller (docs/DESIGN.md section 3, "Kernel size on Java 17"). The same values, so the same
    // bits.
    private static final DoubleVector LOG2E_V = v(LOG2E);
    private static final DoubleVector SHIFTER_V = v(SHIFTER);
    private static final DoubleVector LN2_HI_V = v(-LN2_HI);
    private static final DoubleVector LN2_LO_V = v(-LN2_LO);
    private static final DoubleVector ONE_V = v(1.0);
    private static final DoubleVector LOW_V = v(LOW);
    private static final DoubleVector HIGH_V = v(HIGH);
    private static final DoubleVector T2_V = v(T2);
    private static final DoubleVector T3_V = v(T3);
    private static final DoubleVector T4_V = v(T4);
    private static final DoubleVector T5_V = v(T5);
    private static final DoubleVector T6_V = v(T6);
    private static final DoubleVector T7_V = v(T7);
    private static final DoubleVector T8_V = v(T8);
    private static final DoubleVector T9_V = v(T9);
    private static final DoubleVector T10_V = v(T10);
    private static final DoubleVector T11_V = v(T11);
    private static final DoubleVector T12_V = v(T12);
    private static final DoubleVector T13_V = v(T13);

    /** {@code value} in every lane: a constant vector for a static final field (so C2 broadcasts nothing). */
    static DoubleVector v(double value) {
        return DoubleVector.broadcast(S, value);
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
