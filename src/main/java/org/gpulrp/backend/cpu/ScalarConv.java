package org.gpulrp.backend.cpu;

import org.gpulrp.model.ConvGeometry;

/**
 * Convolution primitives as plain {@code Math.fma} loops, one output at a time: the readable statement of the
 * contract, the fallback without the Vector API, the oracle for {@link VectorConv} and the code {@link VectorConv}
 * runs at the borders. Forward chains run over (input channel of the group, kernel row, kernel column) ascending,
 * backward chains over (output channel of the group, kernel row, kernel column) ascending; a tap that falls in the
 * padding (or, backward, between strides) is skipped, never multiplied by zero.
 */
final class ScalarConv implements ConvKernels {

    // ------------------------------------------------------------------------------------------------ one output

    /** The forward chain of output {@code (oc, oh, ow)} of the sample starting at {@code x[xb]}. */
    static float fwd(float[] x, int xb, float[] w, ConvGeometry g, int oc, int oh, int ow) {
        int cin = g.inPerGroup();
        int kh = g.kernelH();
        int kw = g.kernelW();
        int h = g.inH();
        int wi = g.inW();
        int c0 = oc / g.outPerGroup() * cin;
        int ih0 = oh * g.strideH() - g.padH();
        int iw0 = ow * g.strideW() - g.padW();
        float acc = 0f;
        for (int cl = 0; cl < cin; cl++) {
            int xc = xb + (c0 + cl) * h * wi;
            int wc = (oc * cin + cl) * kh * kw;
            for (int i = 0; i < kh; i++) {
                int ih = ih0 + i * g.dilationH();
                if (ih < 0 || ih >= h) {
                    continue;
                }
                for (int j = 0; j < kw; j++) {
                    int iw = iw0 + j * g.dilationW();
                    if (iw < 0 || iw >= wi) {
                        continue;
                    }
                    acc = Math.fma(x[xc + ih * wi + iw], w[wc + i * kw + j], acc);
                }
            }
        }
        return acc;
    }

    /** The sign-split forward chains of one output into {@code pn[0]} (p) and {@code pn[1]} (n). */
    static void fwdSigned(float[] x, int xb, float[] u, float[] v, ConvGeometry g, int oc, int oh, int ow,
                          float[] pn) {
        int cin = g.inPerGroup();
        int kh = g.kernelH();
        int kw = g.kernelW();
        int h = g.inH();
        int wi = g.inW();
        int c0 = oc / g.outPerGroup() * cin;
        int ih0 = oh * g.strideH() - g.padH();
        int iw0 = ow * g.strideW() - g.padW();
        float p = 0f;
        float n = 0f;
        for (int cl = 0; cl < cin; cl++) {
            int xc = xb + (c0 + cl) * h * wi;
            int wc = (oc * cin + cl) * kh * kw;
            for (int i = 0; i < kh; i++) {
                int ih = ih0 + i * g.dilationH();
                if (ih < 0 || ih >= h) {
                    continue;
                }
                for (int j = 0; j < kw; j++) {
                    int iw = iw0 + j * g.dilationW();
                    if (iw < 0 || iw >= wi) {
                        continue;
                    }
                    float xi = x[xc + ih * wi + iw];
                    float uu = u[wc + i * kw + j];
                    float vv = v[wc + i * kw + j];
                    if (xi > 0) {
                        p = Math.fma(xi, uu, p);
                        n = Math.fma(xi, vv, n);
                    } else {
                        p = Math.fma(xi, vv, p);
                        n = Math.fma(xi, uu, n);
                    }
                }
            }
        }
        pn[0] = p;
        pn[1] = n;
    }

    /** The ZBox denominator chain of one output; {@code low, high} are per input element of one sample. */
    static float fwdZBox(float[] x, int xb, float[] w, float[] low, float[] high, ConvGeometry g, int oc, int oh,
                         int ow) {
        int cin = g.inPerGroup();
        int kh = g.kernelH();
        int kw = g.kernelW();
        int h = g.inH();
        int wi = g.inW();
        int c0 = oc / g.outPerGroup() * cin;
        int ih0 = oh * g.strideH() - g.padH();
        int iw0 = ow * g.strideW() - g.padW();
        float acc = 0f;
        for (int cl = 0; cl < cin; cl++) {
            int lc = (c0 + cl) * h * wi;
            int wc = (oc * cin + cl) * kh * kw;
            for (int i = 0; i < kh; i++) {
                int ih = ih0 + i * g.dilationH();
                if (ih < 0 || ih >= h) {
                    continue;
                }
                for (int j = 0; j < kw; j++) {
                    int iw = iw0 + j * g.dilationW();
                    if (iw < 0 || iw >= wi) {
                        continue;
                    }
                    int e = lc + ih * wi + iw;
                    float ww = w[wc + i * kw + j];
                    float t = ww > 0 ? x[xb + e] - low[e] : x[xb + e] - high[e];
                    acc = Math.fma(t, ww, acc);
                }
            }
        }
        return acc;
    }

    /**
     * The backward chain of input {@code (ci, ih, iw)} against the upper signal starting at {@code gr[gb]}: output
     * {@code (oc, oh, ow)} contributes through tap {@code (kh, kw)} when {@code oh * strideH - padH + kh * dilationH
     * == ih} (likewise for columns).
     */
    static float back(float[] gr, int gb, float[] w, ConvGeometry g, int ci, int ih, int iw) {
        int cin = g.inPerGroup();
        int cout = g.outPerGroup();
        int kh = g.kernelH();
        int kw = g.kernelW();
        int oh = g.outH();
        int ow = g.outW();
        int grp = ci / cin;
        int cl = ci - grp * cin;
        int[] rt = new int[2 * kh];
        int[] ct = new int[2 * kw];
        int nr = rowTaps(g, ih, rt);
        int nc = columnTaps(g, iw, ct);
        float c = 0f;
        for (int oc = grp * cout; oc < (grp + 1) * cout; oc++) {
            int go = gb + oc * oh * ow;
            int wc = (oc * cin + cl) * kh * kw;
            for (int a = 0; a < nr; a++) {
                int gro = go + rt[2 * a + 1] * ow;
                int wr = wc + rt[2 * a] * kw;
                for (int e = 0; e < nc; e++) {
                    c = Math.fma(w[wr + ct[2 * e]], gr[gro + ct[2 * e + 1]], c);
                }
            }
        }
        return c;
    }

    /** The sign-split backward chains of one input into {@code c12[0]} (c1) and {@code c12[1]} (c2). */
    static void backSigned(float[] hp, float[] hn, int gb, float[] u, float[] v, ConvGeometry g, int ci, int ih,
                           int iw, float[] c12) {
        int cin = g.inPerGroup();
        int cout = g.outPerGroup();
        int kh = g.kernelH();
        int kw = g.kernelW();
        int oh = g.outH();
        int ow = g.outW();
        int grp = ci / cin;
        int cl = ci - grp * cin;
        int[] rt = new int[2 * kh];
        int[] ct = new int[2 * kw];
        int nr = rowTaps(g, ih, rt);
        int nc = columnTaps(g, iw, ct);
        float c1 = 0f;
        float c2 = 0f;
        for (int oc = grp * cout; oc < (grp + 1) * cout; oc++) {
            int go = gb + oc * oh * ow;
            int wc = (oc * cin + cl) * kh * kw;
            for (int a = 0; a < nr; a++) {
                int gro = go + rt[2 * a + 1] * ow;
                int wr = wc + rt[2 * a] * kw;
                for (int e = 0; e < nc; e++) {
                    int k = gro + ct[2 * e + 1];
                    float uu = u[wr + ct[2 * e]];
                    float vv = v[wr + ct[2 * e]];
                    float gp = hp[k];
                    c1 = Math.fma(uu, gp, c1);
                    c2 = Math.fma(vv, gp, c2);
                    if (hn != null) {
                        float gn = hn[k];
                        c1 = Math.fma(vv, gn, c1);
                        c2 = Math.fma(uu, gn, c2);
                    }
                }
            }
        }
        c12[0] = c1;
        c12[1] = c2;
    }

    /** The three ZBox backward chains (w, wpos, wneg) of one input into {@code c3}. */
    static void backZBox(float[] gr, int gb, float[] w, float[] wpos, float[] wneg, ConvGeometry g, int ci, int ih,
                         int iw, float[] c3) {
        int cin = g.inPerGroup();
        int cout = g.outPerGroup();
        int kh = g.kernelH();
        int kw = g.kernelW();
        int oh = g.outH();
        int ow = g.outW();
        int grp = ci / cin;
        int cl = ci - grp * cin;
        int[] rt = new int[2 * kh];
        int[] ct = new int[2 * kw];
        int nr = rowTaps(g, ih, rt);
        int nc = columnTaps(g, iw, ct);
        float c0 = 0f;
        float cp = 0f;
        float cm = 0f;
        for (int oc = grp * cout; oc < (grp + 1) * cout; oc++) {
            int go = gb + oc * oh * ow;
            int wc = (oc * cin + cl) * kh * kw;
            for (int a = 0; a < nr; a++) {
                int gro = go + rt[2 * a + 1] * ow;
                int wr = wc + rt[2 * a] * kw;
                for (int e = 0; e < nc; e++) {
                    int wk = wr + ct[2 * e];
                    float gj = gr[gro + ct[2 * e + 1]];
                    c0 = Math.fma(w[wk], gj, c0);
                    cp = Math.fma(wpos[wk], gj, cp);
                    cm = Math.fma(wneg[wk], gj, cm);
                }
            }
        }
        c3[0] = c0;
        c3[1] = cp;
        c3[2] = cm;
    }

    /**
     * The kernel rows that reach input row {@code ih}, in ascending order, as pairs {@code (kernel row, output row)}
     * in {@code out}; returns how many. The backward chains loop over these instead of testing every tap (a
     * patch-embedding convolution, kernel = stride = 16, has one of 256), in the same order, so the bits are those of
     * the full scan.
     */
    static int rowTaps(ConvGeometry g, int ih, int[] out) {
        return taps(ih + g.padH(), g.kernelH(), g.dilationH(), g.strideH(), g.outH(), out);
    }

    /** As {@link #rowTaps}, for the columns that reach input column {@code iw}. */
    static int columnTaps(ConvGeometry g, int iw, int[] out) {
        return taps(iw + g.padW(), g.kernelW(), g.dilationW(), g.strideW(), g.outW(), out);
    }

    private static int taps(int shifted, int k, int dilation, int stride, int outSize, int[] out) {
        int n = 0;
        for (int i = 0; i < k; i++) {
            int t = shifted - i * dilation;
            if (t >= 0 && t % stride == 0 && t / stride < outSize) {
                out[2 * n] = i;
                out[2 * n + 1] = t / stride;
                n++;
            }
        }
        return n;
    }

    // ------------------------------------------------------------------------------------------------ epilogues

    static float withBias(float acc, float[] bias, int oc) {
        return bias == null ? acc : acc + bias[oc];
    }

    static float signedR(float xi, float c1, float c2) {
        return xi * (xi > 0 ? c1 : c2);
    }

    static float zboxR(float xi, float lo, float hi, float c0, float cp, float cm) {
        return (xi * c0 - lo * cp) - hi * cm;
    }

    // ------------------------------------------------------------------------------------------------ whole rows

    @Override
    public void conv(float[] x, ConvWeights wts, float[] bias, float[] z, int r0, int r1, ConvGeometry g) {
        float[] w = wts.data;
        int oh = g.outH();
        int ow = g.outW();
        for (int b = r0; b < r1; b++) {
            int o = b * g.outSize();
            for (int oc = 0; oc < g.outChannels(); oc++) {
                for (int y = 0; y < oh; y++) {
                    for (int q = 0; q < ow; q++) {
                        z[o++] = withBias(fwd(x, b * g.inSize(), w, g, oc, y, q), bias, oc);
                    }
                }
            }
        }
    }

    @Override
    public void convSigned(float[] x, ConvWeights uw, ConvWeights vw, float[] biasP, float[] biasN, float[] outP,
                           float[] outN, int r0, int r1, ConvGeometry g) {
        float[] u = uw.data;
        float[] v = vw.data;
        int oh = g.outH();
        int ow = g.outW();
        float[] pn = new float[2];
        for (int b = r0; b < r1; b++) {
            int o = b * g.outSize();
            for (int oc = 0; oc < g.outChannels(); oc++) {
                for (int y = 0; y < oh; y++) {
                    for (int q = 0; q < ow; q++, o++) {
                        fwdSigned(x, b * g.inSize(), u, v, g, oc, y, q, pn);
                        outP[o] = withBias(pn[0], biasP, oc);
                        if (outN != null) {
                            outN[o] = withBias(pn[1], biasN, oc);
                        }
                    }
                }
            }
        }
    }

    @Override
    public void convZBox(float[] x, float[] w, float[] low, float[] high, float[] d, int r0, int r1,
                         ConvGeometry g) {
        int oh = g.outH();
        int ow = g.outW();
        for (int b = r0; b < r1; b++) {
            int o = b * g.outSize();
            for (int oc = 0; oc < g.outChannels(); oc++) {
                for (int y = 0; y < oh; y++) {
                    for (int q = 0; q < ow; q++) {
                        d[o++] = fwdZBox(x, b * g.inSize(), w, low, high, g, oc, y, q);
                    }
                }
            }
        }
    }

    @Override
    public void convBackproject(float[] gr, ConvWeights wts, float[] x, float[] r, int r0, int r1, ConvGeometry g) {
        float[] w = wts.data;
        for (int b = r0; b < r1; b++) {
            int o = b * g.inSize();
            for (int ci = 0; ci < g.inChannels(); ci++) {
                for (int y = 0; y < g.inH(); y++) {
                    for (int q = 0; q < g.inW(); q++, o++) {
                        float c = back(gr, b * g.outSize(), w, g, ci, y, q);
                        r[o] = x == null ? c : x[o] * c;
                    }
                }
            }
        }
    }

    @Override
    public void convBackprojectSigned(float[] hp, float[] hn, ConvWeights uw, ConvWeights vw, float[] x, float[] r,
                                      int r0, int r1, ConvGeometry g) {
        float[] u = uw.data;
        float[] v = vw.data;
        float[] c12 = new float[2];
        for (int b = r0; b < r1; b++) {
            int o = b * g.inSize();
            for (int ci = 0; ci < g.inChannels(); ci++) {
                for (int y = 0; y < g.inH(); y++) {
                    for (int q = 0; q < g.inW(); q++, o++) {
                        backSigned(hp, hn, b * g.outSize(), u, v, g, ci, y, q, c12);
                        r[o] = signedR(x[o], c12[0], c12[1]);
                    }
                }
            }
        }
    }

    @Override
    public void convBackprojectZBox(float[] gr, float[] w, float[] wpos, float[] wneg, float[] x, float[] low,
                                    float[] high, float[] r, int r0, int r1, ConvGeometry g) {
        float[] c3 = new float[3];
        for (int b = r0; b < r1; b++) {
            int o = b * g.inSize();
            for (int e = 0; e < g.inSize(); e++, o++) {
                int ci = e / (g.inH() * g.inW());
                int y = e / g.inW() % g.inH();
                int q = e % g.inW();
                backZBox(gr, b * g.outSize(), w, wpos, wneg, g, ci, y, q, c3);
                r[o] = zboxR(x[o], low[e], high[e], c3[0], c3[1], c3[2]);
            }
        }
    }
}
