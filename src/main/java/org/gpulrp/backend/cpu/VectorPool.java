package org.gpulrp.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.gpulrp.model.PoolGeometry;

/**
 * Max pooling on the Vector API path: 2x2 windows inside the input, on planes of at least a vector of outputs, in
 * samples of under 2^24 values ({@link #applies}); the same results as {@link PoolKernels#maxPool}, bit for bit.
 * The scalar kernel chose each window's index by integer selects and re-read the value, a chain of dependent loads:
 * about 9 % of the 1x28x28 CNN's explain time.
 */
final class VectorPool {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();

    private VectorPool() {
    }

    static boolean applies(PoolGeometry p) {
        return p.kernelH() == 2 && p.kernelW() == 2 && p.windowsInside() && p.outH() * p.outW() >= L
                && p.inSize() < 1 << 24;
    }

    /**
     * {@link PoolKernels#maxPool} for 2x2 windows inside the input, with the lanes over a channel's output positions
     * (row after row, so a 14 x 14 plane fills whole vectors though its rows are narrower than one): each window's
     * four values gathered by a per-plane index
     * table, the same strictly-greater scan a, b, c, d by compares and blends, the index chosen alongside as a float
     * (exact: the sample is under 2^24 values, so every sum below is an integer under 2^24). A plane's last positions,
     * fewer than a vector, go through the scalar loop.
     */
    static void maxPool2x2(float[] x, float[] y, float[] arg, int r0, int r1, PoolGeometry p) {
        int h = p.inH();
        int w = p.inW();
        int oh = p.outH();
        int ow = p.outW();
        int n = oh * ow;
        int[] idx = new int[n];
        float[] fidx = new float[n];
        for (int yy = 0; yy < oh; yy++) {
            for (int q = 0; q < ow; q++) {
                idx[yy * ow + q] = yy * p.strideH() * w + q * p.strideW();
                fidx[yy * ow + q] = idx[yy * ow + q];
            }
        }
        int whole = n / L * L;
        for (int b = r0; b < r1; b++) {
            int xb = b * p.inSize();
            for (int c = 0; c < p.channels(); c++) {
                int plane = c * h * w;
                int xc = xb + plane;
                int o = b * p.outSize() + c * n;
                for (int k = 0; k < whole; k += L) {
                    FloatVector m = FloatVector.fromArray(S, x, xc, idx, k);
                    FloatVector ia = FloatVector.fromArray(S, fidx, k).add((float) plane);
                    FloatVector ix = ia;
                    FloatVector v = FloatVector.fromArray(S, x, xc + 1, idx, k);
                    VectorMask<Float> gt = v.compare(VectorOperators.GT, m);
                    m = m.blend(v, gt);
                    ix = ix.blend(ia.add(1f), gt);
                    v = FloatVector.fromArray(S, x, xc + w, idx, k);
                    gt = v.compare(VectorOperators.GT, m);
                    m = m.blend(v, gt);
                    ix = ix.blend(ia.add((float) w), gt);
                    v = FloatVector.fromArray(S, x, xc + w + 1, idx, k);
                    gt = v.compare(VectorOperators.GT, m);
                    m = m.blend(v, gt);
                    ix = ix.blend(ia.add((float) (w + 1)), gt);
                    m.intoArray(y, o + k);
                    ix.intoArray(arg, o + k);
                }
                for (int k = whole; k < n; k++) {
                    int best = PoolKernels.best2x2(x, xb, plane + idx[k], w);
                    y[o + k] = x[xb + best];
                    arg[o + k] = best;
                }
            }
        }
    }
}
