package org.gpulrp.internal;

/**
 * The error function and its complement in double precision (Java has neither), for GELU on the host.
 *
 * <p>The approximations are W. J. Cody's rational Chebyshev approximations, "Rational Chebyshev approximations for
 * the error function", Math. Comp. 23 (1969), 631-637, with the coefficients of his published FORTRAN routine
 * CALERF (netlib specfun), accurate to about 1e-16 relative: on {@code |x| <= 0.5} {@code erf(x) = x P(x^2) /
 * Q(x^2)}; on {@code 0.5 < |x| <= 4} {@code erfc(x) = exp(-x^2) P(x) / Q(x)}; beyond, {@code erfc(x) = exp(-x^2) / x
 * (1 / sqrt(pi) - P(1/x^2) / (x^2 Q(1/x^2)))}. As in CALERF, {@code exp(-x^2)} is taken as
 * {@code exp(-y^2) exp(-(x - y)(x + y))} with {@code y} = x rounded down to a sixteenth, so the rounding error of
 * {@code x^2} is not magnified by the exponential. {@code StrictMath.exp} keeps the bits the same on every JVM.
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

    /** The error function, {@code 2 / sqrt(pi) * integral_0^x exp(-t^2) dt}. */
    static double erf(double x) {
        if (Double.isNaN(x)) {
            return x;
        }
        double y = Math.abs(x);
        if (y <= SMALL) {
            return x * small(y);
        }
        double r = 1.0 - tail(y);     // erf(|x|) = 1 - erfc(|x|), no cancellation for |x| > 0.5
        return x < 0 ? -r : r;
    }

    /** The complementary error function, {@code 1 - erf(x)}, accurate in relative terms also where it is tiny. */
    static double erfc(double x) {
        if (Double.isNaN(x)) {
            return x;
        }
        double y = Math.abs(x);
        if (y <= SMALL) {
            return 1.0 - x * small(y);
        }
        double t = tail(y);
        return x < 0 ? 2.0 - t : t;
    }

    /** {@code erf(y) / y} for {@code 0 <= y <= 0.5}. */
    private static double small(double y) {
        double z = y * y;
        double num = A[4] * z;
        double den = z;
        for (int i = 0; i < 3; i++) {
            num = (num + A[i]) * z;
            den = (den + B[i]) * z;
        }
        return (num + A[3]) / (den + B[3]);
    }

    /** {@code erfc(y)} for {@code y > 0.5}. */
    private static double tail(double y) {
        if (y >= UNDERFLOW) {
            return 0.0;
        }
        double ratio;
        if (y <= MIDDLE) {
            double num = C[8] * y;
            double den = y;
            for (int i = 0; i < 7; i++) {
                num = (num + C[i]) * y;
                den = (den + D[i]) * y;
            }
            ratio = (num + C[7]) / (den + D[7]);
        } else {
            double z = 1.0 / (y * y);
            double num = P[5] * z;
            double den = z;
            for (int i = 0; i < 4; i++) {
                num = (num + P[i]) * z;
                den = (den + Q[i]) * z;
            }
            ratio = (ONE_OVER_SQRT_PI - z * (num + P[4]) / (den + Q[4])) / y;
        }
        double ysq = Math.floor(y * 16.0) / 16.0;
        double del = (y - ysq) * (y + ysq);
        return StrictMath.exp(-ysq * ysq) * StrictMath.exp(-del) * ratio;
    }
}
