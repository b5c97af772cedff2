package org.gpulrp.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.gpulrp.backend.ConvGeometry;

/**
 * Backprojection with the vector lanes over L consecutive input columns, for stride-1 convolutions whose groups
 * have too few input channels for {@link ChannelConv} (the first layer of an image network reads 1 or 3). Each
 * input element is still one fma chain over (output channel, kernel row, kernel column) ascending, skipping taps
 * that reach no output; columns whose taps do not all land inside the output go through the scalar chain.
 */
final class SpatialConv {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();

    private SpatialConv() {
    }

    static boolean applies(ConvGeometry g) {
        return g.strideH() == 1 && g.strideW() == 1 && g.inW() >= L;
    }

    /** Input column {@code c} and the L - 1 after it reach an output column through every kernel column. */
    private static boolean interior(int c, ConvGeometry g) {
        return c + g.padW() - (g.kernelW() - 1) * g.dilationW() >= 0 && c + L - 1 + g.padW() < g.outW();
    }

    /**
     * {@code v == null}: {@code c = chain(u, hp)}, {@code r = x == null ? c : x c}; else the sign-split form with
     * optional {@code hn} ({@code r = x (x > 0 ? c1 : c2)}).
     */
    static void backward(float[] hp, float[] hn, float[] u, float[] v, float[] x, float[] r, int r0, int r1,
                         ConvGeometry g) {
        int cg = g.inChannels() / g.groups();
        int og = g.outChannels() / g.groups();
        int kh = g.kernelH();
        int kw = g.kernelW();
        int[] goff = new int[og * kh * kw];
        int[] woff = new int[goff.length];
        int plane = g.inH() * g.inW();
        for (int b = r0; b < r1; b++) {
            int go = b * g.outSize();
            int ro = b * g.inSize();
            for (int ci = 0; ci < g.inChannels(); ci++) {
                int grp = ci / cg;
                int cl = ci % cg;
                for (int y = 0; y < g.inH(); y++) {
                    int nt = rowTaps(g, grp, cl, y, goff, woff);
                    int row = ro + ci * plane + y * g.inW();
                    for (int c = 0; c < g.inW(); c++) {
                        if (c + L <= g.inW() && interior(c, g)) {
                            int gb = go + c + g.padW();
                            if (v == null) {
                                plain(hp, u, x, r, gb, row + c, goff, woff, nt);
                            } else if (hn == null) {
                                signedP(hp, u, v, x, r, gb, row + c, goff, woff, nt);
                            } else {
                                signed(hp, hn, u, v, x, r, gb, row + c, goff, woff, nt);
                            }
                            c += L - 1;
                        } else {
                            scalar(hp, hn, u, v, x, r, go, row + c, grp, cl, y, c, g);
                        }
                    }
                }
            }
        }
    }

    /** Taps reaching input row y for channel cl of group grp: g offsets relative to the column, weight offsets. */
    private static int rowTaps(ConvGeometry g, int grp, int cl, int y, int[] goff, int[] woff) {
        int cg = g.inChannels() / g.groups();
        int og = g.outChannels() / g.groups();
        int kh = g.kernelH();
        int kw = g.kernelW();
        int oh = g.outH();
        int ow = g.outW();
        int n = 0;
        for (int ocl = 0; ocl < og; ocl++) {
            int oc = grp * og + ocl;
            for (int i = 0; i < kh; i++) {
                int th = y + g.padH() - i * g.dilationH();
                if (th < 0 || th >= oh) {
                    continue;
                }
                for (int j = 0; j < kw; j++) {
                    goff[n] = oc * oh * ow + th * ow - j * g.dilationW();
                    woff[n] = ((oc * cg + cl) * kh + i) * kw + j;
                    n++;
                }
            }
        }
        return n;
    }

    private static void plain(float[] hp, float[] w, float[] x, float[] r, int gb, int o, int[] goff, int[] woff,
                              int nt) {
        FloatVector c = FloatVector.zero(S);
        for (int t = 0; t < nt; t++) {
            c = FloatVector.broadcast(S, w[woff[t]]).fma(FloatVector.fromArray(S, hp, gb + goff[t]), c);
        }
        if (x == null) {
            c.intoArray(r, o);
        } else {
            FloatVector.fromArray(S, x, o).mul(c).intoArray(r, o);
        }
    }

    private static void signedP(float[] hp, float[] u, float[] v, float[] x, float[] r, int gb, int o, int[] goff,
                                int[] woff, int nt) {
        FloatVector c1 = FloatVector.zero(S);
        FloatVector c2 = FloatVector.zero(S);
        for (int t = 0; t < nt; t++) {
            FloatVector gp = FloatVector.fromArray(S, hp, gb + goff[t]);
            c1 = FloatVector.broadcast(S, u[woff[t]]).fma(gp, c1);
            c2 = FloatVector.broadcast(S, v[woff[t]]).fma(gp, c2);
        }
        FloatVector xv = FloatVector.fromArray(S, x, o);
        xv.mul(c2.blend(c1, xv.compare(VectorOperators.GT, 0f))).intoArray(r, o);
    }

    private static void signed(float[] hp, float[] hn, float[] u, float[] v, float[] x, float[] r, int gb, int o,
                               int[] goff, int[] woff, int nt) {
        FloatVector c1 = FloatVector.zero(S);
        FloatVector c2 = FloatVector.zero(S);
        for (int t = 0; t < nt; t++) {
            FloatVector gp = FloatVector.fromArray(S, hp, gb + goff[t]);
            FloatVector gn = FloatVector.fromArray(S, hn, gb + goff[t]);
            FloatVector uu = FloatVector.broadcast(S, u[woff[t]]);
            FloatVector vv = FloatVector.broadcast(S, v[woff[t]]);
            c1 = vv.fma(gn, uu.fma(gp, c1));
            c2 = uu.fma(gn, vv.fma(gp, c2));
        }
        FloatVector xv = FloatVector.fromArray(S, x, o);
        xv.mul(c2.blend(c1, xv.compare(VectorOperators.GT, 0f))).intoArray(r, o);
    }

    /** One input element by the contract's scalar chain (taps that reach no output skipped). */
    private static void scalar(float[] hp, float[] hn, float[] u, float[] v, float[] x, float[] r, int go, int o,
                               int grp, int cl, int y, int c, ConvGeometry g) {
        int cg = g.inChannels() / g.groups();
        int og = g.outChannels() / g.groups();
        int kh = g.kernelH();
        int kw = g.kernelW();
        int oh = g.outH();
        int ow = g.outW();
        float c1 = 0f;
        float c2 = 0f;
        for (int ocl = 0; ocl < og; ocl++) {
            int oc = grp * og + ocl;
            for (int i = 0; i < kh; i++) {
                int th = y + g.padH() - i * g.dilationH();
                if (th < 0 || th >= oh) {
                    continue;
                }
                for (int j = 0; j < kw; j++) {
                    int tw = c + g.padW() - j * g.dilationW();
                    if (tw < 0 || tw >= ow) {
                        continue;
                    }
                    int gi = go + oc * oh * ow + th * ow + tw;
                    int wi = ((oc * cg + cl) * kh + i) * kw + j;
                    if (v == null) {
                        c1 = Math.fma(u[wi], hp[gi], c1);
                    } else {
                        c1 = Math.fma(u[wi], hp[gi], c1);
                        c2 = Math.fma(v[wi], hp[gi], c2);
                        if (hn != null) {
                            c1 = Math.fma(v[wi], hn[gi], c1);
                            c2 = Math.fma(u[wi], hn[gi], c2);
                        }
                    }
                }
            }
        }
        if (v == null) {
            r[o] = x == null ? c1 : x[o] * c1;
        } else {
            float xi = x[o];
            r[o] = xi * (xi > 0 ? c1 : c2);
        }
    }
}
