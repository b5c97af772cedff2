package org.gpulrp.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.gpulrp.backend.ConvGeometry;

/**
 * Convolution kernels with the vector lanes over channels: the forward map keeps L output channels of one output
 * pixel per accumulator, the backprojection L input channels of one input pixel, four pixels at a time. Weights are
 * repacked per call so a tap's L channels are contiguous. Every output is still one fma chain in the contract's
 * order, (input channel, kernel row, kernel column) forward and (output channel, kernel row, kernel column)
 * backward, with taps in the padding skipped. Used where a group's channel count is a multiple of L.
 */
final class ChannelConv {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();

    private ChannelConv() {
    }

    /** Whether the forward kernels apply: each group's output channels fill whole vectors. */
    static boolean forward(ConvGeometry g) {
        return (g.outChannels() / g.groups()) % L == 0;
    }

    /** Whether the backprojection kernels apply: each group's input channels fill whole vectors. */
    static boolean backward(ConvGeometry g) {
        return (g.inChannels() / g.groups()) % L == 0;
    }

    /** w[oc, cl, kh, kw] to wp[group][tap = (cl, kh, kw)][ocl]: the forward layout. */
    private static float[] packForward(float[] w, ConvGeometry g) {
        int cg = g.inChannels() / g.groups();
        int og = g.outChannels() / g.groups();
        int taps = cg * g.kernelH() * g.kernelW();
        float[] p = new float[w.length];
        for (int oc = 0; oc < g.outChannels(); oc++) {
            int grp = oc / og;
            int ocl = oc % og;
            for (int t = 0; t < taps; t++) {
                p[(grp * taps + t) * og + ocl] = w[oc * taps + t];
            }
        }
        return p;
    }

    /** w[oc, cl, kh, kw] to wb[group][(ocl, kh, kw)][cl]: the backprojection layout. */
    private static float[] packBackward(float[] w, ConvGeometry g) {
        int cg = g.inChannels() / g.groups();
        int og = g.outChannels() / g.groups();
        int k2 = g.kernelH() * g.kernelW();
        float[] p = new float[w.length];
        for (int oc = 0; oc < g.outChannels(); oc++) {
            int grp = oc / og;
            int ocl = oc % og;
            for (int cl = 0; cl < cg; cl++) {
                for (int k = 0; k < k2; k++) {
                    p[((grp * og + ocl) * k2 + k) * cg + cl] = w[(oc * cg + cl) * k2 + k];
                }
            }
        }
        return p;
    }

    /**
     * Forward: {@code out = chain + bias}; with {@code v} given, the sign-split pair ({@code outP} from u where x > 0
     * else v, {@code outN} the other way), else the plain map with {@code u} as the weight.
     */
    static void forward(float[] x, float[] u, float[] v, float[] biasP, float[] biasN, float[] outP, float[] outN,
                        int r0, int r1, ConvGeometry g) {
        float[] up = packForward(u, g);
        float[] vp = v == null ? null : packForward(v, g);
        int cg = g.inChannels() / g.groups();
        int og = g.outChannels() / g.groups();
        int kh = g.kernelH();
        int kw = g.kernelW();
        int taps = cg * kh * kw;
        int oh = g.outH();
        int ow = g.outW();
        int plane = g.inH() * g.inW();
        float[] tp = new float[L];
        float[] tn = new float[L];
        for (int b = r0; b < r1; b++) {
            int xo = b * g.inSize();
            int zo = b * g.outSize();
            for (int grp = 0; grp < g.groups(); grp++) {
                for (int ob = 0; ob < og; ob += L) {
                    for (int y = 0; y < oh; y++) {
                        for (int xq = 0; xq < ow; xq++) {
                            if (xq + 3 < ow && interiorForward(xq, g) && interiorForward(xq + 3, g)) {
                                if (vp == null) {
                                    forward4(x, up, biasP, outP, xo, zo, grp, ob, y, xq, g, tp);
                                } else {
                                    forwardSigned4(x, up, vp, biasP, biasN, outP, outN, xo, zo, grp, ob, y, xq, g, tp);
                                }
                                xq += 3;
                                continue;
                            }
                            if (vp == null) {
                                forward1(x, up, biasP, outP, xo, zo, grp, ob, y, xq, g, tp);
                            } else {
                                forwardSigned1(x, up, vp, biasP, biasN, outP, outN, xo, zo, grp, ob, y, xq, g, tp,
                                        tn);
                            }
                        }
                    }
                }
            }
        }
    }

    /**
     * Backprojection: the plain map ({@code v == null}: {@code c = chain(u, hp)}, {@code r = x == null ? c : x c})
     * or the sign-split one ({@code c1 = u hp [+ v hn]}, {@code c2 = v hp [+ u hn]}, {@code r = x (x > 0 ? c1 : c2)}).
     */
    static void backward(float[] hp, float[] hn, float[] u, float[] v, float[] x, float[] r, int r0, int r1,
                         ConvGeometry g) {
        float[] ub = packBackward(u, g);
        float[] vb = v == null ? null : packBackward(v, g);
        int cg = g.inChannels() / g.groups();
        int og = g.outChannels() / g.groups();
        int kh = g.kernelH();
        int kw = g.kernelW();
        int k2 = kh * kw;
        int oh = g.outH();
        int ow = g.outW();
        int plane = g.inH() * g.inW();
        float[] t1 = new float[L];
        float[] t2 = new float[L];
        for (int b = r0; b < r1; b++) {
            int go = b * g.outSize();
            int ro = b * g.inSize();
            for (int grp = 0; grp < g.groups(); grp++) {
                for (int cb = 0; cb < cg; cb += L) {
                    for (int y = 0; y < g.inH(); y++) {
                        for (int xq = 0; xq < g.inW(); xq++) {
                            if (xq + 3 < g.inW() && interiorBackward(xq, g) && interiorBackward(xq + 3, g)) {
                                if (vb == null) {
                                    backward4(hp, ub, x, r, go, ro, grp, cb, y, xq, g, t1);
                                } else {
                                    if (hn == null) {
                                        backwardSignedP4(hp, ub, vb, x, r, go, ro, grp, cb, y, xq, g, t1);
                                    } else {
                                        backwardSigned4(hp, hn, ub, vb, x, r, go, ro, grp, cb, y, xq, g, t1);
                                    }
                                }
                                xq += 3;
                                continue;
                            }
                            if (vb == null) {
                                backward1(hp, ub, x, r, go, ro, grp, cb, y, xq, g, t1);
                            } else if (hn == null) {
                                backwardSigned1(hp, hp, false, ub, vb, x, r, go, ro, grp, cb, y, xq, g, t1, t2);
                            } else {
                                backwardSigned1(hp, hn, true, ub, vb, x, r, go, ro, grp, cb, y, xq, g, t1, t2);
                            }
                        }
                    }
                }
            }
        }
    }

    /** Every kernel column of output column {@code xq} lands inside the input. */
    private static boolean interiorForward(int xq, ConvGeometry g) {
        int first = xq * g.strideW() - g.padW();
        return first >= 0 && first + (g.kernelW() - 1) * g.dilationW() < g.inW();
    }

    /** Stride 1 and every kernel column of input column {@code xq} reaches an output column. */
    private static boolean interiorBackward(int xq, ConvGeometry g) {
        return g.strideW() == 1 && xq + g.padW() - (g.kernelW() - 1) * g.dilationW() >= 0
                && xq + g.padW() < g.outW();
    }

    /** Stores four pixels' accumulators (lanes = channels from {@code c0}) at NCHW offsets {@code o0 + k*step}. */
    private static void store4(FloatVector a0, FloatVector a1, FloatVector a2, FloatVector a3, float[] tmp,
                               float[] out, int base, int channelStride, int step, int c0, float[] bias) {
        a0.intoArray(tmp, 0);
        write(tmp, out, base, channelStride, c0, bias);
        a1.intoArray(tmp, 0);
        write(tmp, out, base + step, channelStride, c0, bias);
        a2.intoArray(tmp, 0);
        write(tmp, out, base + 2 * step, channelStride, c0, bias);
        a3.intoArray(tmp, 0);
        write(tmp, out, base + 3 * step, channelStride, c0, bias);
    }

    private static void write(float[] tmp, float[] out, int o, int channelStride, int c0, float[] bias) {
        for (int l = 0; l < L; l++) {
            out[o + l * channelStride] = bias == null ? tmp[l] : tmp[l] + bias[c0 + l];
        }
    }

    private static void forward4(float[] x, float[] up, float[] bias, float[] out, int xo, int zo, int grp, int ob,
                                 int y, int xq, ConvGeometry g, float[] tmp) {
        int cg = g.inChannels() / g.groups();
        int og = g.outChannels() / g.groups();
        int kh = g.kernelH();
        int kw = g.kernelW();
        int taps = cg * kh * kw;
        int plane = g.inH() * g.inW();
        int sw = g.strideW();
        FloatVector p0 = FloatVector.zero(S), p1 = FloatVector.zero(S);
        FloatVector p2 = FloatVector.zero(S), p3 = FloatVector.zero(S);
        for (int cl = 0; cl < cg; cl++) {
            int ci = grp * cg + cl;
            for (int i = 0; i < kh; i++) {
                int ih = y * g.strideH() - g.padH() + i * g.dilationH();
                if (ih < 0 || ih >= g.inH()) {
                    continue;
                }
                int row = xo + ci * plane + ih * g.inW() + xq * sw - g.padW();
                for (int j = 0; j < kw; j++) {
                    int xi = row + j * g.dilationW();
                    FloatVector wu = FloatVector.fromArray(S, up, (grp * taps + (cl * kh + i) * kw + j) * og + ob);
                    p0 = FloatVector.broadcast(S, x[xi]).fma(wu, p0);
                    p1 = FloatVector.broadcast(S, x[xi + sw]).fma(wu, p1);
                    p2 = FloatVector.broadcast(S, x[xi + 2 * sw]).fma(wu, p2);
                    p3 = FloatVector.broadcast(S, x[xi + 3 * sw]).fma(wu, p3);
                }
            }
        }
        int oc0 = grp * og + ob;
        int plane2 = g.outH() * g.outW();
        store4(p0, p1, p2, p3, tmp, out, zo + oc0 * plane2 + y * g.outW() + xq, plane2, 1, oc0, bias);
    }

    private static void forwardSigned4(float[] x, float[] up, float[] vp, float[] biasP, float[] biasN,
                                       float[] outP, float[] outN, int xo, int zo, int grp, int ob, int y, int xq,
                                       ConvGeometry g, float[] tmp) {
        int cg = g.inChannels() / g.groups();
        int og = g.outChannels() / g.groups();
        int kh = g.kernelH();
        int kw = g.kernelW();
        int taps = cg * kh * kw;
        int plane = g.inH() * g.inW();
        int sw = g.strideW();
        FloatVector p0 = FloatVector.zero(S), p1 = FloatVector.zero(S);
        FloatVector p2 = FloatVector.zero(S), p3 = FloatVector.zero(S);
        FloatVector n0 = FloatVector.zero(S), n1 = FloatVector.zero(S);
        FloatVector n2 = FloatVector.zero(S), n3 = FloatVector.zero(S);
        for (int cl = 0; cl < cg; cl++) {
            int ci = grp * cg + cl;
            for (int i = 0; i < kh; i++) {
                int ih = y * g.strideH() - g.padH() + i * g.dilationH();
                if (ih < 0 || ih >= g.inH()) {
                    continue;
                }
                int row = xo + ci * plane + ih * g.inW() + xq * sw - g.padW();
                for (int j = 0; j < kw; j++) {
                    int xi = row + j * g.dilationW();
                    int wo = (grp * taps + (cl * kh + i) * kw + j) * og + ob;
                    FloatVector wu = FloatVector.fromArray(S, up, wo);
                    FloatVector wv = FloatVector.fromArray(S, vp, wo);
                    float x0 = x[xi];
                    float x1 = x[xi + sw];
                    float x2 = x[xi + 2 * sw];
                    float x3 = x[xi + 3 * sw];
                    FloatVector b0 = FloatVector.broadcast(S, x0);
                    FloatVector b1 = FloatVector.broadcast(S, x1);
                    FloatVector b2 = FloatVector.broadcast(S, x2);
                    FloatVector b3 = FloatVector.broadcast(S, x3);
                    VectorMask<Float> m0 = b0.compare(VectorOperators.GT, 0f);
                    p0 = b0.fma(wv.blend(wu, m0), p0);
                    n0 = b0.fma(wu.blend(wv, m0), n0);
                    VectorMask<Float> m1 = b1.compare(VectorOperators.GT, 0f);
                    p1 = b1.fma(wv.blend(wu, m1), p1);
                    n1 = b1.fma(wu.blend(wv, m1), n1);
                    VectorMask<Float> m2 = b2.compare(VectorOperators.GT, 0f);
                    p2 = b2.fma(wv.blend(wu, m2), p2);
                    n2 = b2.fma(wu.blend(wv, m2), n2);
                    VectorMask<Float> m3 = b3.compare(VectorOperators.GT, 0f);
                    p3 = b3.fma(wv.blend(wu, m3), p3);
                    n3 = b3.fma(wu.blend(wv, m3), n3);
                }
            }
        }
        int oc0 = grp * og + ob;
        int plane2 = g.outH() * g.outW();
        int base = zo + oc0 * plane2 + y * g.outW() + xq;
        store4(p0, p1, p2, p3, tmp, outP, base, plane2, 1, oc0, biasP);
        if (outN != null) {
            store4(n0, n1, n2, n3, tmp, outN, base, plane2, 1, oc0, biasN);
        }
    }

    private static void backward4(float[] hp, float[] ub, float[] x, float[] r, int go, int ro, int grp, int cb,
                                  int y, int xq, ConvGeometry g, float[] tmp) {
        int cg = g.inChannels() / g.groups();
        int og = g.outChannels() / g.groups();
        int kh = g.kernelH();
        int kw = g.kernelW();
        int k2 = kh * kw;
        int oh = g.outH();
        int ow = g.outW();
        FloatVector c0 = FloatVector.zero(S), c1 = FloatVector.zero(S);
        FloatVector c2 = FloatVector.zero(S), c3 = FloatVector.zero(S);
        for (int ocl = 0; ocl < og; ocl++) {
            int oc = grp * og + ocl;
            for (int i = 0; i < kh; i++) {
                int th = y + g.padH() - i * g.dilationH();
                if (th < 0 || th % g.strideH() != 0 || th / g.strideH() >= oh) {
                    continue;
                }
                int row = go + oc * oh * ow + th / g.strideH() * ow + xq + g.padW();
                for (int j = 0; j < kw; j++) {
                    int gi = row - j * g.dilationW();
                    FloatVector wu = FloatVector.fromArray(S, ub, ((grp * og + ocl) * k2 + i * kw + j) * cg + cb);
                    c0 = wu.fma(FloatVector.broadcast(S, hp[gi]), c0);
                    c1 = wu.fma(FloatVector.broadcast(S, hp[gi + 1]), c1);
                    c2 = wu.fma(FloatVector.broadcast(S, hp[gi + 2]), c2);
                    c3 = wu.fma(FloatVector.broadcast(S, hp[gi + 3]), c3);
                }
            }
        }
        int ci0 = grp * cg + cb;
        int plane = g.inH() * g.inW();
        int base = ro + ci0 * plane + y * g.inW() + xq;
        FloatVector[] cs = {c0, c1, c2, c3};
        for (int k = 0; k < 4; k++) {
            cs[k].intoArray(tmp, 0);
            for (int l = 0; l < L; l++) {
                int o = base + k + l * plane;
                r[o] = x == null ? tmp[l] : x[o] * tmp[l];
            }
        }
    }

    private static void backwardSigned4(float[] hp, float[] hn, float[] ub, float[] vb, float[] x, float[] r,
                                        int go, int ro, int grp, int cb, int y, int xq, ConvGeometry g,
                                        float[] tmp) {
        int cg = g.inChannels() / g.groups();
        int og = g.outChannels() / g.groups();
        int kh = g.kernelH();
        int kw = g.kernelW();
        int k2 = kh * kw;
        int oh = g.outH();
        int ow = g.outW();
        FloatVector a0 = FloatVector.zero(S), a1 = FloatVector.zero(S);
        FloatVector a2 = FloatVector.zero(S), a3 = FloatVector.zero(S);
        FloatVector d0 = FloatVector.zero(S), d1 = FloatVector.zero(S);
        FloatVector d2 = FloatVector.zero(S), d3 = FloatVector.zero(S);
        for (int ocl = 0; ocl < og; ocl++) {
            int oc = grp * og + ocl;
            for (int i = 0; i < kh; i++) {
                int th = y + g.padH() - i * g.dilationH();
                if (th < 0 || th % g.strideH() != 0 || th / g.strideH() >= oh) {
                    continue;
                }
                int row = go + oc * oh * ow + th / g.strideH() * ow + xq + g.padW();
                for (int j = 0; j < kw; j++) {
                    int gi = row - j * g.dilationW();
                    int wo = ((grp * og + ocl) * k2 + i * kw + j) * cg + cb;
                    FloatVector wu = FloatVector.fromArray(S, ub, wo);
                    FloatVector wv = FloatVector.fromArray(S, vb, wo);
                    FloatVector g0 = FloatVector.broadcast(S, hp[gi]);
                    FloatVector g1 = FloatVector.broadcast(S, hp[gi + 1]);
                    FloatVector g2 = FloatVector.broadcast(S, hp[gi + 2]);
                    FloatVector g3 = FloatVector.broadcast(S, hp[gi + 3]);
                    a0 = wu.fma(g0, a0);
                    d0 = wv.fma(g0, d0);
                    a1 = wu.fma(g1, a1);
                    d1 = wv.fma(g1, d1);
                    a2 = wu.fma(g2, a2);
                    d2 = wv.fma(g2, d2);
                    a3 = wu.fma(g3, a3);
                    d3 = wv.fma(g3, d3);
                    {
                        FloatVector n0 = FloatVector.broadcast(S, hn[gi]);
                        FloatVector n1 = FloatVector.broadcast(S, hn[gi + 1]);
                        FloatVector n2 = FloatVector.broadcast(S, hn[gi + 2]);
                        FloatVector n3 = FloatVector.broadcast(S, hn[gi + 3]);
                        a0 = wv.fma(n0, a0);
                        d0 = wu.fma(n0, d0);
                        a1 = wv.fma(n1, a1);
                        d1 = wu.fma(n1, d1);
                        a2 = wv.fma(n2, a2);
                        d2 = wu.fma(n2, d2);
                        a3 = wv.fma(n3, a3);
                        d3 = wu.fma(n3, d3);
                    }
                }
            }
        }
        int ci0 = grp * cg + cb;
        int plane = g.inH() * g.inW();
        int base = ro + ci0 * plane + y * g.inW() + xq;
        FloatVector[] c1s = {a0, a1, a2, a3};
        FloatVector[] c2s = {d0, d1, d2, d3};
        float[] t2 = new float[L];
        for (int k = 0; k < 4; k++) {
            c1s[k].intoArray(tmp, 0);
            c2s[k].intoArray(t2, 0);
            for (int l = 0; l < L; l++) {
                int o = base + k + l * plane;
                float xi = x[o];
                r[o] = xi * (xi > 0 ? tmp[l] : t2[l]);
            }
        }
    }
    private static void backwardSignedP4(float[] hp, float[] ub, float[] vb, float[] x, float[] r,
                                        int go, int ro, int grp, int cb, int y, int xq, ConvGeometry g,
                                        float[] tmp) {
        int cg = g.inChannels() / g.groups();
        int og = g.outChannels() / g.groups();
        int kh = g.kernelH();
        int kw = g.kernelW();
        int k2 = kh * kw;
        int oh = g.outH();
        int ow = g.outW();
        FloatVector a0 = FloatVector.zero(S), a1 = FloatVector.zero(S);
        FloatVector a2 = FloatVector.zero(S), a3 = FloatVector.zero(S);
        FloatVector d0 = FloatVector.zero(S), d1 = FloatVector.zero(S);
        FloatVector d2 = FloatVector.zero(S), d3 = FloatVector.zero(S);
        for (int ocl = 0; ocl < og; ocl++) {
            int oc = grp * og + ocl;
            for (int i = 0; i < kh; i++) {
                int th = y + g.padH() - i * g.dilationH();
                if (th < 0 || th % g.strideH() != 0 || th / g.strideH() >= oh) {
                    continue;
                }
                int row = go + oc * oh * ow + th / g.strideH() * ow + xq + g.padW();
                for (int j = 0; j < kw; j++) {
                    int gi = row - j * g.dilationW();
                    int wo = ((grp * og + ocl) * k2 + i * kw + j) * cg + cb;
                    FloatVector wu = FloatVector.fromArray(S, ub, wo);
                    FloatVector wv = FloatVector.fromArray(S, vb, wo);
                    FloatVector g0 = FloatVector.broadcast(S, hp[gi]);
                    FloatVector g1 = FloatVector.broadcast(S, hp[gi + 1]);
                    FloatVector g2 = FloatVector.broadcast(S, hp[gi + 2]);
                    FloatVector g3 = FloatVector.broadcast(S, hp[gi + 3]);
                    a0 = wu.fma(g0, a0);
                    d0 = wv.fma(g0, d0);
                    a1 = wu.fma(g1, a1);
                    d1 = wv.fma(g1, d1);
                    a2 = wu.fma(g2, a2);
                    d2 = wv.fma(g2, d2);
                    a3 = wu.fma(g3, a3);
                    d3 = wv.fma(g3, d3);
                }
            }
        }
        int ci0 = grp * cg + cb;
        int plane = g.inH() * g.inW();
        int base = ro + ci0 * plane + y * g.inW() + xq;
        FloatVector[] c1s = {a0, a1, a2, a3};
        FloatVector[] c2s = {d0, d1, d2, d3};
        float[] t2 = new float[L];
        for (int k = 0; k < 4; k++) {
            c1s[k].intoArray(tmp, 0);
            c2s[k].intoArray(t2, 0);
            for (int l = 0; l < L; l++) {
                int o = base + k + l * plane;
                float xi = x[o];
                r[o] = xi * (xi > 0 ? tmp[l] : t2[l]);
            }
        }
    }

    /** One output pixel (taps in the padding skipped), plain map. */
    private static void forward1(float[] x, float[] up, float[] bias, float[] out, int xo, int zo, int grp, int ob,
                                 int y, int xq, ConvGeometry g, float[] tmp) {
        int cg = g.inChannels() / g.groups();
        int og = g.outChannels() / g.groups();
        int kh = g.kernelH();
        int kw = g.kernelW();
        int taps = cg * kh * kw;
        int plane = g.inH() * g.inW();
        FloatVector p = FloatVector.zero(S);
        for (int cl = 0; cl < cg; cl++) {
            int ci = grp * cg + cl;
            for (int i = 0; i < kh; i++) {
                int ih = y * g.strideH() - g.padH() + i * g.dilationH();
                if (ih < 0 || ih >= g.inH()) {
                    continue;
                }
                for (int j = 0; j < kw; j++) {
                    int iw = xq * g.strideW() - g.padW() + j * g.dilationW();
                    if (iw < 0 || iw >= g.inW()) {
                        continue;
                    }
                    FloatVector wu = FloatVector.fromArray(S, up, (grp * taps + (cl * kh + i) * kw + j) * og + ob);
                    p = FloatVector.broadcast(S, x[xo + ci * plane + ih * g.inW() + iw]).fma(wu, p);
                }
            }
        }
        p.intoArray(tmp, 0);
        int oc0 = grp * og + ob;
        int plane2 = g.outH() * g.outW();
        write(tmp, out, zo + oc0 * plane2 + y * g.outW() + xq, plane2, oc0, bias);
    }

    /** One output pixel, sign-split pair. */
    private static void forwardSigned1(float[] x, float[] up, float[] vp, float[] biasP, float[] biasN,
                                       float[] outP, float[] outN, int xo, int zo, int grp, int ob, int y, int xq,
                                       ConvGeometry g, float[] tp, float[] tn) {
        int cg = g.inChannels() / g.groups();
        int og = g.outChannels() / g.groups();
        int kh = g.kernelH();
        int kw = g.kernelW();
        int taps = cg * kh * kw;
        int plane = g.inH() * g.inW();
        FloatVector p = FloatVector.zero(S);
        FloatVector n = FloatVector.zero(S);
        for (int cl = 0; cl < cg; cl++) {
            int ci = grp * cg + cl;
            for (int i = 0; i < kh; i++) {
                int ih = y * g.strideH() - g.padH() + i * g.dilationH();
                if (ih < 0 || ih >= g.inH()) {
                    continue;
                }
                for (int j = 0; j < kw; j++) {
                    int iw = xq * g.strideW() - g.padW() + j * g.dilationW();
                    if (iw < 0 || iw >= g.inW()) {
                        continue;
                    }
                    int wo = (grp * taps + (cl * kh + i) * kw + j) * og + ob;
                    FloatVector wu = FloatVector.fromArray(S, up, wo);
                    FloatVector wv = FloatVector.fromArray(S, vp, wo);
                    FloatVector xb = FloatVector.broadcast(S, x[xo + ci * plane + ih * g.inW() + iw]);
                    VectorMask<Float> pos = xb.compare(VectorOperators.GT, 0f);
                    p = xb.fma(wv.blend(wu, pos), p);
                    n = xb.fma(wu.blend(wv, pos), n);
                }
            }
        }
        p.intoArray(tp, 0);
        n.intoArray(tn, 0);
        int oc0 = grp * og + ob;
        int plane2 = g.outH() * g.outW();
        int o = zo + oc0 * plane2 + y * g.outW() + xq;
        write(tp, outP, o, plane2, oc0, biasP);
        if (outN != null) {
            write(tn, outN, o, plane2, oc0, biasN);
        }
    }

    /** One input pixel, plain backprojection. */
    private static void backward1(float[] hp, float[] ub, float[] x, float[] r, int go, int ro, int grp, int cb,
                                  int y, int xq, ConvGeometry g, float[] tmp) {
        int cg = g.inChannels() / g.groups();
        int og = g.outChannels() / g.groups();
        int kh = g.kernelH();
        int kw = g.kernelW();
        int oh = g.outH();
        int ow = g.outW();
        FloatVector c = FloatVector.zero(S);
        for (int ocl = 0; ocl < og; ocl++) {
            int oc = grp * og + ocl;
            for (int i = 0; i < kh; i++) {
                int th = y + g.padH() - i * g.dilationH();
                if (th < 0 || th % g.strideH() != 0 || th / g.strideH() >= oh) {
                    continue;
                }
                for (int j = 0; j < kw; j++) {
                    int tw = xq + g.padW() - j * g.dilationW();
                    if (tw < 0 || tw % g.strideW() != 0 || tw / g.strideW() >= ow) {
                        continue;
                    }
                    int gi = go + oc * oh * ow + th / g.strideH() * ow + tw / g.strideW();
                    FloatVector wu = FloatVector.fromArray(S, ub, ((grp * og + ocl) * kh * kw + i * kw + j) * cg + cb);
                    c = wu.fma(FloatVector.broadcast(S, hp[gi]), c);
                }
            }
        }
        c.intoArray(tmp, 0);
        int plane = g.inH() * g.inW();
        int base = ro + (grp * cg + cb) * plane + y * g.inW() + xq;
        for (int l = 0; l < L; l++) {
            int o = base + l * plane;
            r[o] = x == null ? tmp[l] : x[o] * tmp[l];
        }
    }

    /**
     * One input pixel, sign-split backprojection; {@code withN} false means no hn terms ({@code hn} is then ignored),
     * chosen by the caller so that the data flow here has no branches.
     */
    private static void backwardSigned1(float[] hp, float[] hn, boolean withN, float[] ub, float[] vb, float[] x,
                                        float[] r, int go, int ro, int grp, int cb, int y, int xq, ConvGeometry g,
                                        float[] t1, float[] t2) {
        int cg = g.inChannels() / g.groups();
        int og = g.outChannels() / g.groups();
        int kh = g.kernelH();
        int kw = g.kernelW();
        int oh = g.outH();
        int ow = g.outW();
        FloatVector c1 = FloatVector.zero(S);
        FloatVector c2 = FloatVector.zero(S);
        for (int ocl = 0; ocl < og; ocl++) {
            int oc = grp * og + ocl;
            for (int i = 0; i < kh; i++) {
                int th = y + g.padH() - i * g.dilationH();
                if (th < 0 || th % g.strideH() != 0 || th / g.strideH() >= oh) {
                    continue;
                }
                for (int j = 0; j < kw; j++) {
                    int tw = xq + g.padW() - j * g.dilationW();
                    if (tw < 0 || tw % g.strideW() != 0 || tw / g.strideW() >= ow) {
                        continue;
                    }
                    int gi = go + oc * oh * ow + th / g.strideH() * ow + tw / g.strideW();
                    int wo = ((grp * og + ocl) * kh * kw + i * kw + j) * cg + cb;
                    FloatVector wu = FloatVector.fromArray(S, ub, wo);
                    FloatVector wv = FloatVector.fromArray(S, vb, wo);
                    FloatVector gp = FloatVector.broadcast(S, hp[gi]);
                    c1 = wu.fma(gp, c1);
                    c2 = wv.fma(gp, c2);
                    if (withN) {
                        FloatVector gn = FloatVector.broadcast(S, hn[gi]);
                        c1 = wv.fma(gn, c1);
                        c2 = wu.fma(gn, c2);
                    }
                }
            }
        }
        c1.intoArray(t1, 0);
        c2.intoArray(t2, 0);
        int plane = g.inH() * g.inW();
        int base = ro + (grp * cg + cb) * plane + y * g.inW() + xq;
        for (int l = 0; l < L; l++) {
            int o = base + l * plane;
            float xi = x[o];
            r[o] = xi * (xi > 0 ? t1[l] : t2[l]);
        }
    }
}
