package org.gpulrp.testing;

import java.util.function.IntConsumer;
import org.gpulrp.backend.Backend;
import org.gpulrp.backend.BackendInfo;
import org.gpulrp.backend.Buffer;
import org.gpulrp.backend.ConvGeometry;
import org.gpulrp.backend.PoolGeometry;

/**
 * A backend that delegates every primitive and calls a hook whenever an engine starts a chunk, so that tests can
 * watch or hold lanes. The start of a chunk is the forward {@code linear} call of the first layer (the only one with
 * {@code in == inputFloatsPerRow}): use it with a dense network of distinct widths under the epsilon rule.
 */
public final class HookedBackend implements Backend {
    private final Backend be;
    private final int inputFloatsPerRow;
    private final IntConsumer onChunk;

    /**
     * @param inputFloatsPerRow the network's input size
     * @param onChunk           called with the chunk's row count on the lane's thread, before the chunk runs
     */
    public HookedBackend(Backend be, int inputFloatsPerRow, IntConsumer onChunk) {
        this.be = be;
        this.inputFloatsPerRow = inputFloatsPerRow;
        this.onChunk = onChunk;
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
        if (in == inputFloatsPerRow) {
            onChunk.accept(rows);
        }
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
        be.normalize(r, d, dRowStride, eps, g, rows, out);
    }

    @Override
    public void normalizeSigned(Buffer r, Buffer z, Buffer p, Buffer n, float eps, float scaleP, float scaleN,
                                boolean gammaMask, Buffer hp, Buffer hn, int rows, int out) {
        be.normalizeSigned(r, z, p, n, eps, scaleP, scaleN, gammaMask, hp, hn, rows, out);
    }

    @Override
    public void backproject(Buffer g, Buffer w, Buffer x, Buffer r, int rows, int out, int in) {
        be.backproject(g, w, x, r, rows, out, in);
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
