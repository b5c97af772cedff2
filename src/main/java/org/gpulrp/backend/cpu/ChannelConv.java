package org.gpulrp.backend.cpu;

import jdk.incubator.vector.FloatVector;
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
                                        float xv = x[xo + ci * plane + ih * g.inW() + iw];
                                        int wo = (grp * taps + (cl * kh + i) * kw + j) * og + ob;
                                        FloatVector xb = FloatVector.broadcast(S, xv);
                                        FloatVector wu = FloatVector.fromArray(S, up, wo);
                                        if (vp == null) {
                                            p = xb.fma(wu, p);
                                        } else {
                                            FloatVector wv = FloatVector.fromArray(S, vp, wo);
                                            if (xv > 0) {
                                                p = xb.fma(wu, p);
                                                n = xb.fma(wv, n);
                                            } else {
                                                p = xb.fma(wv, p);
                                                n = xb.fma(wu, n);
                                            }
                                        }
                                    }
                                }
                            }
                            p.intoArray(tp, 0);
                            if (outN != null) {
                                n.intoArray(tn, 0);
                            }
                            int oc0 = grp * og + ob;
                            for (int l = 0; l < L; l++) {
                                int o = zo + (oc0 + l) * oh * ow + y * ow + xq;
                                outP[o] = biasP == null ? tp[l] : tp[l] + biasP[oc0 + l];
                                if (outN != null) {
                                    outN[o] = biasN == null ? tn[l] : tn[l] + biasN[oc0 + l];
                                }
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
                            FloatVector c1 = FloatVector.zero(S);
                            FloatVector c2 = FloatVector.zero(S);
                            for (int ocl = 0; ocl < og; ocl++) {
                                int oc = grp * og + ocl;
                                for (int i = 0; i < kh; i++) {
                                    int th = y + g.padH() - i * g.dilationH();
                                    if (th < 0 || th % g.strideH() != 0 || th / g.strideH() >= oh) {
                                        continue;
                                    }
                                    int yo = th / g.strideH();
                                    for (int j = 0; j < kw; j++) {
                                        int tw = xq + g.padW() - j * g.dilationW();
                                        if (tw < 0 || tw % g.strideW() != 0 || tw / g.strideW() >= ow) {
                                            continue;
                                        }
                                        int gi = go + oc * oh * ow + yo * ow + tw / g.strideW();
                                        int wo = ((grp * og + ocl) * k2 + i * kw + j) * cg + cb;
                                        FloatVector wu = FloatVector.fromArray(S, ub, wo);
                                        FloatVector gp = FloatVector.broadcast(S, hp[gi]);
                                        if (vb == null) {
                                            c1 = wu.fma(gp, c1);
                                        } else {
                                            FloatVector wv = FloatVector.fromArray(S, vb, wo);
                                            c1 = wu.fma(gp, c1);
                                            c2 = wv.fma(gp, c2);
                                            if (hn != null) {
                                                FloatVector gn = FloatVector.broadcast(S, hn[gi]);
                                                c1 = wv.fma(gn, c1);
                                                c2 = wu.fma(gn, c2);
                                            }
                                        }
                                    }
                                }
                            }
                            c1.intoArray(t1, 0);
                            if (vb != null) {
                                c2.intoArray(t2, 0);
                            }
                            int ci0 = grp * cg + cb;
                            for (int l = 0; l < L; l++) {
                                int o = ro + (ci0 + l) * plane + y * g.inW() + xq;
                                if (vb == null) {
                                    r[o] = x == null ? t1[l] : x[o] * t1[l];
                                } else {
                                    float xi = x[o];
                                    r[o] = xi * (xi > 0 ? t1[l] : t2[l]);
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
