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
    /** 1/k! for k = 13 down to 2. */
    private static final double[] TAYLOR = new double[12];

    static {
        double f = 1;
        for (int k = 2; k <= 13; k++) {
            f *= k;
            TAYLOR[13 - k] = 1.0 / f;
        }
    }

    private VectorExp() {
    }

    /** {@code exp} of every lane; NaN stays NaN. */
    static DoubleVector exp(DoubleVector x) {
        DoubleVector c = x.lanewise(VectorOperators.MAX, LOW).lanewise(VectorOperators.MIN, HIGH);
        DoubleVector t = c.fma(DoubleVector.broadcast(S, LOG2E), DoubleVector.broadcast(S, SHIFTER));
        DoubleVector n = t.sub(SHIFTER);
        DoubleVector r = n.fma(DoubleVector.broadcast(S, -LN2_LO), n.fma(DoubleVector.broadcast(S, -LN2_HI), c));
        DoubleVector p = DoubleVector.broadcast(S, TAYLOR[0]);
        for (int i = 1; i < TAYLOR.length; i++) {
            p = p.fma(r, DoubleVector.broadcast(S, TAYLOR[i]));
        }
        DoubleVector one = DoubleVector.broadcast(S, 1.0);
        p = p.fma(r, one).fma(r, one);
        LongVector bits = t.reinterpretAsLongs().sub(SHIFTER_BITS).add(1023).lanewise(VectorOperators.LSHL, 52);
        return p.mul(bits.reinterpretAsDoubles());
    }

    /** {@code exp(x)} through the vector path (lane 0), so a scalar caller gets the vector's bits. */
    static double exp(double x) {
        return exp(DoubleVector.broadcast(S, x)).lane(0);
    }
}
