package org.gpulrp.testing;

import org.gpulrp.backend.Backend;
import org.gpulrp.backend.BackendInfo;
import org.gpulrp.backend.Buffer;
import org.gpulrp.backend.Op;
import org.gpulrp.model.ConvGeometry;
import org.gpulrp.model.PoolGeometry;

/** A backend that passes every primitive to another one; tests override the calls they watch or change. */
public abstract class DelegatingBackend implements Backend {
    protected final Backend inner;

    protected DelegatingBackend(Backend inner) {
        this.inner = inner;
    }

    @Override
    public BackendInfo info() {
        return inner.info();
    }

    @Override
    public long passCacheBytes() {
        return inner.passCacheBytes();
    }

    @Override
    public Buffer allocate(int length) {
        return inner.allocate(length);
    }

    @Override
    public Buffer upload(float[] data) {
        return inner.upload(data);
    }

    @Override
    public void write(Buffer dst, float[] src, int srcOff, int length) {
        inner.write(dst, src, srcOff, length);
    }

    @Override
    public void read(Buffer src, float[] dst, int dstOff, int length) {
        inner.read(src, dst, dstOff, length);
    }

    @Override
    public void prepareConv(Op op, ConvGeometry g, Buffer... weights) {
        inner.prepareConv(op, g, weights);
    }

    @Override
    public void linear(Buffer x, Buffer wt, Buffer bias, Buffer z, int rows, int in, int out) {
        inner.linear(x, wt, bias, z, rows, in, out);
    }

    @Override
    public void linearSigned(Buffer x, Buffer ut, Buffer vt, Buffer biasP, Buffer biasN, Buffer outP, Buffer outN,
                             int rows, int in, int out) {
        inner.linearSigned(x, ut, vt, biasP, biasN, outP, outN, rows, in, out);
    }

    @Override
    public void linearZBox(Buffer x, Buffer wt, Buffer low, Buffer high, Buffer d, int rows, int in, int out) {
        inner.linearZBox(x, wt, low, high, d, rows, in, out);
    }

    @Override
    public void relu(Buffer in, Buffer out, int length) {
        inner.relu(in, out, length);
    }

    @Override
    public void splitSign(Buffer w, Buffer pos, Buffer neg, int length) {
        inner.splitSign(w, pos, neg, length);
    }

    @Override
    public void gammaWeights(Buffer w, float gamma, Buffer wp, Buffer wn, int length) {
        inner.gammaWeights(w, gamma, wp, wn, length);
    }

    @Override
    public void normalize(Buffer r, Buffer d, int dRowStride, float eps, Buffer g, int rows, int out) {
        inner.normalize(r, d, dRowStride, eps, g, rows, out);
    }

    @Override
    public void normalizeSigned(Buffer r, Buffer z, Buffer p, Buffer n, float eps, float scaleP, float scaleN,
                                boolean gammaMask, Buffer hp, Buffer hn, int rows, int out) {
        inner.normalizeSigned(r, z, p, n, eps, scaleP, scaleN, gammaMask, hp, hn, rows, out);
    }

    @Override
    public void backproject(Buffer g, Buffer w, Buffer x, Buffer r, int rows, int out, int in) {
        inner.backproject(g, w, x, r, rows, out, in);
    }

    @Override
    public void backprojectSigned(Buffer hp, Buffer hn, Buffer u, Buffer v, Buffer x, Buffer r, int rows, int out,
                                  int in) {
        inner.backprojectSigned(hp, hn, u, v, x, r, rows, out, in);
    }

    @Override
    public void backprojectZBox(Buffer g, Buffer w, Buffer wpos, Buffer wneg, Buffer x, Buffer low, Buffer high,
                                Buffer r, int rows, int out, int in) {
        inner.backprojectZBox(g, w, wpos, wneg, x, low, high, r, rows, out, in);
    }

    @Override
    public void conv(Buffer x, Buffer w, Buffer bias, Buffer z, int rows, ConvGeometry g) {
        inner.conv(x, w, bias, z, rows, g);
    }

    @Override
    public void convSigned(Buffer x, Buffer u, Buffer v, Buffer biasP, Buffer biasN, Buffer outP, Buffer outN, int rows,
                           ConvGeometry g) {
        inner.convSigned(x, u, v, biasP, biasN, outP, outN, rows, g);
    }

    @Override
    public void convZBox(Buffer x, Buffer w, Buffer low, Buffer high, Buffer d, int rows, ConvGeometry g) {
        inner.convZBox(x, w, low, high, d, rows, g);
    }

    @Override
    public void convBackproject(Buffer g, Buffer w, Buffer x, Buffer r, int rows, ConvGeometry geometry) {
        inner.convBackproject(g, w, x, r, rows, geometry);
    }

    @Override
    public void convBackprojectSigned(Buffer hp, Buffer hn, Buffer u, Buffer v, Buffer x, Buffer r, int rows,
                                      ConvGeometry g) {
        inner.convBackprojectSigned(hp, hn, u, v, x, r, rows, g);
    }

    @Override
    public void convBackprojectZBox(Buffer g, Buffer w, Buffer wpos, Buffer wneg, Buffer x, Buffer low, Buffer high,
                                    Buffer r, int rows, ConvGeometry geometry) {
        inner.convBackprojectZBox(g, w, wpos, wneg, x, low, high, r, rows, geometry);
    }

    @Override
    public void maxPool(Buffer x, Buffer y, Buffer arg, int rows, PoolGeometry p) {
        inner.maxPool(x, y, arg, rows, p);
    }

    @Override
    public void maxPoolRoute(Buffer r, Buffer arg, Buffer rIn, int rows, PoolGeometry p) {
        inner.maxPoolRoute(r, arg, rIn, rows, p);
    }

    @Override
    public void add(Buffer a, Buffer b, Buffer out, int n) {
        inner.add(a, b, out, n);
    }

    @Override
    public void mul(Buffer a, Buffer b, Buffer out, int n) {
        inner.mul(a, b, out, n);
    }

    @Override
    public void copyRows(Buffer src, int srcWidth, int srcOffset, Buffer dst, int dstWidth, int dstOffset, int width,
                         int rows) {
        inner.copyRows(src, srcWidth, srcOffset, dst, dstWidth, dstOffset, width, rows);
    }

    @Override
    public void close() {
        inner.close();
    }
}
