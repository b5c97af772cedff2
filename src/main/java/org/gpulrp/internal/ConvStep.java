package org.gpulrp.internal;

import java.util.Arrays;
import org.gpulrp.backend.Backend;
import org.gpulrp.backend.Buffer;
import org.gpulrp.backend.Op;
import org.gpulrp.model.ConvGeometry;
import org.gpulrp.model.Conv2d;
import org.gpulrp.rules.Rule;
import org.gpulrp.rules.ZBox;

/**
 * A 2-D convolution: one weight layout serves the forward map and the backprojection (the transposed convolution).
 * The WSquare and Flat denominators depend on the position at the border (padding taps are absent), so they are
 * computed once on the backend as the convolution of an all-ones input with the modified weight.
 */
final class ConvStep extends LinearStep {
    private final ConvGeometry g;
    /** The geometry of {@link #backprojectStacked}: the outputs doubled. */
    private final ConvGeometry stacked;

    /** @param rawBias the bias enters every modified forward pass unchanged (Zennit's merged-BatchNorm bias) */
    ConvStep(Backend be, String name, Conv2d layer, Rule rule, boolean rawBias) {
        this(be, name, layer.geometry(), layer.weight(), layer.bias(), rule, rawBias);
    }

    /** Any convolution-shaped linear map, e.g. average pooling as a depthwise convolution. */
    ConvStep(Backend be, String name, ConvGeometry g, float[] weight, float[] bias, Rule rule) {
        this(be, name, g, weight, bias, rule, false);
    }

    private ConvStep(Backend be, String name, ConvGeometry g, float[] weight, float[] bias, Rule rule,
                     boolean rawBias) {
        super(be, name, g.inSize(), g.outSize(), rule, g.inChannels(), rawBias);
        this.g = g;
        this.stacked = new ConvGeometry(g.inChannels(), g.inH(), g.inW(), 2 * g.outChannels(), g.kernelH(),
                g.kernelW(), g.strideH(), g.strideW(), g.padH(), g.padW(), g.dilationH(), g.dilationW(), 1);
        prepare(weight, bias);
    }

    @Override
    protected boolean canStack() {
        return g.groups() == 1;
    }

    @Override
    protected void backprojectStacked(Buffer gr, Buffer wStacked, Buffer x, Buffer r, int rows) {
        be.convBackproject(gr, wStacked, x, r, rows, stacked);
    }

    /** The backend prepares the weights for the conv primitive each use runs (its layouts, its arranged copies). */
    @Override
    protected void prepareWeights(Use use, Buffer... weights) {
        switch (use) {
            case FORWARD -> be.prepareConv(Op.CONV, g, weights);
            case FORWARD_SIGNED -> be.prepareConv(Op.CONV_SIGNED, g, weights);
            case FORWARD_SIGNED_P -> be.prepareConv(Op.CONV_SIGNED_P, g, weights);
            case FORWARD_ZBOX -> be.prepareConv(Op.CONV_ZBOX, g, weights);
            case BACKPROJECT -> be.prepareConv(Op.CONV_BACKPROJECT, g, weights);
            case BACKPROJECT_SIGNED -> be.prepareConv(Op.CONV_BACKPROJECT_SIGNED, g, weights);
            case BACKPROJECT_ZBOX -> be.prepareConv(Op.CONV_BACKPROJECT_ZBOX, g, weights);
            case BACKPROJECT_STACKED -> be.prepareConv(Op.CONV_BACKPROJECT, stacked, weights);
        }
    }

    @Override
    protected void uploadWeights(float[] wf) {
        w = keep(be.upload(wf));
        wt = w;
    }

    @Override
    protected Buffer[] fixedDenominators(float[] wf, float[] mb, boolean square) {
        float[] mw = new float[wf.length];
        for (int k = 0; k < wf.length; k++) {
            mw[k] = square ? wf[k] * wf[k] : 1f;
        }
        float[] ones = new float[g.inSize()];
        Arrays.fill(ones, 1f);
        Buffer weights = be.upload(mw);
        Buffer d = be.allocate(g.outSize());
        try (Buffer x = be.upload(ones); Buffer b = be.upload(mb)) {
            be.conv(x, weights, b, d, 1, g);
        } catch (RuntimeException e) {
            weights.close();
            d.close();
            throw e;
        }
        return new Buffer[] {weights, d};
    }

    @Override
    protected float[] perOutputFeature(float[] perChannel) {
        int plane = g.outH() * g.outW();
        float[] f = new float[g.outSize()];
        for (int k = 0; k < f.length; k++) {
            f[k] = perChannel[k / plane];
        }
        return f;
    }

    @Override
    protected float[] expandBounds(ZBox zb, boolean low) {
        float[] b = new float[in];
        int plane = g.inH() * g.inW();
        for (int i = 0; i < in; i++) {
            int k = zb.boundCount() == 1 ? 0 : zb.boundCount() == in ? i : i / plane;
            b[i] = low ? zb.low(k) : zb.high(k);
        }
        return b;
    }

    @Override
    protected void forwardMap(Buffer x, Buffer wFwd, Buffer b, Buffer z, int rows) {
        be.conv(x, wFwd, b, z, rows, g);
    }

    @Override
    protected void forwardSigned(Buffer x, Buffer wpFwd, Buffer wnFwd, Buffer bp, Buffer bn, Buffer p, Buffer n,
                                 int rows) {
        be.convSigned(x, wpFwd, wnFwd, bp, bn, p, n, rows, g);
    }

    @Override
    protected void forwardZBox(Buffer x, Buffer wFwd, Buffer lo, Buffer hi, Buffer d, int rows) {
        be.convZBox(x, wFwd, lo, hi, d, rows, g);
    }

    @Override
    protected void backprojectMap(Buffer gr, Buffer wBwd, Buffer x, Buffer r, int rows) {
        be.convBackproject(gr, wBwd, x, r, rows, g);
    }

    @Override
    protected void backprojectSignedMap(Buffer hp, Buffer hn, Buffer wp, Buffer wn, Buffer x, Buffer r, int rows) {
        be.convBackprojectSigned(hp, hn, wp, wn, x, r, rows, g);
    }

    @Override
    protected void backprojectZBoxMap(Buffer gr, Buffer wBwd, Buffer wp, Buffer wn, Buffer x, Buffer lo, Buffer hi,
                                      Buffer r, int rows) {
        be.convBackprojectZBox(gr, wBwd, wp, wn, x, lo, hi, r, rows, g);
    }
}
