package org.gpulrp.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.gpulrp.model.ConvGeometry;

/**
 * Strided convolutions in column phases: the backprojections onto input channels that do not fill whole vectors (a
 * ResNet's 7x7 stride-2 first layer onto RGB), which the channel-lane kernels cannot take, and the ZBox forward
 * ({@link #forwardZBox}), which has no channel-lane kernel. Both ran {@link ScalarConv}'s per-pixel chains before
 * (that backprojection at 2.6 GFLOP/s, 36x the forward map's time).
 *
 * <p>An input row's columns split into {@code strideW} phases: column {@code q = strideW * j + p} meets kernel
 * column {@code kx} only where {@code p + padW - kx * dilationW} is a multiple of the stride, independently of
 * {@code j}, and then reaches output column {@code j + shift(kx)} with {@code shift(kx) = (p + padW - kx *
 * dilationW) / strideW}. So within a phase, consecutive {@code j} read consecutive outputs: lanes run over a phase's
 * columns, each lane's chain visits the phase's kernel columns in ascending order for each output channel and
 * kernel row in ascending order, which is {@link ScalarConv#back}'s chain with the taps it skips left out, so the
 * bits are its bits. Vectors cover a phase's interior (the columns whose every phase tap lands on an output); a
 * last vector that would run past it starts earlier instead and recomputes some lanes (the same chains, the same
 * values). The chains go to a per-row scratch indexed by phase and column; the rest of the row's columns run
 * {@link ScalarConv}'s chains into it; then one scalar pass over the row applies the rule's epilogue as
 * {@link ScalarConv} writes it. Several vectors' chains run together (plain: four; sign-split and ZBox: two, each
 * with two or three chains), in locals, since an array of vectors would box them.
 */
final class StridedConv {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();

    private StridedConv() {
    }

    /** A column phase: its kernel columns (ascending), their output-column shifts, its interior {@code [lo, hi)}. */
    private record Phase(int width, int[] cols, int[] shifts, int lo, int hi) {
    }

    /** Whether {@link #backward} and {@link #backwardZBox} apply: a strided map with a phase interior of a vector. */
    static boolean applies(ConvGeometry g) {
        if (g.strideH() == 1 && g.strideW() == 1) {
            return false;
        }
        for (Phase ph : phases(g)) {
            if (ph.hi - ph.lo >= L) {
                return true;
            }
        }
        return false;
    }

    private static Phase[] phases(ConvGeometry g) {
        int s = g.strideW();
        Phase[] out = new Phase[s];
        for (int p = 0; p < s; p++) {
            int width = Math.max(0, (g.inW() - p + s - 1) / s);
            int n = 0;
            int[] cols = new int[g.kernelW()];
            int[] shifts = new int[g.kernelW()];
            int lo = 0;
            int hi = width;
            for (int kx = 0; kx < g.kernelW(); kx++) {
                int t = p + g.padW() - kx * g.dilationW();
                if (Math.floorMod(t, s) == 0) {
                    cols[n] = kx;
                    shifts[n] = t / s;
                    lo = Math.max(lo, -shifts[n]);
                    hi = Math.min(hi, g.outW() - shifts[n]);
                    n++;
                }
            }
            out[p] = new Phase(width, java.util.Arrays.copyOf(cols, n), java.util.Arrays.copyOf(shifts, n), lo, hi);
        }
        return out;
    }

    /**
     * Whether {@link #forwardZBox} applies to g with weights w: column stride above 1, rows of a vector, and finite
     * weights (the padding stands for the skipped taps: {@link Padding}).
     */
    static boolean forwardZBoxApplies(ConvGeometry g, float[] w) {
        return g.strideW() > 1 && g.outW() >= L && Padding.finite(w);
    }

    /**
     * The ZBox forward {@link ScalarConv#fwdZBox} of samples {@code r0 .. r1 - 1} with lanes over output columns:
     * each sample's {@code x - low} and {@code x - high} are first written in column phases (input column {@code
     * strideW * j + p} at phase p, column j), where output column {@code ow} reads kernel column kx's input at phase
     * {@code floorMod(kx * dilationW - padW, strideW)}, column {@code ow + floorDiv(..)}: consecutive outputs read
     * consecutive values, and a tap's weight picks which of the two copies its lanes read, as the scalar chain picks
     * by the weight's sign. Each phase row has {@code margin} columns of padding on both sides, -0 in the {@code x -
     * low} copy (read for weights above 0) and +0 in the {@code x - high} one (the others), so a tap outside the input
     * adds {@code -0 * w} or {@code +0 * w}, both -0 for finite weights but one of exactly +0, which leaves every chain
     * as it is (-0 included), as the skipped tap does; so every output column runs in vectors, four at a time (the
     * last block starts earlier instead of running past), and where some weight is +0, the outputs that end as +0 are
     * computed again by the scalar chain ({@link Padding}). The taps of every output row are tabled once per call.
     */
    static void forwardZBox(float[] x, float[] w, float[] low, float[] high, float[] d, int r0, int r1,
                            ConvGeometry g) {
        int s = g.strideW();
        int h = g.inH();
        int wi = g.inW();
        int margin = (g.padW() + (g.kernelW() - 1) * g.dilationW()) / s + 2;
        int span = (wi + s - 1) / s + 2 * margin;
        int cin = g.inPerGroup();
        int kk = g.kernelH() * g.kernelW();
        int oh = g.outH();
        int ow = g.outW();
        int half = g.inChannels() * h * s * span;
        float[] ph = new float[2 * half];
        java.util.Arrays.fill(ph, 0, half, -0f);
        boolean repair = Padding.plusZero(w);
        Table[] tables = new Table[oh];
        for (int y = 0; y < oh; y++) {
            tables[y] = new Table(cin * kk);
            tables[y].fillForward(g, y, span, margin);
        }
        for (int b = r0; b < r1; b++) {
            int xb = b * g.inSize();
            for (int c = 0; c < g.inChannels(); c++) {
                for (int y = 0; y < h; y++) {
                    int e = (c * h + y) * wi;
                    int row = (c * h + y) * s * span;
                    for (int q = 0; q < wi; q++) {
                        int at = row + q % s * span + margin + q / s;
                        ph[at] = x[xb + e + q] - low[e + q];
                        ph[half + at] = x[xb + e + q] - high[e + q];
                    }
                }
            }
            for (int y = 0; y < oh; y++) {
                for (int oc = 0; oc < g.outChannels(); oc++) {
                    int g0 = oc / g.outPerGroup() * cin * h * s * span;
                    int w0 = oc * cin * kk;
                    int o = b * g.outSize() + (oc * oh + y) * ow;
                    for (int j0 = 0; j0 < ow; j0 += 4 * L) {
                        int base = Math.min(j0, ow - L);
                        int last = ow - L - base;
                        zboxForward(ph, g0 + base, half, w, w0, tables[y], Math.min(L, last), Math.min(2 * L, last),
                                Math.min(3 * L, last), d, o + base);
                    }
                    if (repair) {
                        Padding.repair(x, w, low, high, d, o, b, oc, y, g);
                    }
                }
            }
        }
    }

    /** Four vectors of ZBox forward chains: lanes at {@code 0, o1, o2, o3} past the block's first output column. */
    private static void zboxForward(float[] ph, int g0, int half, float[] w, int w0, Table tb, int o1, int o2, int o3,
                                    float[] d, int at) {
        int[] go = tb.g;
        int[] wo = tb.w;
        int n = tb.n;
        FloatVector c0 = FloatVector.zero(S);
        FloatVector c1 = c0;
        FloatVector c2 = c0;
        FloatVector c3 = c0;
        for (int i = 0; i < n; i++) {
            float ww = w[w0 + wo[i]];
            FloatVector wv = FloatVector.broadcast(S, ww);
            int k = g0 + go[i] + (ww > 0 ? 0 : half);
            c0 = FloatVector.fromArray(S, ph, k).fma(wv, c0);
            c1 = FloatVector.fromArray(S, ph, k + o1).fma(wv, c1);
            c2 = FloatVector.fromArray(S, ph, k + o2).fma(wv, c2);
            c3 = FloatVector.fromArray(S, ph, k + o3).fma(wv, c3);
        }
        c0.intoArray(d, at);
        c1.intoArray(d, at + o1);
        c2.intoArray(d, at + o2);
        c3.intoArray(d, at + o3);
    }

    /**
     * The plain backprojection ({@code v == null}: {@code r = x * c}, or {@code c} where x is null) or the
     * sign-split one ({@code r = x * (x > 0 ? c1 : c2)} with {@link ScalarConv#backSigned}'s chains; {@code hn} may
     * be null) of samples {@code r0 .. r1 - 1}.
     */
    static void backward(float[] hp, float[] hn, float[] u, float[] v, float[] x, float[] r, int r0, int r1,
                         ConvGeometry g) {
        new Rows(g, v == null ? 1 : 2) {
            @Override
            void vectors(int g0, int w0, Table tb, int o1, int o2, int o3, int at) {
                if (v == null) {
                    plain(hp, g0, u, w0, tb, o1, o2, o3, t1, at);
                } else {
                    signed(hp, hn, g0, u, v, w0, tb, o1, t1, t2, at);
                }
            }

            @Override
            void scalar(int gb, int ci, int ih, int q, int at) {
                if (v == null) {
                    t1[at] = ScalarConv.back(hp, gb, u, g, ci, ih, q);
                } else {
                    ScalarConv.backSigned(hp, hn, gb, u, v, g, ci, ih, q, pair);
                    t1[at] = pair[0];
                    t2[at] = pair[1];
                }
            }

            @Override
            void epilogue(int o, int e0, int q, int at) {
                if (v == null) {
                    r[o + q] = x == null ? t1[at] : x[o + q] * t1[at];
                } else {
                    r[o + q] = ScalarConv.signedR(x[o + q], t1[at], t2[at]);
                }
            }
        }.samples(r0, r1, v == null ? 4 : 2);
    }

    /** The ZBox backprojection {@code r = (x * c0 - low * cp) - high * cm} of samples {@code r0 .. r1 - 1}. */
    static void backwardZBox(float[] gr, float[] w, float[] wpos, float[] wneg, float[] x, float[] low,
                             float[] high, float[] r, int r0, int r1, ConvGeometry g) {
        new Rows(g, 3) {
            @Override
            void vectors(int g0, int w0, Table tb, int o1, int o2, int o3, int at) {
                zbox(gr, g0, w, wpos, wneg, w0, tb, o1, t1, t2, t3, at);
            }

            @Override
            void scalar(int gb, int ci, int ih, int q, int at) {
                ScalarConv.backZBox(gr, gb, w, wpos, wneg, g, ci, ih, q, triple);
                t1[at] = triple[0];
                t2[at] = triple[1];
                t3[at] = triple[2];
            }

            @Override
            void epilogue(int o, int e0, int q, int at) {
                r[o + q] = ScalarConv.zboxR(x[o + q], low[e0 + q], high[e0 + q], t1[at], t2[at], t3[at]);
            }
        }.samples(r0, r1, 2);
    }

    /**
     * A row's taps in chain order, entry t reading its value at {@code g[t]} past the lane's first one and its weight
     * at {@code w[t]} past the chain's first: backward, one input row's taps in one phase (output channel of the
     * group, kernel row, kernel column), the values the relevance from channel 0 of the group, the weights from
     * channel 0's for the input channel; forward, one output row's taps (input channel of the group, kernel row,
     * kernel column), the values the phase-split copies from channel 0 of the group, the weights the output
     * channel's. One flat loop over such a table is what C2 compiles without boxing the accumulators; nested loops
     * over channels and taps boxed them on every step (Java 17: 10-25x slower).
     */
    private static final class Table {
        final int[] g;
        final int[] w;
        int n;

        Table(int size) {
            g = new int[size];
            w = new int[size];
        }

        void fill(ConvGeometry geo, int[] rt, int nr, Phase ph) {
            int kk = geo.kernelH() * geo.kernelW();
            int plane = geo.outH() * geo.outW();
            n = 0;
            for (int oc = 0; oc < geo.outPerGroup(); oc++) {
                for (int a = 0; a < nr; a++) {
                    for (int e = 0; e < ph.cols.length; e++) {
                        g[n] = oc * plane + rt[2 * a + 1] * geo.outW() + ph.shifts[e];
                        w[n] = oc * geo.inPerGroup() * kk + rt[2 * a] * geo.kernelW() + ph.cols[e];
                        n++;
                    }
                }
            }
        }

        /** Output row {@code oh}'s taps into phase-split copies of {@code span} columns a phase, from {@code margin}. */
        void fillForward(ConvGeometry geo, int oh, int span, int margin) {
            int s = geo.strideW();
            n = 0;
            for (int cl = 0; cl < geo.inPerGroup(); cl++) {
                for (int ky = 0; ky < geo.kernelH(); ky++) {
                    int ih = oh * geo.strideH() - geo.padH() + ky * geo.dilationH();
                    if (ih < 0 || ih >= geo.inH()) {
                        continue;
                    }
                    for (int kx = 0; kx < geo.kernelW(); kx++) {
                        int t = kx * geo.dilationW() - geo.padW();
                        g[n] = ((cl * geo.inH() + ih) * s + Math.floorMod(t, s)) * span + margin
                                + Math.floorDiv(t, s);
                        w[n] = (cl * geo.kernelH() + ky) * geo.kernelW() + kx;
                        n++;
                    }
                }
            }
        }
    }

    /**
     * The walk shared by the three modes: per input row its tap tables (one per phase), then per sample and channel
     * the vectors over each phase's interior and the scalar chains elsewhere into the scratch rows {@code t1 .. t3}
     * (phase {@code p}, column {@code j} at {@code p * span + j}), then the epilogue over the row's columns.
     */
    private abstract static class Rows {
        final ConvGeometry g;
        final Phase[] phases;
        final Table[] tables;
        final int span;
        final float[] t1;
        final float[] t2;
        final float[] t3;
        final float[] pair = new float[2];
        final float[] triple = new float[3];

        Rows(ConvGeometry g, int chains) {
            this.g = g;
            this.phases = phases(g);
            this.tables = new Table[phases.length];
            for (int p = 0; p < phases.length; p++) {
                tables[p] = new Table(g.outPerGroup() * g.kernelH() * Math.max(1, phases[p].cols.length));
            }
            this.span = (g.inW() + g.strideW() - 1) / g.strideW();
            int n = g.strideW() * span;
            this.t1 = new float[n];
            this.t2 = chains > 1 ? new float[n] : null;
            this.t3 = chains > 2 ? new float[n] : null;
        }

        /**
         * The chains of lanes {@code [0, L)} and {@code o1/o2/o3 + [0, L)} past the block's first column, whose
         * first output is at {@code g0} and whose weights start at {@code w0}, into the scratch at {@code at}.
         */
        abstract void vectors(int g0, int w0, Table tb, int o1, int o2, int o3, int at);

        /** The chains of input column {@code q} into scratch index {@code at}. */
        abstract void scalar(int gb, int ci, int ih, int q, int at);

        /** The rule's value of column {@code q} of the row at {@code o} (bounds row at {@code e0}) from {@code at}. */
        abstract void epilogue(int o, int e0, int q, int at);

        void samples(int r0, int r1, int nv) {
            int s = g.strideW();
            int wi = g.inW();
            int cin = g.inPerGroup();
            int cout = g.outPerGroup();
            int kk = g.kernelH() * g.kernelW();
            int plane = g.outH() * g.outW();
            int[] rt = new int[2 * g.kernelH()];
            for (int ih = 0; ih < g.inH(); ih++) {
                int nr = ScalarConv.rowTaps(g, ih, rt);
                for (int p = 0; p < s; p++) {
                    tables[p].fill(g, rt, nr, phases[p]);
                }
                for (int b = r0; b < r1; b++) {
                    int gb = b * g.outSize();
                    for (int ci = 0; ci < g.inChannels(); ci++) {
                        int grp = ci / cin;
                        int gg = gb + grp * cout * plane;
                        int w0 = (grp * cout * cin + ci - grp * cin) * kk;
                        for (int p = 0; p < s; p++) {
                            Phase ph = phases[p];
                            int lo = ph.hi - ph.lo >= L ? ph.lo : ph.width;
                            int hi = lo == ph.width ? ph.width : ph.hi;
                            for (int j = 0; j < lo; j++) {
                                scalar(gb, ci, ih, s * j + p, p * span + j);
                            }
                            for (int j0 = lo; j0 < hi; j0 += nv * L) {
                                int base = Math.min(j0, hi - L);
                                int last = hi - L - base;
                                vectors(gg + base, w0, tables[p], Math.min(L, last), Math.min(2 * L, last),
                                        Math.min(3 * L, last), p * span + base);
                            }
                            for (int j = hi; j < ph.width; j++) {
                                scalar(gb, ci, ih, s * j + p, p * span + j);
                            }
                        }
                        int e0 = (ci * g.inH() + ih) * wi;
                        int o = b * g.inSize() + e0;
                        for (int q = 0; q < wi; q++) {
                            epilogue(o, e0, q, q % s * span + q / s);
                        }
                    }
                }
            }
        }
    }

    /** Four vectors' plain chains: lanes at {@code 0, o1, o2, o3} past the block's first column. */
    private static void plain(float[] gr, int g0, float[] w, int w0, Table tb, int o1, int o2, int o3, float[] t,
                              int at) {
        int[] go = tb.g;
        int[] wo = tb.w;
        int n = tb.n;
        FloatVector c0 = FloatVector.zero(S);
        FloatVector c1 = c0;
        FloatVector c2 = c0;
        FloatVector c3 = c0;
        for (int i = 0; i < n; i++) {
            FloatVector wv = FloatVector.broadcast(S, w[w0 + wo[i]]);
            int k = g0 + go[i];
            c0 = wv.fma(FloatVector.fromArray(S, gr, k), c0);
            c1 = wv.fma(FloatVector.fromArray(S, gr, k + o1), c1);
            c2 = wv.fma(FloatVector.fromArray(S, gr, k + o2), c2);
            c3 = wv.fma(FloatVector.fromArray(S, gr, k + o3), c3);
        }
        c0.intoArray(t, at);
        c1.intoArray(t, at + o1);
        c2.intoArray(t, at + o2);
        c3.intoArray(t, at + o3);
    }

    /** Two vectors' sign-split chains (lanes at 0 and o1), as {@link ScalarConv#backSigned} runs them. */
    private static void signed(float[] hp, float[] hn, int g0, float[] u, float[] v, int w0, Table tb, int o1,
                               float[] t1, float[] t2, int at) {
        int[] go = tb.g;
        int[] wo = tb.w;
        int n = tb.n;
        FloatVector a1 = FloatVector.zero(S);
        FloatVector a2 = a1;
        FloatVector b1 = a1;
        FloatVector b2 = a1;
        for (int i = 0; i < n; i++) {
            FloatVector uu = FloatVector.broadcast(S, u[w0 + wo[i]]);
            FloatVector vv = FloatVector.broadcast(S, v[w0 + wo[i]]);
            int k = g0 + go[i];
            FloatVector pa = FloatVector.fromArray(S, hp, k);
            FloatVector pb = FloatVector.fromArray(S, hp, k + o1);
            a1 = uu.fma(pa, a1);
            a2 = vv.fma(pa, a2);
            b1 = uu.fma(pb, b1);
            b2 = vv.fma(pb, b2);
            if (hn != null) {
                FloatVector na = FloatVector.fromArray(S, hn, k);
                FloatVector nb = FloatVector.fromArray(S, hn, k + o1);
                a1 = vv.fma(na, a1);
                a2 = uu.fma(na, a2);
                b1 = vv.fma(nb, b1);
                b2 = uu.fma(nb, b2);
            }
        }
        a1.intoArray(t1, at);
        a2.intoArray(t2, at);
        b1.intoArray(t1, at + o1);
        b2.intoArray(t2, at + o1);
    }

    /** Two vectors' ZBox chains (w, wpos, wneg; lanes at 0 and o1), as {@link ScalarConv#backZBox} runs them. */
    private static void zbox(float[] gr, int g0, float[] w, float[] wpos, float[] wneg, int w0, Table tb, int o1,
                             float[] t1, float[] t2, float[] t3, int at) {
        int[] go = tb.g;
        int[] wo = tb.w;
        int n = tb.n;
        FloatVector a0 = FloatVector.zero(S);
        FloatVector ap = a0;
        FloatVector am = a0;
        FloatVector b0 = a0;
        FloatVector bp = a0;
        FloatVector bm = a0;
        for (int i = 0; i < n; i++) {
            int wk = w0 + wo[i];
            FloatVector wz = FloatVector.broadcast(S, w[wk]);
            FloatVector wp = FloatVector.broadcast(S, wpos[wk]);
            FloatVector wm = FloatVector.broadcast(S, wneg[wk]);
            int k = g0 + go[i];
            FloatVector ga = FloatVector.fromArray(S, gr, k);
            FloatVector gb = FloatVector.fromArray(S, gr, k + o1);
            a0 = wz.fma(ga, a0);
            ap = wp.fma(ga, ap);
            am = wm.fma(ga, am);
            b0 = wz.fma(gb, b0);
            bp = wp.fma(gb, bp);
            bm = wm.fma(gb, bm);
        }
        a0.intoArray(t1, at);
        ap.intoArray(t2, at);
        am.intoArray(t3, at);
        b0.intoArray(t1, at + o1);
        bp.intoArray(t2, at + o1);
        bm.intoArray(t3, at + o1);
    }
}
