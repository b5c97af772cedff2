package org.gpulrp.internal;

import java.util.Arrays;
import org.gpulrp.backend.Backend;
import org.gpulrp.backend.Buffer;
import org.gpulrp.model.Dense;
import org.gpulrp.rules.Rule;
import org.gpulrp.rules.ZBox;

/**
 * A dense layer: W [out,in] for the backprojection, its transpose Wt [in,out] for the forward map. A token-wise
 * layer ({@link Dense#positions()} &gt; 1) runs every primitive over {@code rows * positions} rows of width in / out:
 * each position is explained as a sample of its own would be (docs/DESIGN.md section 2.9).
 */
final class DenseStep extends LinearStep {

    DenseStep(Backend be, String name, Dense layer, Rule rule) {
        super(be, name, layer.positions(), layer.in(), layer.out(), rule, layer.in(), false);
        prepare(layer.weight(), layer.bias());
    }

    /** {@code t[c, r] = a[r, c]}, in square blocks so that both sides stay in cache (a copy: no arithmetic). */
    static float[] transpose(float[] a, int rows, int cols) {
        float[] t = new float[a.length];
        final int block = 32;
        for (int r0 = 0; r0 < rows; r0 += block) {
            int r1 = Math.min(rows, r0 + block);
            for (int c0 = 0; c0 < cols; c0 += block) {
                int c1 = Math.min(cols, c0 + block);
                for (int r = r0; r < r1; r++) {
                    for (int c = c0; c < c1; c++) {
                        t[c * rows + r] = a[r * cols + c];
                    }
                }
            }
        }
        return t;
    }

    @Override
    protected void uploadWeights(float[] wf) {
        w = keep(be.upload(wf));
        wt = keep(be.upload(transpose(wf, out, in)));
    }

    /**
     * The plain maps' weights get the backend's packed layout ({@link Backend#prepareDense}): {@code wt} as
     * [in, out] for the forward map, {@code w} as [out, in] (stacked: [2 out, in]) for the backprojection.
     */
    @Override
    protected void prepareWeights(Use use, Buffer... weights) {
        switch (use) {
            case FORWARD -> be.prepareDense(weights[0], in, out);
            case BACKPROJECT -> be.prepareDense(weights[0], out, in);
            case BACKPROJECT_STACKED -> be.prepareDense(weights[0], 2 * out, in);
            default -> {
            }
        }
    }

    /** Computed on the host in a fixed order (one fma chain per output), shared by every backend. */
    @Override
    protected Buffer[] fixedDenominators(float[] wf, float[] denominatorBias, boolean square) {
        float[] mw = new float[wf.length];
        float[] d = new float[out];
        if (square) {
            for (int j = 0; j < out; j++) {
                float acc = 0f;
                for (int i = 0; i < in; i++) {
                    float x = wf[j * in + i];
                    mw[j * in + i] = x * x;
                    acc = Math.fma(x, x, acc);
                }
                d[j] = acc + denominatorBias[j];
            }
        } else {
            Arrays.fill(mw, 1f);
            for (int j = 0; j < out; j++) {
                d[j] = in + denominatorBias[j];
            }
        }
        return new Buffer[] {be.upload(mw), be.upload(d)};
    }

    @Override
    protected float[] perOutputFeature(float[] perChannel) {
        return perChannel;
    }

    @Override
    protected float[] expandBounds(ZBox zb, boolean low) {
        float[] b = new float[in];
        for (int i = 0; i < in; i++) {
            b[i] = low ? zb.low(i) : zb.high(i);
        }
        return b;
    }

    @Override
    protected void forwardMap(Buffer x, Buffer wFwd, Buffer b, Buffer z, int rows) {
        be.linear(x, wFwd, b, z, rows, in, out);
    }

    @Override
    protected void forwardSigned(Buffer x, Buffer wpFwd, Buffer wnFwd, Buffer bp, Buffer bn, Buffer p, Buffer n,
                                 int rows) {
        be.linearSigned(x, wpFwd, wnFwd, bp, bn, p, n, rows, in, out);
    }

    @Override
    protected void forwardZBox(Buffer x, Buffer wFwd, Buffer lo, Buffer hi, Buffer d, int rows) {
        be.linearZBox(x, wFwd, lo, hi, d, rows, in, out);
    }

    @Override
    protected boolean canStack() {
        return true;
    }

    @Override
    protected void backprojectStacked(Buffer g, Buffer wStacked, Buffer x, Buffer r, int rows) {
        be.backproject(g, wStacked, x, r, rows, 2 * out, in);
    }

    @Override
    protected void backprojectMap(Buffer g, Buffer wBwd, Buffer x, Buffer r, int rows) {
        be.backproject(g, wBwd, x, r, rows, out, in);
    }

    @Override
    protected void backprojectSignedMap(Buffer hp, Buffer hn, Buffer wp, Buffer wn, Buffer x, Buffer r, int rows) {
        be.backprojectSigned(hp, hn, wp, wn, x, r, rows, out, in);
    }

    @Override
    protected void backprojectZBoxMap(Buffer g, Buffer wBwd, Buffer wp, Buffer wn, Buffer x, Buffer lo, Buffer hi,
                                      Buffer r, int rows) {
        be.backprojectZBox(g, wBwd, wp, wn, x, lo, hi, r, rows, out, in);
    }
}
