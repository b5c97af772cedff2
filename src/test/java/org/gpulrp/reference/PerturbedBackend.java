package org.gpulrp.reference;

import org.gpulrp.backend.Backend;
import org.gpulrp.backend.BackendInfo;
import org.gpulrp.backend.Buffer;
import org.gpulrp.backend.ConvGeometry;
import org.gpulrp.backend.PoolGeometry;

/**
 * A backend that delegates every primitive and can inject one plausible bug, to show that the reference and
 * bit-identity checks do fail when a backend is wrong.
 */
final class PerturbedBackend implements Backend {
    /** The injected fault. */
    enum Fault {
        /** Flip the lowest mantissa bit of the first value of every backprojection: one ulp. */
        ONE_ULP_IN_BACKPROJECT,
        /** Stabilize with {@code d + eps} whatever the sign of d (a sign bug in stab). */
        STAB_IGNORES_SIGN
    }

    private final Backend be;
    private final Fault fault;

    PerturbedBackend(Backend be, Fault fault) {
        this.be = be;
        this.fault = fault;
    }

    @Override
    public BackendInfo info() {
        return be.info();
    }

    @Override
    public Buffer allocate(int length) {
        return be.allocate(length);
    }

    @Override
    public Buffer upload(float[] data) {
        return be.upload(data);
    }

    @Override
    public void write(Buffer dst, float[] src, int srcOff, int length) {
        be.write(dst, src, srcOff, length);
    }

    @Override
    public void read(Buffer src, float[] dst, int dstOff, int length) {
        be.read(src, dst, dstOff, length);
    }

    @Override
    public void linear(Buffer x, Buffer wt, Buffer bias, Buffer z, int rows, int in, int out) {
        be.linear(x, wt, bias, z, rows, in, out);
    }

    @Override
    public void linearSigned(Buffer x, Buffer ut, Buffer vt, Buffer biasP, Buffer biasN, Buffer outP, Buffer outN,
                             int rows, int in, int out) {
        be.linearSigned(x, ut, vt, biasP, biasN, outP, outN, rows, in, out);
    }

    @Override
    public void linearZBox(Buffer x, Buffer wt, Buffer low, Buffer high, Buffer d, int rows, int in, int out) {
        be.linearZBox(x, wt, low, high, d, rows, in, out);
    }

    @Override
    public void relu(Buffer in, Buffer out, int length) {
        be.relu(in, out, length);
    }

    @Override
    public void splitSign(Buffer w, Buffer pos, Buffer neg, int length) {
        be.splitSign(w, pos, neg, length);
    }

    @Override
    public void gammaWeights(Buffer w, float gamma, Buffer wp, Buffer wn, int length) {
        be.gammaWeights(w, gamma, wp, wn, length);
    }

    @Override
    public void normalize(Buffer r, Buffer d, int dRowStride, float eps, Buffer g, int rows, int out) {
        if (fault != Fault.STAB_IGNORES_SIGN) {
            be.normalize(r, d, dRowStride, eps, g, rows, out);
            return;
        }
        float[] ra = new float[rows * out];
        float[] da = new float[dRowStride == 0 ? out : rows * out];
        be.read(r, ra, 0, ra.length);
        be.read(d, da, 0, da.length);
        float[] ga = new float[ra.length];
        for (int b = 0; b < rows; b++) {
            for (int j = 0; j < out; j++) {
                float s = da[b * dRowStride + j] + eps;
                ga[b * out + j] = s == 0 ? 0f : ra[b * out + j] / s;
            }
        }
        be.write(g, ga, 0, ga.length);
    }

    @Override
    public void normalizeSigned(Buffer r, Buffer z, Buffer p, Buffer n, float eps, float scaleP, float scaleN,
                                boolean gammaMask, Buffer hp, Buffer hn, int rows, int out) {
        be.normalizeSigned(r, z, p, n, eps, scaleP, scaleN, gammaMask, hp, hn, rows, out);
    }

    @Override
    public void backproject(Buffer g, Buffer w, Buffer x, Buffer r, int rows, int out, int in) {
        be.backproject(g, w, x, r, rows, out, in);
        if (fault == Fault.ONE_ULP_IN_BACKPROJECT) {
            float[] v = new float[rows * in];
            be.read(r, v, 0, v.length);
            v[0] = Float.intBitsToFloat(Float.floatToRawIntBits(v[0]) ^ 1);
            be.write(r, v, 0, v.length);
        }
    }

    @Override
    public void backprojectSigned(Buffer hp, Buffer hn, Buffer u, Buffer v, Buffer x, Buffer r, int rows, int out,
                                  int in) {
        be.backprojectSigned(hp, hn, u, v, x, r, rows, out, in);
    }

    @Override
    public void backprojectZBox(Buffer g, Buffer w, Buffer wpos, Buffer wneg, Buffer x, Buffer low, Buffer high,
                                Buffer r, int rows, int out, int in) {
        be.backprojectZBox(g, w, wpos, wneg, x, low, high, r, rows, out, in);
    }

    @Override
    public void conv(Buffer x, Buffer w, Buffer bias, Buffer z, int rows, ConvGeometry g) {
        be.conv(x, w, bias, z, rows, g);
    }

    @Override
    public void convSigned(Buffer x, Buffer u, Buffer v, Buffer biasP, Buffer biasN, Buffer outP, Buffer outN,
                           int rows, ConvGeometry g) {
        be.convSigned(x, u, v, biasP, biasN, outP, outN, rows, g);
    }

    @Override
    public void convZBox(Buffer x, Buffer w, Buffer low, Buffer high, Buffer d, int rows, ConvGeometry g) {
        be.convZBox(x, w, low, high, d, rows, g);
    }

    @Override
    public void convBackproject(Buffer g, Buffer w, Buffer x, Buffer r, int rows, ConvGeometry geometry) {
        be.convBackproject(g, w, x, r, rows, geometry);
    }

    @Override
    public void convBackprojectSigned(Buffer hp, Buffer hn, Buffer u, Buffer v, Buffer x, Buffer r, int rows,
                                      ConvGeometry g) {
        be.convBackprojectSigned(hp, hn, u, v, x, r, rows, g);
    }

    @Override
    public void convBackprojectZBox(Buffer g, Buffer w, Buffer wpos, Buffer wneg, Buffer x, Buffer low,
                                    Buffer high, Buffer r, int rows, ConvGeometry geometry) {
        be.convBackprojectZBox(g, w, wpos, wneg, x, low, high, r, rows, geometry);
    }

    @Override
    public void maxPool(Buffer x, Buffer y, Buffer arg, int rows, PoolGeometry p) {
        be.maxPool(x, y, arg, rows, p);
    }

    @Override
    public void maxPoolRoute(Buffer r, Buffer arg, Buffer rIn, int rows, PoolGeometry p) {
        be.maxPoolRoute(r, arg, rIn, rows, p);
    }

    @Override
    public void add(Buffer a, Buffer b, Buffer out, int n) {
        be.add(a, b, out, n);
    }

    @Override
    public void mul(Buffer a, Buffer b, Buffer out, int n) {
        be.mul(a, b, out, n);
    }

    @Override
    public void copyRows(Buffer src, int srcWidth, int srcOffset, Buffer dst, int dstWidth, int dstOffset,
                         int width, int rows) {
        be.copyRows(src, srcWidth, srcOffset, dst, dstWidth, dstOffset, width, rows);
    }

    @Override
    public void close() {
        be.close();
    }
}
