package org.gpulrp.backend.cpu;

import org.gpulrp.model.ConvGeometry;

/**
 * The kernels that read padded copies instead of skipping the taps outside the input ({@link VectorConv}'s plain
 * and ZBox forwards of stride-1 rows, {@link SpatialConv}'s backprojections of rows that are mostly borders,
 * {@link StridedConv#forwardZBox}) need finite weights ({@link #finite}: a
 * padding value times an infinity is NaN, where the skipped tap adds nothing). The ZBox forwards' padding makes such
 * a tap's product -0,
 * which leaves any chain as it is, for every finite weight but one of exactly +0, whose product there is +0. Adding
 * +0 turns a chain that is -0 (its products underflowed) into +0; the chains then differ only in the sign of a zero,
 * and either agree again at the next product whose exact value is not zero or end as +0 where the contract's chain
 * ends as -0 (a +0 added can only move a zero from -0 to +0, and adding the same products keeps that). So in a layer
 * with such weights, the outputs that end as +0 are computed again by the scalar chain ({@link #repair}), which gives
 * the contract's bits; infinite or NaN weights (whose product with the padding is NaN) leave those kernels out.
 */
final class Padding {
    private Padding() {
    }

    /** Whether every weight is finite (the padded kernels apply). */
    static boolean finite(float[] w) {
        for (float v : w) {
            if (!Float.isFinite(v)) {
                return false;
            }
        }
        return true;
    }

    /** Whether some weight is exactly +0 (the padded kernels' outputs that end as +0 need {@link #repair}). */
    static boolean plusZero(float[] w) {
        for (float v : w) {
            if (Float.floatToRawIntBits(v) == 0) {
                return true;
            }
        }
        return false;
    }

    /** Output row {@code y} of channel {@code oc}, sample {@code b}, at {@code d[o]}: its +0 outputs recomputed. */
    static void repair(float[] x, float[] w, float[] low, float[] high, float[] d, int o, int b, int oc, int y,
                       ConvGeometry g) {
        for (int q = 0; q < g.outW(); q++) {
            if (Float.floatToRawIntBits(d[o + q]) == 0) {
                d[o + q] = ScalarConv.fwdZBox(x, b * g.inSize(), w, low, high, g, oc, y, q);
            }
        }
    }
}
