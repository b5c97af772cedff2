package org.gpulrp.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.gpulrp.model.ConvGeometry;

/**
 * Backprojection with the vector lanes over L consecutive input columns, for stride-1 convolutions whose groups
 * have too few input channels for {@link ChannelConv} (the first layer of an image network reads 1 or 3). Each
 * input element is still one fma chain over (output channel, kernel row, kernel column) ascending, skipping taps
 * that reach no output: masked lanes at the row's borders, or, for the plain form of rows that are mostly borders,
 * padded copies whose padding adds -0 ({@link #backwardPadded}).
 */
final class SpatialConv {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();

    private SpatialConv() {
    }

    static boolean applies(ConvGeometry g) {
        return g.strideH() == 1 && g.strideW() == 1 && g.inW() >= L;
    }

    /**
     * Whether most of a row's vectors are border ones (the 1x28x28 CNN's first layer: both of its two), for which the
     * plain backprojection runs over padded copies ({@link #backwardPadded}); rows with mostly interior vectors keep
     * the masked borders, which read the relevance in place (VGG-16's 224-column rows: the copies cost more than the
     * masks).
     */
    static boolean mostlyBorders(ConvGeometry g) {
        int wi = g.inW();
        int vectors = 0;
        int interior = 0;
        for (int c = 0; c < wi; c += L) {
            vectors++;
            interior += interior(Math.min(c, wi - L), g) ? 1 : 0;
        }
        return 2 * interior < vectors;
    }

    /** Input column {@code c} and the L - 1 after it reach an output column through every kernel column. */
    private static boolean interior(int c, ConvGeometry g) {
        return c + g.padW() - (g.kernelW() - 1) * g.dilationW() >= 0 && c + L - 1 + g.padW() < g.outW();
    }

    private static final float[] IOTA = new float[L];

    static {
        for (int l = 0; l < L; l++) {
            IOTA[l] = l;
        }
    }

    /**
     * {@code v == null}: {@code c = chain(u, hp)}, {@code r = x == null ? c : x c}; else the sign-split form with
     * optional {@code hn} ({@code r = x (x > 0 ? c1 : c2)}). Rows are cut into vectors at columns 0, L, 2L, ...;
     * an interior vector runs every tap on all lanes; a border vector (or the row's last, partial one) masks, per
     * tap, the lanes whose column reaches no output through it, and keeps their accumulators as they were (a blend
     * after the fma), which is the skipped tap of the contract.
     */
    static void backward(float[] hp, float[] hn, float[] u, float[] v, float[] x, float[] r, int r0, int r1,
                         ConvGeometry g) {
        if (v == null && mostlyBorders(g) && Padding.finite(u)) {
            backwardPadded(hp, u, x, r, r0, r1, g);
            return;
        }
        int cg = g.inChannels() / g.groups();
        int plane = g.inH() * g.inW();
        int wi = g.inW();
        Tables tb = new Tables(g);
        int[][] goff = tb.goff;
        int[][] woff = tb.woff;
        float[][] lo = tb.lo;
        float[][] hi = tb.hi;
        int[] nt = tb.nt;
        int[][] span = tb.span;
        FloatVector iota = FloatVector.fromArray(S, IOTA, 0);
        for (int b = r0; b < r1; b++) {
            int go = b * g.outSize();
            int ro = b * g.inSize();
            for (int ci = 0; ci < g.inChannels(); ci++) {
                for (int y = 0; y < g.inH(); y++) {
                    int k = ci * g.inH() + y;
                    int row = ro + ci * plane + y * wi;
                    for (int c = 0; c < wi; c += L) {
                        // The last vector ends at the row's end, overlapping the one before (same chains, same bits).
                        int c0 = Math.min(c, wi - L);
                        int gb = go + c0 + g.padW();
                        if (v == null && c0 + 4 * L <= wi && interior(c0, g) && interior(c0 + 3 * L, g)) {
                            // Four interior vectors: four independent chains hide the fma latency.
                            plain4(hp, u, x, r, gb, row + c0, goff[k], woff[k], nt[k]);
                            c += 3 * L;
                        } else if (interior(c0, g)) {
                            if (v == null) {
                                plain(hp, u, x, r, gb, row + c0, goff[k], woff[k], nt[k]);
                            } else if (hn == null) {
                                signedP(hp, u, v, x, r, gb, row + c0, goff[k], woff[k], nt[k]);
                            } else {
                                signed(hp, hn, u, v, x, r, gb, row + c0, goff[k], woff[k], nt[k]);
                            }
                        } else if (gb + span[k][0] >= 0 && gb + span[k][1] + L <= hp.length) {
                            FloatVector col = iota.add((float) c0);
                            if (v == null) {
                                plainMasked(hp, u, x, r, gb, row + c0, goff[k], woff[k], lo[k], hi[k], nt[k], col);
                            } else {
                                signedMasked(hp, hn, u, v, x, r, gb, row + c0, goff[k], woff[k], lo[k], hi[k], nt[k],
                                        col);
                            }
                        } else {
                            // A vector load would leave the array (first or last sample of the buffer).
                            for (int q = c0; q < c0 + L; q++) {
                                scalar(hp, hn, u, v, x, r, go, row + q, ci / cg, ci % cg, y, q, g);
                            }
                        }
                    }
                }
            }
        }
    }

    /**
     * The plain backprojection ({@code v == null}) over padded copies of each sample's relevance planes, so that
     * every vector of a row, the border ones included, runs unmasked: a tap whose column reaches no output reads a
     * padding value whose product with the tap's weight is -0 (a copy padded with -0 for weights whose sign bit is
     * clear, one padded with +0 for the others; each tap picks its copy by its weight), and adding -0 leaves a
     * chain as it is, -0 included, so the bits are those of skipping the tap. Vectors run four at a time through one
     * flat loop over their row's tap table (the masked border kernel was one chain with two blends per tap: the
     * 1x28x28 CNN's first layer, whose every vector is a border one, ran at about 6 GFLOP/s a core; 1.35x faster
     * then): a row's vectors, and where a row has fewer than four, the same row of several samples (two samples of a
     * 28-column row; before, its two vectors were computed twice over). For rows that are {@link #mostlyBorders}.
     */
    private static void backwardPadded(float[] hp, float[] w, float[] x, float[] r, int r0, int r1, ConvGeometry g) {
        int wi = g.inW();
        int nv = (wi + L - 1) / L;
        int group = samplesPerSet(nv);
        Padded pd = Padded.of(g, group);
        int plane = g.inH() * wi;
        int[] read = new int[4];
        int[] write = new int[4];
        for (int b0 = r0; b0 < r1; b0 += group) {
            int samples = Math.min(group, r1 - b0);
            for (int s = 0; s < samples; s++) {
                pd.fill(hp, (b0 + s) * g.outSize(), s);
            }
            for (int ci = 0; ci < g.inChannels(); ci++) {
                for (int y = 0; y < g.inH(); y++) {
                    int k = ci * g.inH() + y;
                    int o = b0 * g.inSize() + ci * plane + y * wi;
                    for (int v0 = 0; v0 < nv; v0 += 4) {
                        int c0 = vectorSet(v0, wi, samples, pd.slot, g.inSize(), read, write);
                        paddedRow(pd.planes, pd.copy, w, x, r, pd.left + g.padW() + c0, read, o + c0, write,
                                pd.goff[k], pd.woff[k]);
                    }
                }
            }
        }
    }

    /** Samples a set of four vectors takes side by side where a row has {@code nv} (fewer than four) vectors. */
    static int samplesPerSet(int nv) {
        return nv >= 4 ? 1 : 4 / nv;
    }

    /**
     * The four vectors of a padded row kernel from vector {@code v0} of a row {@code width} columns wide, over
     * {@code samples} samples ({@link #samplesPerSet}): (sample, column) pairs, a row's vectors, or where it has fewer
     * than four, the same row of the next samples. A row's last vector ends at its end, overlapping the one before,
     * and a short set repeats its last pair (same chains, same bits, stored twice). Fills each vector's read and write
     * offsets relative to the set's first column ({@code readSlot} and {@code writeSlot} floats per sample) and returns
     * that column.
     */
    static int vectorSet(int v0, int width, int samples, int readSlot, int writeSlot, int[] read, int[] write) {
        int nv = (width + L - 1) / L;
        int c0 = Math.min(v0 * L, width - L);
        for (int q = 0; q < 4; q++) {
            int s = Math.min(q / Math.min(nv, 4), samples - 1);
            int v = samplesPerSet(nv) == 1 ? Math.min(v0 + q, nv - 1) : q % nv;
            int col = Math.min(v * L, width - L) - c0;
            read[q] = s * readSlot + col;
            write[q] = s * writeSlot + col;
        }
        return c0;
    }

    /**
     * The ZBox backprojection of {@link #backwardZBox} over padded copies, as {@link #backwardPadded}: each of the
     * three chains of a tap reads the copy its own weight's sign bit picks (-0 padding where it is clear, +0 where
     * set), so every padding product is -0; two vectors of a row (six chains) per flat loop over its taps.
     */
    private static void backwardZBoxPadded(float[] gr, float[] w, float[] wpos, float[] wneg, float[] x,
                                           float[] low, float[] high, float[] r, int r0, int r1, ConvGeometry g) {
        Padded pd = Padded.of(g, 1);
        int wi = g.inW();
        int nv = (wi + L - 1) / L;
        int plane = g.inH() * wi;
        for (int b = r0; b < r1; b++) {
            pd.fill(gr, b * g.outSize(), 0);
            int ro = b * g.inSize();
            for (int ci = 0; ci < g.inChannels(); ci++) {
                for (int y = 0; y < g.inH(); y++) {
                    int k = ci * g.inH() + y;
                    int e = ci * plane + y * wi;
                    for (int v0 = 0; v0 < nv; v0 += 2) {
                        int c0 = Math.min(v0 * L, wi - L);
                        int d1 = Math.min((v0 + 1) * L, wi - L) - c0;
                        zboxPaddedRow(pd.planes, pd.copy, w, wpos, wneg, x, low, high, r, pd.left + g.padW() + c0, d1,
                                ro + e + c0, e + c0, pd.goff[k], pd.woff[k]);
                    }
                }
            }
        }
    }

    /**
     * The relevance planes of up to {@code samples} samples, padded for {@link #backwardPadded}: rows of {@code rw}
     * columns (the output row with {@code left} columns before it and enough after it for every input column's taps);
     * per sample, at {@code slot} floats from the one before, a copy padded with -0 and, {@code copy} floats later,
     * one padded with +0; and the tap table of every (input channel, row) into the -0 copy ({@link #paddedTaps}; a
     * kernel adds {@code copy} where a tap's weight has its sign bit set). The tables and the padding depend on the
     * geometry alone, so each thread keeps its last one ({@link #of}) and a call only copies its samples in.
     */
    private static final class Padded {
        final ConvGeometry g;
        final int samples;
        final int left;
        final int rw;
        final int copy;
        final int slot;
        final float[] planes;
        final int[][] goff;
        final int[][] woff;
        private final int rows;
        private final int ow;

        private Padded(ConvGeometry g, int samples) {
            this.g = g;
            this.samples = samples;
            ow = g.outW();
            left = Math.max(0, (g.kernelW() - 1) * g.dilationW() - g.padW());
            int right = Math.max(0, g.inW() - 1 + g.padW() - (ow - 1));
            rw = left + ow + right;
            rows = g.outChannels() * g.outH();
            copy = rows * rw;
            slot = 2 * copy;
            planes = new float[samples * slot];
            for (int s = 0; s < samples; s++) {
                java.util.Arrays.fill(planes, s * slot, s * slot + copy, -0f);
            }
            int count = g.inChannels() * g.inH();
            goff = new int[count][];
            woff = new int[count][];
            for (int ci = 0; ci < g.inChannels(); ci++) {
                for (int y = 0; y < g.inH(); y++) {
                    paddedTaps(g, ci, y, rw, goff, woff, ci * g.inH() + y);
                }
            }
        }

        /**
         * This thread's padded planes for {@code g} with room for {@code samples} samples: the last ones kept where
         * they fit {@link #KEPT_FLOATS}, else new ones for the call.
         */
        static Padded of(ConvGeometry g, int samples) {
            Padded pd = LAST.get();
            if (pd == null || !pd.g.equals(g) || pd.samples < samples) {
                pd = new Padded(g, samples);
                LAST.set(pd.planes.length <= KEPT_FLOATS ? pd : null);
            }
            return pd;
        }

        /** Copies one sample's planes (from {@code src[from]}) into both copies of slot {@code s} (padding kept). */
        void fill(float[] src, int from, int s) {
            int base = s * slot;
            for (int row = 0; row < rows; row++) {
                System.arraycopy(src, from + row * ow, planes, base + row * rw + left, ow);
                System.arraycopy(src, from + row * ow, planes, base + copy + row * rw + left, ow);
            }
        }
    }

    /** Each thread's last {@link Padded}, where its planes fit {@link #KEPT_FLOATS}. */
    private static final ThreadLocal<Padded> LAST = new ThreadLocal<>();

    /** The largest planes a thread keeps between calls: 4 MiB (the CNN's first layer needs 0.4 MiB). */
    private static final int KEPT_FLOATS = 1 << 20;

    /**
     * Two vectors of one input row of {@link #backwardZBoxPadded}, at columns {@code 0, d1} after the first: the
     * chains of w, wpos and wneg, then {@code r = (x c0 - low cp) - high cm} as {@link #zbox} computes it.
     */
    private static void zboxPaddedRow(float[] p, int copy, float[] w, float[] wpos, float[] wneg, float[] x,
                                      float[] low, float[] high, float[] r, int base, int d1, int o, int e,
                                      int[] goff, int[] woff) {
        FloatVector a0 = FloatVector.zero(S);
        FloatVector a1 = FloatVector.zero(S);
        FloatVector p0 = FloatVector.zero(S);
        FloatVector p1 = FloatVector.zero(S);
        FloatVector m0 = FloatVector.zero(S);
        FloatVector m1 = FloatVector.zero(S);
        for (int t = 0; t < goff.length; t++) {
            int wo = woff[t];
            float wa = w[wo];
            float wp = wpos[wo];
            float wm = wneg[wo];
            int gi = base + goff[t];
            int ia = gi + ((Float.floatToRawIntBits(wa) >> 31) & copy);
            int ip = gi + ((Float.floatToRawIntBits(wp) >> 31) & copy);
            int im = gi + ((Float.floatToRawIntBits(wm) >> 31) & copy);
            FloatVector va = FloatVector.broadcast(S, wa);
            FloatVector vp = FloatVector.broadcast(S, wp);
            FloatVector vm = FloatVector.broadcast(S, wm);
            a0 = va.fma(FloatVector.fromArray(S, p, ia), a0);
            a1 = va.fma(FloatVector.fromArray(S, p, ia + d1), a1);
            p0 = vp.fma(FloatVector.fromArray(S, p, ip), p0);
            p1 = vp.fma(FloatVector.fromArray(S, p, ip + d1), p1);
            m0 = vm.fma(FloatVector.fromArray(S, p, im), m0);
            m1 = vm.fma(FloatVector.fromArray(S, p, im + d1), m1);
        }
        FloatVector x0 = FloatVector.fromArray(S, x, o);
        FloatVector x1 = FloatVector.fromArray(S, x, o + d1);
        FloatVector l0 = FloatVector.fromArray(S, low, e);
        FloatVector l1 = FloatVector.fromArray(S, low, e + d1);
        FloatVector h0 = FloatVector.fromArray(S, high, e);
        FloatVector h1 = FloatVector.fromArray(S, high, e + d1);
        x0.mul(a0).sub(l0.mul(p0)).sub(h0.mul(m0)).intoArray(r, o);
        x1.mul(a1).sub(l1.mul(p1)).sub(h1.mul(m1)).intoArray(r, o + d1);
    }

    /**
     * The taps reaching input row y of channel ci, in {@link #rowTaps}' order, as offsets into the -0 copy
     * (row width {@code rw}; relative to the vector's first column plus the left padding and padW) and weight
     * indices.
     */
    private static void paddedTaps(ConvGeometry g, int ci, int y, int rw, int[][] goff, int[][] woff, int k) {
        int cg = g.inChannels() / g.groups();
        int size = g.outChannels() / g.groups() * g.kernelH() * g.kernelW();
        int[] go = new int[size];
        int[] wo = new int[size];
        int n = rowTaps(g, ci / cg, ci % cg, y, go, wo, new float[size], new float[size]);
        int kw = g.kernelW();
        int ow = g.outW();
        for (int t = 0; t < n; t++) {
            // rowTaps' offset is (oc oh + th) ow - j dw, with kernel column j = woff % kw
            int jd = wo[t] % kw * g.dilationW();
            go[t] = (go[t] + jd) / ow * rw - jd;
        }
        goff[k] = java.util.Arrays.copyOf(go, n);
        woff[k] = java.util.Arrays.copyOf(wo, n);
    }

    /**
     * Four vectors, each reading the padded copies from {@code base + read[q]} and writing from {@code o + write[q]}
     * (columns of one row, or the same row of other samples): four independent chains in one loop over the row's
     * taps.
     */
    private static void paddedRow(float[] p, int copy, float[] w, float[] x, float[] r, int base, int[] read, int o,
                                  int[] write, int[] goff, int[] woff) {
        int d1 = read[1] - read[0];
        int d2 = read[2] - read[0];
        int d3 = read[3] - read[0];
        int b0 = base + read[0];
        FloatVector c0 = FloatVector.zero(S);
        FloatVector c1 = FloatVector.zero(S);
        FloatVector c2 = FloatVector.zero(S);
        FloatVector c3 = FloatVector.zero(S);
        for (int t = 0; t < goff.length; t++) {
            float ww = w[woff[t]];
            FloatVector wv = FloatVector.broadcast(S, ww);
            int gi = b0 + goff[t] + ((Float.floatToRawIntBits(ww) >> 31) & copy);
            c0 = wv.fma(FloatVector.fromArray(S, p, gi), c0);
            c1 = wv.fma(FloatVector.fromArray(S, p, gi + d1), c1);
            c2 = wv.fma(FloatVector.fromArray(S, p, gi + d2), c2);
            c3 = wv.fma(FloatVector.fromArray(S, p, gi + d3), c3);
        }
        int o0 = o + write[0];
        int o1 = o + write[1];
        int o2 = o + write[2];
        int o3 = o + write[3];
        if (x != null) {
            c0 = FloatVector.fromArray(S, x, o0).mul(c0);
            c1 = FloatVector.fromArray(S, x, o1).mul(c1);
            c2 = FloatVector.fromArray(S, x, o2).mul(c2);
            c3 = FloatVector.fromArray(S, x, o3).mul(c3);
        }
        c0.intoArray(r, o0);
        c1.intoArray(r, o1);
        c2.intoArray(r, o2);
        c3.intoArray(r, o3);
    }

    /**
     * Tap tables of every (input channel, row), shared by all samples: relevance offsets relative to the column,
     * weight offsets, each tap's column range {@code [lo, hi)}, and the lowest and highest relevance offset (whether
     * a vector's loads stay in the array).
     */
    private static final class Tables {
        final int[][] goff;
        final int[][] woff;
        final float[][] lo;
        final float[][] hi;
        final int[] nt;
        final int[][] span;

        Tables(ConvGeometry g) {
            int cg = g.inChannels() / g.groups();
            int size = g.outChannels() / g.groups() * g.kernelH() * g.kernelW();
            int count = g.inChannels() * g.inH();
            goff = new int[count][size];
            woff = new int[count][size];
            lo = new float[count][size];
            hi = new float[count][size];
            nt = new int[count];
            span = new int[count][2];
            for (int ci = 0; ci < g.inChannels(); ci++) {
                for (int y = 0; y < g.inH(); y++) {
                    int k = ci * g.inH() + y;
                    nt[k] = rowTaps(g, ci / cg, ci % cg, y, goff[k], woff[k], lo[k], hi[k]);
                    for (int t = 0; t < nt[k]; t++) {
                        span[k][0] = Math.min(span[k][0], goff[k][t]);
                        span[k][1] = Math.max(span[k][1], goff[k][t]);
                    }
                }
            }
        }
    }

    /**
     * ZBox backprojection in {@link #backward}'s layout: the chains {@code c0, cp, cm} of {@code w, wpos, wneg}
     * against g, then {@code r = (x c0 - low cp) - high cm}, each op rounded; border vectors blend per tap.
     */
    static void backwardZBox(float[] gr, float[] w, float[] wpos, float[] wneg, float[] x, float[] low,
                             float[] high, float[] r, int r0, int r1, ConvGeometry g) {
        if (mostlyBorders(g) && Padding.finite(w) && Padding.finite(wpos) && Padding.finite(wneg)) {
            backwardZBoxPadded(gr, w, wpos, wneg, x, low, high, r, r0, r1, g);
            return;
        }
        int plane = g.inH() * g.inW();
        int wi = g.inW();
        Tables tb = new Tables(g);
        FloatVector iota = FloatVector.fromArray(S, IOTA, 0);
        float[] c3 = new float[3];
        for (int b = r0; b < r1; b++) {
            int go = b * g.outSize();
            int ro = b * g.inSize();
            for (int ci = 0; ci < g.inChannels(); ci++) {
                for (int y = 0; y < g.inH(); y++) {
                    int k = ci * g.inH() + y;
                    int e0 = ci * plane + y * wi;
                    for (int c = 0; c < wi; c += L) {
                        int c0 = Math.min(c, wi - L);
                        int gb = go + c0 + g.padW();
                        boolean inner = interior(c0, g);
                        if (inner || gb + tb.span[k][0] >= 0 && gb + tb.span[k][1] + L <= gr.length) {
                            zbox(gr, w, wpos, wneg, x, low, high, r, gb, ro + e0 + c0, e0 + c0, tb.goff[k],
                                    tb.woff[k], tb.lo[k], tb.hi[k], tb.nt[k], iota.add((float) c0), !inner);
                        } else {
                            for (int q = c0; q < c0 + L; q++) {
                                ScalarConv.backZBox(gr, go, w, wpos, wneg, g, ci, y, q, c3);
                                int o = ro + e0 + q;
                                r[o] = ScalarConv.zboxR(x[o], low[e0 + q], high[e0 + q], c3[0], c3[1], c3[2]);
                            }
                        }
                    }
                }
            }
        }
    }

    /** One vector of ZBox chains; {@code masked}: per-tap blends on the column ranges, else every lane every tap. */
    private static void zbox(float[] gr, float[] w, float[] wpos, float[] wneg, float[] x, float[] low,
                             float[] high, float[] r, int gb, int o, int e, int[] goff, int[] woff, float[] lo,
                             float[] hi, int nt, FloatVector col, boolean masked) {
        FloatVector c0 = FloatVector.zero(S);
        FloatVector cp = FloatVector.zero(S);
        FloatVector cm = FloatVector.zero(S);
        if (masked) {
            for (int t = 0; t < nt; t++) {
                VectorMask<Float> ge = col.compare(VectorOperators.GE, lo[t]);
                VectorMask<Float> lt = col.compare(VectorOperators.LT, hi[t]);
                FloatVector gv = FloatVector.fromArray(S, gr, gb + goff[t]);
                int wo = woff[t];
                FloatVector a0 = FloatVector.broadcast(S, w[wo]).fma(gv, c0);
                FloatVector ap = FloatVector.broadcast(S, wpos[wo]).fma(gv, cp);
                FloatVector am = FloatVector.broadcast(S, wneg[wo]).fma(gv, cm);
                c0 = c0.blend(c0.blend(a0, ge), lt);
                cp = cp.blend(cp.blend(ap, ge), lt);
                cm = cm.blend(cm.blend(am, ge), lt);
            }
        } else {
            for (int t = 0; t < nt; t++) {
                FloatVector gv = FloatVector.fromArray(S, gr, gb + goff[t]);
                int wo = woff[t];
                c0 = FloatVector.broadcast(S, w[wo]).fma(gv, c0);
                cp = FloatVector.broadcast(S, wpos[wo]).fma(gv, cp);
                cm = FloatVector.broadcast(S, wneg[wo]).fma(gv, cm);
            }
        }
        FloatVector xv = FloatVector.fromArray(S, x, o);
        FloatVector lv = FloatVector.fromArray(S, low, e);
        FloatVector hv = FloatVector.fromArray(S, high, e);
        xv.mul(c0).sub(lv.mul(cp)).sub(hv.mul(cm)).intoArray(r, o);
    }

    /**
     * Taps reaching input row y for channel cl of group grp: g offsets relative to the column, weight offsets, and
     * the columns {@code [lo, hi)} for which the tap's kernel column lands on an output column.
     */
    private static int rowTaps(ConvGeometry g, int grp, int cl, int y, int[] goff, int[] woff, float[] lo,
                               float[] hi) {
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
                    lo[n] = j * g.dilationW() - g.padW();
                    hi[n] = ow + j * g.dilationW() - g.padW();
                    n++;
                }
            }
        }
        return n;
    }

    /**
     * Border vectors: each tap's fma result is kept only in the lanes whose column {@code col} lies in
     * {@code [lo, hi)} (the tap reaches an output), two blends on two compares; elsewhere the accumulator stays as
     * it was. The loads are whole vectors (the caller checked they stay in the array); lanes that read values of
     * a neighbouring row or channel are the ones the blends drop.
     */
    private static void plainMasked(float[] hp, float[] w, float[] x, float[] r, int gb, int o, int[] goff,
                                    int[] woff, float[] lo, float[] hi, int nt, FloatVector col) {
        FloatVector c = FloatVector.zero(S);
        for (int t = 0; t < nt; t++) {
            FloatVector a = FloatVector.broadcast(S, w[woff[t]]).fma(FloatVector.fromArray(S, hp, gb + goff[t]), c);
            c = c.blend(c.blend(a, col.compare(VectorOperators.GE, lo[t])), col.compare(VectorOperators.LT, hi[t]));
        }
        if (x == null) {
            c.intoArray(r, o);
        } else {
            FloatVector.fromArray(S, x, o).mul(c).intoArray(r, o);
        }
    }

    private static void signedMasked(float[] hp, float[] hn, float[] u, float[] v, float[] x, float[] r, int gb,
                                     int o, int[] goff, int[] woff, float[] lo, float[] hi, int nt,
                                     FloatVector col) {
        FloatVector c1 = FloatVector.zero(S);
        FloatVector c2 = FloatVector.zero(S);
        for (int t = 0; t < nt; t++) {
            VectorMask<Float> ge = col.compare(VectorOperators.GE, lo[t]);
            VectorMask<Float> lt = col.compare(VectorOperators.LT, hi[t]);
            FloatVector gp = FloatVector.fromArray(S, hp, gb + goff[t]);
            FloatVector uu = FloatVector.broadcast(S, u[woff[t]]);
            FloatVector vv = FloatVector.broadcast(S, v[woff[t]]);
            FloatVector a1 = uu.fma(gp, c1);
            FloatVector a2 = vv.fma(gp, c2);
            if (hn != null) {
                FloatVector gn = FloatVector.fromArray(S, hn, gb + goff[t]);
                a1 = vv.fma(gn, a1);
                a2 = uu.fma(gn, a2);
            }
            c1 = c1.blend(c1.blend(a1, ge), lt);
            c2 = c2.blend(c2.blend(a2, ge), lt);
        }
        FloatVector xv = FloatVector.fromArray(S, x, o);
        xv.mul(c2.blend(c1, xv.compare(VectorOperators.GT, 0f))).intoArray(r, o);
    }

    /** Four consecutive interior vectors of a row, plain map, as {@link #plain} four times. */
    private static void plain4(float[] hp, float[] w, float[] x, float[] r, int gb, int o, int[] goff, int[] woff,
                               int nt) {
        FloatVector c0 = FloatVector.zero(S);
        FloatVector c1 = FloatVector.zero(S);
        FloatVector c2 = FloatVector.zero(S);
        FloatVector c3 = FloatVector.zero(S);
        for (int t = 0; t < nt; t++) {
            FloatVector wv = FloatVector.broadcast(S, w[woff[t]]);
            int gi = gb + goff[t];
            c0 = wv.fma(FloatVector.fromArray(S, hp, gi), c0);
            c1 = wv.fma(FloatVector.fromArray(S, hp, gi + L), c1);
            c2 = wv.fma(FloatVector.fromArray(S, hp, gi + 2 * L), c2);
            c3 = wv.fma(FloatVector.fromArray(S, hp, gi + 3 * L), c3);
        }
        if (x == null) {
            c0.intoArray(r, o);
            c1.intoArray(r, o + L);
            c2.intoArray(r, o + 2 * L);
            c3.intoArray(r, o + 3 * L);
        } else {
            FloatVector.fromArray(S, x, o).mul(c0).intoArray(r, o);
            FloatVector.fromArray(S, x, o + L).mul(c1).intoArray(r, o + L);
            FloatVector.fromArray(S, x, o + 2 * L).mul(c2).intoArray(r, o + 2 * L);
            FloatVector.fromArray(S, x, o + 3 * L).mul(c3).intoArray(r, o + 3 * L);
        }
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
