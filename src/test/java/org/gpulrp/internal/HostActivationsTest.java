package org.gpulrp.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.gpulrp.model.Activation;
import org.gpulrp.reference.Float64Graph;
import org.junit.jupiter.api.Test;

/**
 * The error function of {@link Erf} against published values (Abramowitz and Stegun table 7.1, to the digits a
 * double holds; the far tails of erfc as the C library's {@code erfc} gives them) and against the independent series
 * and continued fraction of the test reference, and the transformer activations of {@link HostMath#activation}
 * against their float64 formulas.
 */
class HostActivationsTest {
    /** {x, erf(x)}. */
    private static final double[][] ERF = {{0, 0}, {0.1, 0.1124629160182849}, {0.5, 0.5204998778130465},
        {1, 0.8427007929497149}, {2, 0.9953222650189527}, {-3, -0.9999779095030014}, {3.5, 0.9999992569016276},
        {4.5, 0.9999999998033839}, {6, 1.0}};
    /** {x, erfc(x)}: the tails, where erfc keeps its relative accuracy and 1 - erf(x) would be 0. */
    private static final double[][] ERFC = {{-1, 1.842700792949715}, {0.3, 0.6713732405408726},
        {1, 0.15729920705028513}, {2, 0.004677734981047265}, {5, 1.5374597944280351e-12},
        {10, 2.088487583762545e-45}, {20, 5.3958656116079005e-176}, {26, 5.663192408856143e-296}};

    @Test
    void erfMatchesPublishedValues() {
        for (double[] v : ERF) {
            assertEquals(v[1], Erf.erf(v[0]), 2e-16 * Math.max(1e-300, Math.abs(v[1])), "erf(" + v[0] + ")");
            assertEquals(-v[1], Erf.erf(-v[0]), 2e-16 * Math.abs(v[1]), "erf is odd");
        }
        for (double[] v : ERFC) {
            assertEquals(v[1], Erf.erfc(v[0]), 1e-15 * v[1], "erfc(" + v[0] + ")");
        }
        assertEquals(0.0, Erf.erfc(27), "erfc underflows past 26.5");
        assertEquals(2.0, Erf.erfc(-30));
        assertTrue(Double.isNaN(Erf.erf(Double.NaN)) && Double.isNaN(Erf.erfc(Double.NaN)));
    }

    @Test
    void erfMatchesAnIndependentSeries() {
        SplittableRandom r = new SplittableRandom(5);
        double worst = 0;
        for (int k = 0; k < 20000; k++) {
            double x = (r.nextDouble() - 0.5) * 14;
            double ref = Float64Graph.erf(x);
            worst = Math.max(worst, Math.abs(Erf.erf(x) - ref) / Math.max(Math.abs(ref), 1e-300));
            if (x > 0.5) {
                // The reference's erfc is 1 - its series below 3 (about 1e-13 off, absolutely), its continued
                // fraction above (1e-15 relative): the tails must agree in relative terms.
                double c = Float64Graph.erfc(x);
                assertEquals(c, Erf.erfc(x), x < 3 ? 2e-13 : 1e-14 * c, "erfc(" + x + ")");
            }
        }
        assertTrue(worst < 1e-13, "worst relative error " + worst);
    }

    @Test
    void transformerActivationsMatchTheirFormulas() {
        SplittableRandom r = new SplittableRandom(6);
        int n = 4001;
        float[] x = new float[n];
        for (int k = 0; k < n; k++) {
            x[k] = k < 2000 ? (float) ((k - 1000) / 100.0) : (float) (r.nextGaussian() * 4);
        }
        x[0] = -30f;
        x[1] = 30f;
        x[2] = -0f;
        for (Activation.Function f : new Activation.Function[] {Activation.Function.GELU,
            Activation.Function.GELU_TANH, Activation.Function.TANH}) {
            float[] y = new float[n];
            HostMath.activation(f, x, y, 1, n);
            for (int k = 0; k < n; k++) {
                double ref = Float64Graph.activation(f, x[k]);
                // Rounded once from a double within a few ulps of the truth: at most one float ulp off.
                assertEquals(ref, y[k], Math.ulp((float) ref) + 1e-44, f + "(" + x[k] + ")");
            }
        }
        // GELU far left: x erfc(-x / sqrt 2) / 2 keeps the tiny negative value that 1 + erf(x / sqrt 2) rounds away.
        float[] y = new float[1];
        HostMath.activation(Activation.Function.GELU, new float[] {-8f}, y, 1, 1);
        assertEquals(-4.9767684594174555e-15, y[0], Math.ulp(4.98e-15f), "gelu(-8) = -8 Phi(-8)");
    }

    @Test
    void vectorExpIsWithinOneUlpOfStrictMath() {
        SplittableRandom r = new SplittableRandom(7);
        for (int k = 0; k < 200000; k++) {
            double x = k < 100000 ? (r.nextDouble() - 0.5) * 1416 : (r.nextDouble() - 0.5) * 4;
            double ref = StrictMath.exp(x);
            assertEquals(ref, VectorExp.exp(x), Math.ulp(ref), "exp(" + x + ")");
        }
        assertEquals(1.0, VectorExp.exp(0.0));
        assertEquals(1.0, VectorExp.exp(-0.0));
        assertTrue(Double.isNaN(VectorExp.exp(Double.NaN)));
        // Clamped to [-708, 709]: exp(-inf) is tiny but positive, and rounds to 0 in every float result.
        assertTrue(VectorExp.exp(Double.NEGATIVE_INFINITY) < 1e-307 && (float) VectorExp.exp(-1000) == 0f);
        assertTrue(VectorExp.exp(1000) > Float.MAX_VALUE);
    }

    @Test
    void vectorMathGivesEveryLaneTheSameBits() {
        // A value's result does not depend on its place in a vector or on its neighbours: each of 13 values (one
        // partial vector included) alone, and within a run of other values, gives the same float.
        float[] x = {-7.5f, -2f, -0.6f, -0.5f, -1e-3f, 0f, 0.25f, 0.5f, 0.7f, 3.9f, 4.1f, 30f, Float.NaN};
        for (Activation.Function f : new Activation.Function[] {Activation.Function.GELU,
            Activation.Function.SIGMOID, Activation.Function.SILU}) {
            float[] all = new float[x.length];
            HostMath.activation(f, x, all, 1, x.length);
            for (int k = 0; k < x.length; k++) {
                float[] one = new float[1];
                HostMath.activation(f, new float[] {x[k]}, one, 1, 1);
                assertEquals(Float.floatToRawIntBits(one[0]), Float.floatToRawIntBits(all[k]), f + "(" + x[k] + ")");
                double ref = Float64Graph.activation(f, x[k]);
                if (!Float.isNaN(x[k])) {
                    assertEquals(ref, all[k], Math.ulp((float) ref) + 1e-44, f + "(" + x[k] + ")");
                }
            }
        }
        float[] row = new float[11];
        float[] soft = new float[11];
        for (int j = 0; j < row.length; j++) {
            row[j] = j - 5.5f;
        }
        HostMath.softmax(row, soft, 1, row.length);
        double sum = 0;
        for (float v : row) {
            sum += Math.exp(v);
        }
        for (int j = 0; j < row.length; j++) {
            assertEquals(Math.exp(row[j]) / sum, soft[j], Math.ulp(soft[j]), "softmax[" + j + "]");
        }
    }

    @Test
    void lastStepsOnVectorsAreTheScalarStatements() {
        SplittableRandom r = new SplittableRandom(7);
        int n = 8 * VectorExp.LANES;
        double[] x = new double[n];
        double[] e = new double[n];
        for (int j = 0; j < n; j++) {
            x[j] = r.nextGaussian() * 20;
            e[j] = Math.exp(-x[j]);
        }
        double[] specials = {0.0, -0.0, Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, -1.0,
            Double.MIN_VALUE, Double.MAX_VALUE};
        for (int j = 0; j < specials.length; j++) {
            x[j] = specials[j];
            e[specials.length - 1 - j] = specials[j];
        }
        double[] sigmoid = e.clone();
        double[] silu = e.clone();
        double[] gelu = e.clone();
        VectorExp.logistic(null, sigmoid, n);
        VectorExp.logistic(x, silu, n);
        VectorExp.halfProduct(x, gelu, n);
        for (int j = 0; j < n; j++) {
            assertEquals(Double.doubleToRawLongBits(1.0 / (1.0 + e[j])), Double.doubleToRawLongBits(sigmoid[j]));
            assertEquals(Double.doubleToRawLongBits(x[j] / (1.0 + e[j])), Double.doubleToRawLongBits(silu[j]));
            assertEquals(Double.doubleToRawLongBits(x[j] * 0.5 * e[j]), Double.doubleToRawLongBits(gelu[j]));
        }
    }
}
