package org.gpulrp.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.gpulrp.model.ConvGeometry;

/**
 * Backprojections of patch convolutions (kernel equal to stride, no padding, dilation 1: a ViT's patch embedding),
 * where each input pixel meets exactly one tap per output channel: pixel {@code (ih, q)} of channel {@code ci}
 * reaches output {@code (ih / kh, q / kw)} through kernel entry {@code (ih % kh, q % kw)}, so its chain is
 * {@link ScalarConv#back}'s, one {@code fma} per output channel of the group in ascending order. Lanes run over
 * consecutive input columns of one row: per output row the gradient is expanded once so that column {@code q}
 * holds output column {@code q / kw} (where the kernel's columns fill whole vectors, as a ViT's 16 do at 8 or 16
 * lanes, each vector meets one output column and its gradient is broadcast instead), and the weights are laid out
 * once per call so that a vector reads each lane's kernel column; the same chains, the same bits. The columns past
 * the last whole vector of the covered width {@code outW * kw}, and the rows and columns no output covers, run
 * {@link ScalarConv}'s per-pixel code. One vector's chains are kept in locals (no register tile held in an array,
 * which would box the vectors).
 */
final class PatchConv {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();

    private PatchConv() {
    }

    /** Whether {@link #backward} applies: a patch geometry whose covered row holds at least one vector. */
    static boolean applies(ConvGeometry g) {
        return g.kernelH() == g.strideH() && g.kernelW() == g.strideW() && g.padH() == 0 && g.padW() == 0
                && g.dilationH() == 1 && g.dilationW() == 1 && g.outW() * g.kernelW() >= L;
    }

    /**
     * The plain backprojection ({@code v == null}: {@code r = x * c}, or {@code c} where x is null) or the
     * sign-split one ({@code r = x * (x > 0 ? c1 : c2)} with {@link ScalarConv#backSigned}'s chains; {@code hn} may
     * be null) of samples {@code r0 .. r1 - 1}.
     */
    static void backward(float[] hp, float[] hn, float[] u, float[] v, float[] x, float[] r, int r0, int r1,
                         ConvGeometry g) {
        int kh = g.kernelH();
        int kw = g.kernelW();
        int oh = g.outH();
        int ow = g.outW();
        int wi = g.inW();
        int cout = g.outPerGroup();
        int cin = g.inPerGroup();
        int covered = ow * kw;
        int vecEnd = covered / L * L;
        int period = lcm(kw, L);
        float[] up = pattern(u, g, period);
        float[] vp = v == null ? null : pattern(v, g, period);
        boolean direct = kw % L == 0;
        int rowLen = direct ? 0 : g.outChannels() * covered;
        float[] ep = new float[rowLen];
        float[] en = hn == null ? null : new float[rowLen];
        float[] pair = new float[2];
        for (int b = r0; b < r1; b++) {
            int gb = b * g.outSize();
            for (int th = 0; th < oh; th++) {
                if (!direct) {
                    expand(hp, gb, th, g, ep);
                    if (en != null) {
                        expand(hn, gb, th, g, en);
                    }
                }
                for (int ci = 0; ci < g.inChannels(); ci++) {
                    int grp = ci / cin;
                    int cl = ci - grp * cin;
                    for (int i = 0; i < kh; i++) {
                        int ih = th * kh + i;
                        int o = b * g.inSize() + (ci * g.inH() + ih) * wi;
                        int pr = (cl * kh + i) * g.outChannels();
                        int gt = gb + th * ow;
                        for (int q = 0; q < vecEnd; q += L) {
                            int wp = pr * period + q % period;
                            if (direct) {
                                vector(up, vp, hp, hn, gt + q / kw, oh * ow, true, wp, period, grp * cout,
                                        (grp + 1) * cout, x, r, o + q);
                            } else {
                                vector(up, vp, ep, en, q, covered, false, wp, period, grp * cout, (grp + 1) * cout,
                                        x, r, o + q);
                            }
                        }
                        scalarColumns(hp, hn, gb, u, v, x, r, o, g, ci, ih, vecEnd, pair);
                    }
                }
            }
            for (int ci = 0; ci < g.inChannels(); ci++) {
                for (int ih = oh * kh; ih < g.inH(); ih++) {
                    scalarColumns(hp, hn, gb, u, v, x, r, b * g.inSize() + (ci * g.inH() + ih) * wi, g, ci, ih, 0,
                            pair);
                }
            }
        }
    }

    /**
     * One vector of an input row's columns: the chains over the output channels {@code oc0 .. oc1 - 1} ascending,
     * each lane's weight at {@code wp + oc * period} of the pattern and its gradient at {@code g0 + oc * gStep} (one
     * value for every lane where {@code broadcast}, else one per lane of the expanded row), then the epilogue at
     * {@code r[at ..]}: {@code r = x * c1} ({@code c1} where x is null), or sign-split {@code r = x * (x > 0 ? c1 :
     * c2)}.
     */
    private static void vector(float[] up, float[] vp, float[] gp, float[] gn, int g0, int gStep, boolean broadcast,
                               int wp, int period, int oc0, int oc1, float[] x, float[] r, int at) {
        FloatVector c1 = FloatVector.zero(S);
        FloatVector c2 = c1;
        for (int oc = oc0; oc < oc1; oc++) {
            int pq = wp + oc * period;
            int go = g0 + oc * gStep;
            FloatVector uu = FloatVector.fromArray(S, up, pq);
            FloatVector p = broadcast ? FloatVector.broadcast(S, gp[go]) : FloatVector.fromArray(S, gp, go);
            if (vp == null) {
                c1 = uu.fma(p, c1);
                continue;
            }
            FloatVector vv = FloatVector.fromArray(S, vp, pq);
            c1 = uu.fma(p, c1);
            c2 = vv.fma(p, c2);
            if (gn != null) {
                FloatVector n = broadcast ? FloatVector.broadcast(S, gn[go]) : FloatVector.fromArray(S, gn, go);
                c1 = vv.fma(n, c1);
                c2 = uu.fma(n, c2);
            }
        }
        if (vp == null) {
            (x == null ? c1 : FloatVector.fromArray(S, x, at).mul(c1)).intoArray(r, at);
        } else {
            FloatVector xv = FloatVector.fromArray(S, x, at);
            xv.mul(c2.blend(c1, xv.compare(VectorOperators.GT, 0f))).intoArray(r, at);
        }
    }

    /** Columns {@code q0 .. inW - 1} of one input row, per pixel as {@link ScalarConv} computes them. */
    private static void scalarColumns(float[] hp, float[] hn, int gb, float[] u, float[] v, float[] x, float[] r,
                                      int o, ConvGeometry g, int ci, int ih, int q0, float[] pair) {
        for (int q = q0; q < g.inW(); q++) {
            if (v == null) {
                float c = ScalarConv.back(hp, gb, u, g, ci, ih, q);
                r[o + q] = x == null ? c : x[o + q] * c;
            } else {
                ScalarConv.backSigned(hp, hn, gb, u, v, g, ci, ih, q, pair);
                r[o + q] = ScalarConv.signedR(x[o + q], pair[0], pair[1]);
            }
        }
    }

    /** {@code e[oc * covered + q] = h[oc, th, q / kw]}: output row th, each column repeated kw times. */
    private static void expand(float[] h, int gb, int th, ConvGeometry g, float[] e) {
        int kw = g.kernelW();
        int ow = g.outW();
        int covered = ow * kw;
        for (int oc = 0; oc < g.outChannels(); oc++) {
            int src = gb + (oc * g.outH() + th) * ow;
            int dst = oc * covered;
            for (int c = 0; c < ow; c++) {
                java.util.Arrays.fill(e, dst + c * kw, dst + (c + 1) * kw, h[src + c]);
            }
        }
    }

    /**
     * {@code p[((cl * kh + i) * outChannels + oc) * period + q] = w[oc, cl, i, q % kw]}: for each kernel row, the
     * output channels' kernel columns repeated over a period that whole vectors tile.
     */
    private static float[] pattern(float[] w, ConvGeometry g, int period) {
        int cin = g.inPerGroup();
        int kh = g.kernelH();
        int kw = g.kernelW();
        int cout = g.outChannels();
        float[] p = new float[cin * kh * cout * period];
        for (int cl = 0; cl < cin; cl++) {
            for (int i = 0; i < kh; i++) {
                for (int oc = 0; oc < cout; oc++) {
                    int src = ((oc * cin + cl) * kh + i) * kw;
                    int dst = ((cl * kh + i) * cout + oc) * period;
                    for (int q = 0; q < period; q++) {
                        p[dst + q] = w[src + q % kw];
                    }
                }
            }
        }
        return p;
    }

    private static int lcm(int a, int b) {
        int x = a;
        int y = b;
        while (y != 0) {
            int t = x % y;
            x = y;
            y = t;
        }
        return a / x * b;
    }
}
