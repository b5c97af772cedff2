package org.gpulrp.internal;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The error function and its complement in double precision (Java has neither), for GELU on the host.
 *
 * <p>The approximations are W. J. Cody's rational Chebyshev approximations, "Rational Chebyshev approximations for
 * the error function", Math. Comp. 23 (1969), 631-637, with the coefficients of his published FORTRAN routine
 * CALERF (netlib specfun), accurate to about 1e-16 relative: on {@code |x| <= 0.5} {@code erf(x) = x P(x^2) /
 * Q(x^2)}; on {@code 0.5 < |x| <= 4} {@code erfc(x) = exp(-x^2) P(x) / Q(x)}; beyond, {@code erfc(x) = exp(-x^2) / x
 * (1 / sqrt(pi) - P(1/x^2) / (x^2 Q(1/x^2)))}. {@code exp(-x^2)} is evaluated from
 * the exact split of {@code x^2} into two doubles (see {@link #tail}), so the rounding error of {@code x^2} is not
 * magnified by the exponential. The exponential is {@link VectorExp}'s, which keeps the bits the same on every JVM
 * and in every lane.
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
        double y = Math.abs(x);
        double r;
        if (y <= SMALL) {
            double[] v = new double[LANES];
            v[0] = y;
            small(v, v, LANES);
            r = y * v[0];
        } else {
            r = 1.0 - erfc(y);    // no cancellation for |x| > 0.5
        }
        return x < 0 ? -r : r;
    }

    /** {@link #erfc(double[], double[], int, double[], double[])} of one value, the same bits as in an array. */
    static double erfc(double x) {
        double[] v = new double[LANES];
        v[0] = x;
        erfc(v, v, LANES, new double[LANES], new double[LANES]);
        return v[0];
    }

    /**
     * {@code out[j] = erfc(x[j])}, the complementary error function {@code 1 - erf(x)}, for {@code j < n}, a
     * multiple of {@link VectorExp#LANES} ({@code tail} and {@code near}: room for n values each, the caller's so a
     * loop over blocks allocates nothing), accurate in relative terms also where it is tiny; NaN stays NaN. Every
     * value is computed in every range on whole vectors and keeps its own range's value, so its bits do not depend on
     * its neighbours. The stages are separate loops over arrays (see {@link VectorExp#exp(double[], double[], int)}).
     */
    static void erfc(double[] x, double[] out, int n, double[] tail, double[] near) {
        ratio(x, tail, n);
        scaleByExp(x, tail, n, near);
        small(x, near, n);
        for (int j = 0; j < n; j += LANES) {
            DoubleVector v = DoubleVector.fromArray(S, x, j);
            DoubleVector t = DoubleVector.fromArray(S, tail, j);
            t = t.blend(DoubleVector.broadcast(S, 2.0).sub(t), v.compare(VectorOperators.LT, 0.0));
            DoubleVector c = DoubleVector.broadcast(S, 1.0).sub(v.mul(DoubleVector.fromArray(S, near, j)));
            t.blend(c, v.abs().compare(VectorOperators.LE, SMALL)).intoArray(out, j);
        }
    }

    private static final VectorSpecies<Double> S = VectorExp.S;
    private static final int LANES = VectorExp.LANES;
    // The polynomial loops below are written out: a vector carried around a short loop was boxed by C2 on Java 17.

    /** {@code out = erf(y) / y} with {@code y = |x|}, meant for {@code |x| <= 0.5}. */
    private static void small(double[] x, double[] out, int n) {
        for (int j = 0; j < n; j += LANES) {
            DoubleVector y = DoubleVector.fromArray(S, x, j).abs();
            DoubleVector z = y.mul(y);
            DoubleVector num = z.mul(A[4]);
            DoubleVector den = z;
            num = num.add(A[0]).mul(z);
            den = den.add(B[0]).mul(z);
            num = num.add(A[1]).mul(z);
            den = den.add(B[1]).mul(z);
            num = num.add(A[2]).mul(z);
            den = den.add(B[2]).mul(z);
            num.add(A[3]).div(den.add(B[3])).intoArray(out, j);
        }
    }

    /**
     * {@code out = erfc(y) exp(y^2)} with {@code y = min(|x|, UNDERFLOW)}, for {@code y > 0.5}: the middle range's
     * ratio up to 4, the far range's beyond (computed only for the vectors that hold such a value).
     */
    private static void ratio(double[] x, double[] out, int n) {
        boolean anyFar = false;
        for (int j = 0; j < n; j += LANES) {
            DoubleVector y = DoubleVector.fromArray(S, x, j).abs().lanewise(VectorOperators.MIN, UNDERFLOW);
            DoubleVector num = y.mul(C[8]);
            DoubleVector den = y;
            num = num.add(C[0]).mul(y);
            den = den.add(D[0]).mul(y);
            num = num.add(C[1]).mul(y);
            den = den.add(D[1]).mul(y);
            num = num.add(C[2]).mul(y);
            den = den.add(D[2]).mul(y);
            num = num.add(C[3]).mul(y);
            den = den.add(D[3]).mul(y);
            num = num.add(C[4]).mul(y);
            den = den.add(D[4]).mul(y);
            num = num.add(C[5]).mul(y);
            den = den.add(D[5]).mul(y);
            num = num.add(C[6]).mul(y);
            den = den.add(D[6]).mul(y);
            num.add(C[7]).div(den.add(D[7])).intoArray(out, j);
            anyFar |= y.compare(VectorOperators.GT, MIDDLE).anyTrue();
        }
        if (anyFar) {
            far(x, out, n);
        }
    }

    /** Replaces {@code out} by the far range's ratio where {@code y > 4}. */
    private static void far(double[] x, double[] out, int n) {
        for (int j = 0; j < n; j += LANES) {
            DoubleVector y = DoubleVector.fromArray(S, x, j).abs().lanewise(VectorOperators.MIN, UNDERFLOW);
            VectorMask<Double> isFar = y.compare(VectorOperators.GT, MIDDLE);
            if (!isFar.anyTrue()) {
                continue;
            }
            DoubleVector z = DoubleVector.broadcast(S, 1.0).div(y.mul(y));
            DoubleVector num = z.mul(P[5]);
            DoubleVector den = z;
            num = num.add(P[0]).mul(z);
            den = den.add(Q[0]).mul(z);
            num = num.add(P[1]).mul(z);
            den = den.add(Q[1]).mul(z);
            num = num.add(P[2]).mul(z);
            den = den.add(Q[2]).mul(z);
            num = num.add(P[3]).mul(z);
            den = den.add(Q[3]).mul(z);
            DoubleVector r = DoubleVector.broadcast(S, ONE_OVER_SQRT_PI).sub(z.mul(num.add(P[4])).div(den.add(Q[4])))
                    .div(y);
            DoubleVector.fromArray(S, out, j).blend(r, isFar).intoArray(out, j);
        }
    }

    /**
     * {@code out *= exp(-y^2)}, 0 from {@code UNDERFLOW} on. {@code y^2} is split exactly into {@code hi + lo} (a
     * fused multiply-add gives {@code lo}) and {@code exp(-y^2) = exp(-hi) (1 - lo)} to far below an ulp, so the
     * rounding of {@code y^2} is not magnified by the exponential (CALERF does the same with a split at sixteenths
     * and two exponentials).
     */
    private static void scaleByExp(double[] x, double[] out, int n, double[] e) {
        for (int j = 0; j < n; j += LANES) {
            DoubleVector y = DoubleVector.fromArray(S, x, j).abs().lanewise(VectorOperators.MIN, UNDERFLOW);
            y.mul(y).neg().intoArray(e, j);
        }
        VectorExp.exp(e, e, n);
        for (int j = 0; j < n; j += LANES) {
            DoubleVector y0 = DoubleVector.fromArray(S, x, j).abs();
            DoubleVector y = y0.lanewise(VectorOperators.MIN, UNDERFLOW);
            DoubleVector lo = y.fma(y, y.mul(y).neg());
            DoubleVector ex = DoubleVector.fromArray(S, e, j);
            ex = ex.neg().fma(lo, ex);
            ex.mul(DoubleVector.fromArray(S, out, j)).blend(0.0, y0.compare(VectorOperators.GE, UNDERFLOW))
                    .intoArray(out, j);
        }
    }
}
