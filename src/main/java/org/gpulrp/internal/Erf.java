package org.gpulrp.internal;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The error function and its complement in double precision (Java has neither), for GELU on the host.
 *
 * <p>The approximations are W. J. Cody's rational Chebyshev approximations, "Rational Chebyshev approximations for
 * the error function", Math. Comp. 23 (1969), 631-637, with the coefficients of his published FORTRAN routine
 * CALERF (netlib specfun), accurate to about 1e-16 relative: on {@code |x| <= 0.5} {@code erf(x) = x P(x^2) /
 * Q(x^2)}; on {@code 0.5 < |x| <= 4} {@code erfc(x) = exp(-x^2) P(x) / Q(x)}; beyond, {@code erfc(x) = exp(-x^2) / x
 * (1 / sqrt(pi) - P(1/x^2) / (x^2 Q(1/x^2)))}. As in CALERF, {@code exp(-x^2)} is taken as
 * {@code exp(-y^2) exp(-(x - y)(x + y))} with {@code y} = x rounded down to a sixteenth, so the rounding error of
 * {@code x^2} is not magnified by the exponential. The exponentials are {@link VectorExp}'s, which keeps the bits the same on every JVM and in every lane.
 */
final class Erf {
    private Erf() {
    }

    /** {@code |x|} below which the small-argument form is used, and above which erfc underflows to 0. */
    private static final double SMALL = 0.5;
    private static final double MIDDLE = 4.0;
    private static final double UNDERFLOW = 26.543;
    private static final double ONE_OVER_SQRT_PI = 0.56418958354775628695;

    private static final double[] A = {3.16112374387056560e00, 1.13864154151050156e02, 3.77485237685302021e02,
        3.20937758913846947e03, 1.85777706184603153e-1};
    private static final double[] B = {2.36012909523441209e01, 2.44024637934444173e02, 1.28261652607737228e03,
        2.84423683343917062e03};
    private static final double[] C = {5.64188496988670089e-1, 8.88314979438837594e00, 6.61191906371416295e01,
        2.98635138197400131e02, 8.81952221241769090e02, 1.71204761263407058e03, 2.05107837782607147e03,
        1.23033935479799725e03, 2.15311535474403846e-8};
    private static final double[] D = {1.57449261107098347e01, 1.17693950891312499e02, 5.37181101862009858e02,
        1.62138957456669019e03, 3.29079923573345963e03, 4.36261909014324716e03, 3.43936767414372164e03,
        1.23033935480374942e03};
    private static final double[] P = {3.05326634961232344e-1, 3.60344899949804439e-1, 1.25781726111229246e-1,
        1.60837851487422766e-2, 6.58749161529837803e-4, 1.63153871373020978e-2};
    private static final double[] Q = {2.56852019228982242e00, 1.87295284992346725e00, 5.27905102951428412e-1,
        6.05183413124413191e-2, 2.33520497626869185e-3};

    /** The error function, {@code 2 / sqrt(pi) * integral_0^x exp(-t^2) dt} (scalar, through the vector path). */
    static double erf(double x) {
        if (Double.isNaN(x)) {
            return x;
        }
        DoubleVector v = DoubleVector.broadcast(S, Math.abs(x));
        double y = Math.abs(x);
        double r = y <= SMALL ? y * small(v).lane(0) : 1.0 - tail(v).lane(0);   // no cancellation for |x| > 0.5
        return x < 0 ? -r : r;
    }

    /** {@link #erfc(DoubleVector)} of one value (lane 0), the same bits as in any lane of a vector. */
    static double erfc(double x) {
        return erfc(DoubleVector.broadcast(S, x)).lane(0);
    }

    /**
     * The complementary error function, {@code 1 - erf(x)}, of every lane, accurate in relative terms also where it
     * is tiny. Every lane evaluates all three ranges and keeps its own (no branches), so a value's bits do not
     * depend on its neighbours; NaN stays NaN.
     */
    static DoubleVector erfc(DoubleVector x) {
        DoubleVector y = x.abs();
        DoubleVector t = tail(y);
        t = t.blend(0.0, y.compare(VectorOperators.GE, UNDERFLOW));
        t = t.blend(DoubleVector.broadcast(S, 2.0).sub(t), x.compare(VectorOperators.LT, 0.0));
        DoubleVector near = DoubleVector.broadcast(S, 1.0).sub(x.mul(small(y)));
        return t.blend(near, y.compare(VectorOperators.LE, SMALL));
    }

    private static final VectorSpecies<Double> S = VectorExp.S;

    /** {@code erf(y) / y}, meant for {@code 0 <= y <= 0.5}. */
    private static DoubleVector small(DoubleVector y) {
        DoubleVector z = y.mul(y);
        DoubleVector num = z.mul(A[4]);
        DoubleVector den = z;
        for (int i = 0; i < 3; i++) {
            num = num.add(A[i]).mul(z);
            den = den.add(B[i]).mul(z);
        }
        return num.add(A[3]).div(den.add(B[3]));
    }

    /** {@code erfc(y)}, meant for {@code 0.5 < y < UNDERFLOW}. */
    private static DoubleVector tail(DoubleVector y0) {
        DoubleVector y = y0.lanewise(VectorOperators.MIN, UNDERFLOW);
        // 0.5 < y <= 4
        DoubleVector num = y.mul(C[8]);
        DoubleVector den = y;
        for (int i = 0; i < 7; i++) {
            num = num.add(C[i]).mul(y);
            den = den.add(D[i]).mul(y);
        }
        DoubleVector middle = num.add(C[7]).div(den.add(D[7]));
        // y > 4
        DoubleVector z = DoubleVector.broadcast(S, 1.0).div(y.mul(y));
        num = z.mul(P[5]);
        den = z;
        for (int i = 0; i < 4; i++) {
            num = num.add(P[i]).mul(z);
            den = den.add(Q[i]).mul(z);
        }
        DoubleVector far = DoubleVector.broadcast(S, ONE_OVER_SQRT_PI).sub(z.mul(num.add(P[4])).div(den.add(Q[4])))
                .div(y);
        DoubleVector ratio = far.blend(middle, y.compare(VectorOperators.LE, MIDDLE));
        // floor(y * 16) / 16: round to nearest by adding and subtracting 2^52, then step down where that rounded up
        DoubleVector sixteen = y.mul(16.0);
        DoubleVector rounded = sixteen.add(TWO_52).sub(TWO_52);
        DoubleVector ysq = rounded.lanewise(VectorOperators.SUB, 1.0, rounded.compare(VectorOperators.GT, sixteen))
                .mul(1.0 / 16.0);
        DoubleVector del = y.sub(ysq).mul(y.add(ysq));
        return VectorExp.exp(ysq.mul(ysq).neg()).mul(VectorExp.exp(del.neg())).mul(ratio);
    }

    private static final double TWO_52 = 0x1p52;
}
