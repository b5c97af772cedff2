package org.gpulrp.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The layer norm's sums follow their documented order exactly, whatever the machine's vector width: value i in chain
 * {@code i % 16}, the chains added in ascending order, then the tail (docs/DESIGN.md section 3, rule 5).
 */
class HostLayerNormSumsTest {

    private static double[] values(SplittableRandom r, int n) {
        double[] a = new double[n];
        for (int i = 0; i < n; i++) {
            a[i] = r.nextGaussian() * Math.pow(10, r.nextInt(-3, 4));
        }
        return a;
    }

    private static double referenceDot(double[] a, double[] b, int n, boolean multiply) {
        int whole = n - n % 16;
        double[] chains = new double[16];
        for (int i = 0; i < whole; i++) {
            chains[i % 16] = multiply ? Math.fma(a[i], b[i], chains[i % 16]) : chains[i % 16] + a[i];
        }
        double total = 0;
        for (int j = 0; j < 16; j++) {
            total += chains[j];
        }
        for (int i = whole; i < n; i++) {
            total = multiply ? Math.fma(a[i], b[i], total) : total + a[i];
        }
        return total;
    }

    @Test
    void dotAndSumTakeTheDocumentedOrderOnThisMachine() {
        SplittableRandom r = new SplittableRandom(17);
        for (int n : new int[] {0, 1, 7, 15, 16, 17, 33, 64, 100, 768, 1000}) {
            double[] a = values(r, n + 5);   // longer than n: only the first n count
            double[] b = values(r, n + 5);
            assertEquals(Double.doubleToRawLongBits(referenceDot(a, b, n, true)),
                    Double.doubleToRawLongBits(HostLayerNorm.dot(a, b, n)), "dot, n = " + n);
            double[] ones = new double[n + 5];
            java.util.Arrays.fill(ones, 1.0);
            assertEquals(Double.doubleToRawLongBits(referenceDot(a, b, n, false)),
                    Double.doubleToRawLongBits(HostLayerNorm.dot(a, ones, n)), "sum (dot with ones), n = " + n);
        }
    }
}
