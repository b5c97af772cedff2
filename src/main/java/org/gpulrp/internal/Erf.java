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
        for (Stage s : STAGES) {
            s.run(x, tail, near, out, n);
        }
    }

    /**
     * One loop of {@link #erfc(double[], double[], int, double[], double[])} over its arrays: {@code x}, the two
     * work arrays {@code tail} and {@code near}, {@code out}.
     */
    @FunctionalInterface
    private interface Stage {
        void run(double[] x, double[] tail, double[] near, double[] out, int n);
    }

    /**
     * The stages in order, called from one site that sees them all, so C2 calls each through the interface instead
     * of inlining it: every stage compiles on its own, inside Java 17's inlining node budget. Inlined into one
     * compile, the later stages' Vector API calls went past the budget and some ran the element-wise Java fallback
     * (docs/DESIGN.md section 3, "Kernel size on Java 17"). A call per stage and block of values costs nothing.
     */
    private static final Stage[] STAGES = {
        (x, tail, near, out, n) -> ratio(x, tail, near, n),
        (x, tail, near, out, n) -> far(x, tail, n),
        (x, tail, near, out, n) -> VectorExp.exp(near, near, n),
        (x, tail, near, out, n) -> scaleByExp(x, tail, n, near),
        (x, tail, near, out, n) -> small(x, near, n),
        Erf::combine,
    };

    /**
     * {@code out = erfc(x)} from the middle/far ratio times {@code exp(-y^2)} ({@code tail}) and {@code erf(y) / y}
     * ({@code near}).
     */
    private static void combine(double[] x, double[] tail, double[] near, double[] out, int n) {
        for (int j = 0; j < n; j += LANES) {
            DoubleVector v = DoubleVector.fromArray(S, x, j);
            DoubleVector t = DoubleVector.fromArray(S, tail, j);
            t = t.blend(TWO_V.sub(t), v.compare(VectorOperators.LT, ZERO_V));
            DoubleVector c = ONE_V.sub(v.mul(DoubleVector.fromArray(S, near, j)));
            t.blend(c, v.abs().compare(VectorOperators.LE, SMALL_V)).intoArray(out, j);
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
            DoubleVector num = z.mul(A4);
            DoubleVector den = z;
            num = num.add(A0).mul(z);
            den = den.add(B0).mul(z);
            num = num.add(A1).mul(z);
            den = den.add(B1).mul(z);
            num = num.add(A2).mul(z);
            den = den.add(B2).mul(z);
            num.add(A3).div(den.add(B3)).intoArray(out, j);
        }
    }

    /**
     * {@code out = erfc(y) exp(y^2)} with {@code y = min(|x|, UNDERFLOW)}, for {@code 0.5 < y <= 4}: the middle
     * range's ratio ({@link #far} replaces it beyond); and {@code squares = -y^2}, rounded, the argument of
     * {@link #scaleByExp}'s exponential.
     */
    private static void ratio(double[] x, double[] out, double[] squares, int n) {
        for (int j = 0; j < n; j += LANES) {
            DoubleVector y = DoubleVector.fromArray(S, x, j).abs().lanewise(VectorOperators.MIN, UNDERFLOW_V);
            y.mul(y).neg().intoArray(squares, j);
            DoubleVector num = y.mul(C8);
            DoubleVector den = y;
            num = num.add(C0).mul(y);
            den = den.add(D0).mul(y);
            num = num.add(C1).mul(y);
            den = den.add(D1).mul(y);
            num = num.add(C2).mul(y);
            den = den.add(D2).mul(y);
            num = num.add(C3).mul(y);
            den = den.add(D3).mul(y);
            num = num.add(C4).mul(y);
            den = den.add(D4).mul(y);
            num = num.add(C5).mul(y);
            den = den.add(D5).mul(y);
            num = num.add(C6).mul(y);
            den = den.add(D6).mul(y);
            num.add(C7).div(den.add(D7)).intoArray(out, j);
        }
    }

    /** Replaces {@code out} by the far range's ratio where {@code y > 4} (only vectors that hold such a value). */
    private static void far(double[] x, double[] out, int n) {
        for (int j = 0; j < n; j += LANES) {
            DoubleVector y = DoubleVector.fromArray(S, x, j).abs().lanewise(VectorOperators.MIN, UNDERFLOW_V);
            VectorMask<Double> isFar = y.compare(VectorOperators.GT, MIDDLE_V);
            if (!isFar.anyTrue()) {
                continue;
            }
            DoubleVector z = ONE_V.div(y.mul(y));
            DoubleVector num = z.mul(P5);
            DoubleVector den = z;
            num = num.add(P0).mul(z);
            den = den.add(Q0).mul(z);
            num = num.add(P1).mul(z);
            den = den.add(Q1).mul(z);
            num = num.add(P2).mul(z);
            den = den.add(Q2).mul(z);
            num = num.add(P3).mul(z);
            den = den.add(Q3).mul(z);
            DoubleVector r = ONE_OVER_SQRT_PI_V.sub(z.mul(num.add(P4)).div(den.add(Q4))).div(y);
            DoubleVector.fromArray(S, out, j).blend(r, isFar).intoArray(out, j);
        }
    }

    // The constants of the loops above as vectors: static final fields are constants to C2, so the loops broadcast
    // nothing. With a broadcast per constant and vector, ratio went over Java 17's inlining node budget and its
    // store ran the element-wise fallback in some compiles (docs/DESIGN.md section 3, "Kernel size on Java 17").
    // The same values as the scalar operands they replace, so the same bits.
    private static final DoubleVector ZERO_V = VectorExp.v(0.0);
    private static final DoubleVector TWO_V = VectorExp.v(2.0);
    private static final DoubleVector SMALL_V = VectorExp.v(SMALL);
    private static final DoubleVector A0 = VectorExp.v(A[0]);
    private static final DoubleVector A1 = VectorExp.v(A[1]);
    private static final DoubleVector A2 = VectorExp.v(A[2]);
    private static final DoubleVector A3 = VectorExp.v(A[3]);
    private static final DoubleVector A4 = VectorExp.v(A[4]);
    private static final DoubleVector B0 = VectorExp.v(B[0]);
    private static final DoubleVector B1 = VectorExp.v(B[1]);
    private static final DoubleVector B2 = VectorExp.v(B[2]);
    private static final DoubleVector B3 = VectorExp.v(B[3]);
    private static final DoubleVector UNDERFLOW_V = VectorExp.v(UNDERFLOW);
    private static final DoubleVector MIDDLE_V = VectorExp.v(MIDDLE);
    private static final DoubleVector ONE_V = VectorExp.v(1.0);
    private static final DoubleVector ONE_OVER_SQRT_PI_V = VectorExp.v(ONE_OVER_SQRT_PI);
    private static final DoubleVector C0 = VectorExp.v(C[0]);
    private static final DoubleVector C1 = VectorExp.v(C[1]);
    private static final DoubleVector C2 = VectorExp.v(C[2]);
    private static final DoubleVector C3 = VectorExp.v(C[3]);
    private static final DoubleVector C4 = VectorExp.v(C[4]);
    private static final DoubleVector C5 = VectorExp.v(C[5]);
    private static final DoubleVector C6 = VectorExp.v(C[6]);
    private static final DoubleVector C7 = VectorExp.v(C[7]);
    private static final DoubleVector C8 = VectorExp.v(C[8]);
    private static final DoubleVector D0 = VectorExp.v(D[0]);
    private static final DoubleVector D1 = VectorExp.v(D[1]);
    private static final DoubleVector D2 = VectorExp.v(D[2]);
    private static final DoubleVector D3 = VectorExp.v(D[3]);
    private static final DoubleVector D4 = VectorExp.v(D[4]);
    private static final DoubleVector D5 = VectorExp.v(D[5]);
    private static final DoubleVector D6 = VectorExp.v(D[6]);
    private static final DoubleVector D7 = VectorExp.v(D[7]);
    private static final DoubleVector P0 = VectorExp.v(P[0]);
    private static final DoubleVector P1 = VectorExp.v(P[1]);
    private static final DoubleVector P2 = VectorExp.v(P[2]);
    private static final DoubleVector P3 = VectorExp.v(P[3]);
    private static final DoubleVector P4 = VectorExp.v(P[4]);
    private static final DoubleVector P5 = VectorExp.v(P[5]);
    private static final DoubleVector Q0 = VectorExp.v(Q[0]);
    private static final DoubleVector Q1 = VectorExp.v(Q[1]);
    private static final DoubleVector Q2 = VectorExp.v(Q[2]);
    private static final DoubleVector Q3 = VectorExp.v(Q[3]);
    private static final DoubleVector Q4 = VectorExp.v(Q[4]);

    /**
     * {@code out *= exp(-y^2)}, 0 from {@code UNDERFLOW} on. {@code y^2} is split exactly into {@code hi + lo} (a
     * fused multiply-add gives {@code lo}) and {@code exp(-y^2) = exp(-hi) (1 - lo)} to far below an ulp, so the
     * rounding of {@code y^2} is not magnified by the exponential (CALERF does the same with a split at sixteenths
     * and two exponentials). {@code e} holds {@code exp(-hi)} ({@link #ratio}, then {@link VectorExp}).
     */
    private static void scaleByExp(double[] x, double[] out, int n, double[] e) {
        for (int j = 0; j < n; j += LANES) {
            DoubleVector y0 = DoubleVector.fromArray(S, x, j).abs();
            DoubleVector y = y0.lanewise(VectorOperators.MIN, UNDERFLOW_V);
            DoubleVector lo = y.fma(y, y.mul(y).neg());
            DoubleVector ex = DoubleVector.fromArray(S, e, j);
            ex = ex.neg().fma(lo, ex);
            ex.mul(DoubleVector.fromArray(S, out, j)).blend(ZERO_V, y0.compare(VectorOperators.GE, UNDERFLOW_V))
                    .intoArray(out, j);
        }
    }
}
