package org.gpulrp.reference;

import org.gpulrp.backend.Backend;
import org.gpulrp.backend.Buffer;
import org.gpulrp.testing.DelegatingBackend;

/**
 * A backend that delegates every primitive and can inject one plausible bug, to show that the reference and
 * bit-identity checks do fail when a backend is wrong.
 */
final class PerturbedBackend extends DelegatingBackend {
    /** The injected fault. */
    enum Fault {
        /** Flip the lowest mantissa bit of the first value of every backprojection: one ulp. */
        ONE_ULP_IN_BACKPROJECT,
        /** Stabilize with {@code d + eps} whatever the sign of d (a sign bug in stab). */
        STAB_IGNORES_SIGN
    }

    private final Fault fault;

    PerturbedBackend(Backend be, Fault fault) {
        super(be);
        this.fault = fault;
    }

    @Override
    public void normalize(Buffer r, Buffer d, int dRowStride, float eps, Buffer g, int rows, int out) {
        if (fault != Fault.STAB_IGNORES_SIGN) {
            inner.normalize(r, d, dRowStride, eps, g, rows, out);
            return;
        }
        float[] ra = new float[rows * out];
        float[] da = new float[dRowStride == 0 ? out : rows * out];
        inner.read(r, ra, 0, ra.length);
        inner.read(d, da, 0, da.length);
        float[] ga = new float[ra.length];
        for (int b = 0; b < rows; b++) {
            for (int j = 0; j < out; j++) {
                float s = da[b * dRowStride + j] + eps;
                ga[b * out + j] = s == 0 ? 0f : ra[b * out + j] / s;
            }
        }
        inner.write(g, ga, 0, ga.length);
    }

    @Override
    public void backproject(Buffer g, Buffer w, Buffer x, Buffer r, int rows, int out, int in) {
        inner.backproject(g, w, x, r, rows, out, in);
        if (fault == Fault.ONE_ULP_IN_BACKPROJECT) {
            float[] v = new float[rows * in];
            inner.read(r, v, 0, v.length);
            v[0] = Float.intBitsToFloat(Float.floatToRawIntBits(v[0]) ^ 1);
            inner.write(r, v, 0, v.length);
        }
    }
}
