package org.gpulrp.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Per-sample sums (the health report's, and the conservation report's, computed when asked): each row in ascending
 * order in double, however the rows are grouped.
 */
class EngineRowSumsTest {
    @Test
    void eachRowIsSummedInAscendingOrder() {
        SplittableRandom rnd = new SplittableRandom(7);
        for (int in : new int[] {1, 3, 10, 33}) {
            for (int rows : new int[] {1, 3, 4, 5, 8, 11}) {
                int row0 = 2;
                float[] r = new float[(row0 + rows) * in];
                for (int k = 0; k < r.length; k++) {
                    // magnitudes far apart, so another order of the adds would round differently
                    r[k] = (float) ((rnd.nextDouble() - 0.5) * Math.pow(10, rnd.nextInt(-6, 7)));
                }
                double[] sums = new double[row0 + rows];
                Health.rowSums(r, row0, rows, in, sums, row0);
                assertEquals(0.0, sums[0], "rows before row0 are untouched");
                for (int b = row0; b < row0 + rows; b++) {
                    double expected = 0;
                    for (int i = 0; i < in; i++) {
                        expected += r[b * in + i];
                    }
                    assertEquals(Double.doubleToRawLongBits(expected), Double.doubleToRawLongBits(sums[b]),
                            "in " + in + ", rows " + rows + ", row " + b);
                    assertEquals(Double.doubleToRawLongBits(expected),
                            Double.doubleToRawLongBits(Health.rowSum(r, b, in)), "rowSum, row " + b);
                }
            }
        }
    }
}
