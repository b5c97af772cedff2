package org.gpulrp.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.gpulrp.model.ConvGeometry;

/**
 * Convolution kernels with the vector lanes over channels: the forward map keeps L output channels of one output
 * pixel per accumulator, the backprojection L input channels of one input pixel, four pixels at a time. The weights
 * are read in packed layouts where a tap's L channels are contiguous, made once per weight array and kept while the
 * array is unchanged ({@link Packs}). Every output is still one fma chain in the contract's order, (input channel,
 * kernel row, kernel column) forward and (output channel, kernel row, kernel column) backward, with taps in the
 * padding skipped. Used where a group's channel count is a multiple of L.
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

    /** The forward layout of {@code w}, packed once while {@code w} is unchanged ({@link Packs}). */
    private static float[] forwardLayout(float[] w, ConvGeometry g) {
        return Packs.get(w, java.util.List.of("channel-forward", g), () -> packForward(w, g));
    }

    /** The backprojection layout of {@code w}, packed once while {@code w} is unchanged ({@link Packs}). */
    private static float[] backwardLayout(float[] w, ConvGeometry g) {
        return Packs.get(w, java.util.List.of("channel-backward", g), () -> packBackward(w, g));
    }

    /**
     * The K-blocked kernels' forward layout: {@code [group][block of 4L output channels][tap][4L]}, each block's taps
     * contiguous (the plain layout strides a block's taps by all the group's channels: 2 KiB apart at 512 channels,
     * which the prefetcher and the TLB followed poorly). Whole blocks only.
     */
    private static float[] forwardLayout4(float[] w, ConvGeometry g) {
        return Packs.get(w, java.util.List.of("channel-forward-4", g), () -> blocks4(forwardLayout(w, g),
                g.groups(), g.inChannels() / g.groups() * g.kernelH() * g.kernelW(), g.outChannels() / g.groups()));
    }

    /** As {@link #forwardLayout4} for the backprojection: {@code [group][block of 4L input channels][tap][4L]}. */
    private static float[] backwardLayout4(float[] w, ConvGeometry g) {
        return Packs.get(w, java.util.List.of("channel-backward-4", g), () -> blocks4(backwardLayout(w, g),
                g.groups(), g.outChannels() / g.groups() * g.kernelH() * g.kernelW(), g.inChannels() / g.groups()));
    }

    /** {@code p[group][tap][channels]} to {@code [group][channels / 4L][tap][4L]} (whole blocks). */
    private static float[] blocks4(float[] p, int groups, int taps, int channels) {
        int nb = channels / (4 * L);
        float[] r = new float[groups * nb * taps * 4 * L];
        for (int grp = 0; grp < groups; grp++) {
            for (int blk = 0; blk < nb; blk++) {
                for (int t = 0; t < taps; t++) {
                    System.arraycopy(p, (grp * taps + t) * channels + blk * 4 * L, r,
                            ((grp * nb + blk) * taps + t) * 4 * L, 4 * L);
                }
            }
        }
        return r;
    }

    /**
     * The offset to add to a {@link RowTables#w4} entry of group {@code grp} to address channel block {@code c0}
     * (a multiple of 4L) in a {@link #blocks4} layout.
     */
    private static int block4Base(int grp, int c0, int taps, int channels) {
        int nb = channels / (4 * L);
        return (grp * (nb - 1) + c0 / (4 * L)) * taps * 4 * L;
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
        float[] up = forwardLayout(u, g);
        float[] vp = v == null ? null : forwardLayout(v, g);
        int og = g.outChannels() / g.groups();
        int oh = g.outH();
        int ow = g.outW();
        int plane2 = oh * ow;
        boolean[] tile = tiles(ow, xq -> interiorForward(xq, g));
        RowTables tt = RowTables.of(g, oh, ow, tile, true);
        float[] tp = new float[16 * L];
        float[] tn = new float[4 * L];
        Cols cols = Cols.of(ow, xq -> interiorForward(xq, g));
        float[] acc = tt.size > KC ? new float[blockRows(ow) * cols.rowFloats()] : null;
        float[] up4 = acc != null && vp == null ? forwardLayout4(u, g) : null;
        // Samples in chunks whose inputs stay in cache, channel blocks inside: a block's weight panel is read once
        // per chunk of samples, and a sample's input once per block.
        int chunk = chunkRows(g.inSize());
        for (int b0 = r0; b0 < r1; b0 += chunk) {
            for (int grp = 0; grp < g.groups(); grp++) {
                int width;
                for (int ob = 0; ob < og; ob += width) {
                    width = vp == null ? plainWidth(og - ob) : L;
                    int oc0 = grp * og + ob;
                    for (int b = b0; b < Math.min(r1, b0 + chunk); b++) {
                        int xo = b * g.inSize();
                        int zo = b * g.outSize();
                        if (vp == null && width == 4 * L && tt.size > KC) {
                            forwardBlocked(x, up4, outP, biasP, xo, zo, grp, ob, oc0, g, tt, cols, acc);
                            continue;
                        }
                        for (int y = 0; y < oh; y++) {
                            int k = grp * oh + y;
                            int[] xoff = tt.off[k];
                            int[] woff = tt.w[k];
                            int nt = tt.n[k];
                            int base = zo + oc0 * plane2 + y * ow;
                            for (int xq = 0; xq < ow; xq++) {
                                int xb = xo + xq * g.strideW() - g.padW();
                                if (tile[xq]) {
                                    xb += tt.shift[k];
                                    if (width == 4 * L) {
                                        java.util.Arrays.fill(tp, 0f);
                                        plain4x4(x, up, xb, g.strideW(), xoff, woff, 0, nt, ob, tp, 0, 4 * L, L);
                                    } else if (width == 2 * L) {
                                        plain4x2(x, up, xb, g.strideW(), xoff, woff, nt, ob, tp);
                                    } else if (vp == null) {
                                        plain4(x, up, xb, g.strideW(), xoff, woff, nt, ob, tp);
                                    } else {
                                        forwardSigned4(x, up, vp, xb, g.strideW(), xoff, woff, nt, ob, tp, tn);
                                    }
                                    // tile q holds pixel q % 4 of channel vector q / 4
                                    for (int h = 0; h < width / L; h++) {
                                        write4(tp, 4 * h * L, outP, base + xq + h * L * plane2, plane2, oc0 + h * L,
                                                biasP);
                                    }
                                    if (vp != null && outN != null) {
                                        write4(tn, 0, outN, base + xq, plane2, oc0, biasN);
                                    }
                                    xq += 3;
                                    continue;
                                }
                                // A pixel in no tile, through its own table.
                                int[] sx = tt.soff[k][xq];
                                int[] sw = tt.sw[k][xq];
                                int sn = tt.sn[k][xq];
                                xb += tt.sshift[k][xq];
                                int o = base + xq;
                                if (vp == null) {
                                    if (width == 4 * L) {
                                        java.util.Arrays.fill(tp, 0, 4 * L, 0f);
                                        plain1x4(x, up, xb, sx, sw, 0, sn, ob, tp, 0);
                                    } else if (width == 2 * L) {
                                        plain1x2(x, up, xb, sx, sw, sn, ob, tp);
                                    } else {
                                        plain1(x, up, xb, sx, sw, sn, ob, tp);
                                    }
                                    for (int h = 0; h < width / L; h++) {
                                        write(tp, h * L, outP, o + h * L * plane2, plane2, oc0 + h * L, biasP);
                                    }
                                } else {
                                    forwardSigned1(x, up, vp, xb, sx, sw, sn, ob, tp, tn);
                                    write(tp, outP, o, plane2, oc0, biasP);
                                    if (outN != null) {
                                        write(tn, outN, o, plane2, oc0, biasN);
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /**
     * Channels per block of the plain maps: four vectors (16 accumulators per four-pixel tile) where the registers
     * allow it (32 vector registers with 512-bit vectors), else two, else one.
     */
    private static int plainWidth(int left) {
        if (WIDE && left >= 4 * L) {
            return 4 * L;
        }
        return left >= 2 * L ? 2 * L : L;
    }

    private static final boolean WIDE = S.vectorBitSize() >= 512;

    /**
     * Taps per block of the K-blocked four-vector kernels: a block's weight panel ({@code KC} taps x 4 vectors,
     * 128 KiB) stays in L2 while every tile of a block of rows runs through it. Chains are split at the same table
     * index for every tile and continued from the stored accumulators, so the bits do not change.
     */
    private static final int KC = 512;

    /**
     * Rows per block of the K-blocked kernels: about 128 pixels, so the block's accumulators stay in cache, and a
     * multiple of four, so single columns can run as vertical tiles.
     */
    private static int blockRows(int width) {
        return Math.max(4, 128 / width / 4 * 4);
    }

    /** Whether table rows {@code k .. k+count-1} all have every tap (no kernel row in the padding). */
    private static boolean full(RowTables tt, int k, int count) {
        for (int i = 0; i < count; i++) {
            if (tt.n[k + i] != tt.size) {
                return false;
            }
        }
        return true;
    }

    /**
     * Where the K-blocked kernels run four-pixel tiles in a row: starts every four pixels over the interior run, the
     * last one moved left to end at the run's end (it may overlap the one before; an overlapped pixel is computed
     * twice with the same chain, so both writes agree). The pixels outside the run go one at a time.
     */
    private record Cols(int[] tiles, int[] singles) {
        static Cols of(int width, java.util.function.IntPredicate interior) {
            int lo = 0;
            while (lo < width && !interior.test(lo)) {
                lo++;
            }
            int hi = lo;
            while (hi < width && interior.test(hi)) {
                hi++;
            }
            int run = hi - lo;
            int n = run >= 4 ? (run + 3) / 4 : 0;
            int[] tiles = new int[n];
            for (int t = 0; t < n; t++) {
                tiles[t] = Math.min(lo + 4 * t, hi - 4);
            }
            int[] singles = new int[width - (n > 0 ? run : 0)];
            int m = 0;
            for (int q = 0; q < width; q++) {
                if (n == 0 || q < lo || q >= hi) {
                    singles[m++] = q;
                }
            }
            return new Cols(tiles, singles);
        }

        /** Accumulator floats per row: 16 vectors per tile, 4 per single pixel. */
        int rowFloats() {
            return (tiles.length * 16 + singles.length * 4) * L;
        }
    }

    /**
     * The plain four-vector forward map of one sample and channel block, K-blocked (without it a 512-channel layer's
     * 1.2 MB weight panel streamed from L3 once per tile): for each block of rows, every tap block runs over all its
     * tiles and single pixels, continuing their chains from the stored accumulators.
     */
    private static void forwardBlocked(float[] x, float[] up, float[] out, float[] bias, int xo, int zo, int grp,
                                       int ob, int oc0, ConvGeometry g, RowTables tt, Cols cols, float[] acc) {
        int oh = g.outH();
        int ow = g.outW();
        int plane2 = oh * ow;
        int sw = g.strideW();
        int rf = cols.rowFloats();
        int[] tiles = cols.tiles();
        int[] singles = cols.singles();
        int rb = blockRows(ow);
        int wb = block4Base(grp, ob, tt.size, g.outChannels() / g.groups());
        for (int y0 = 0; y0 < oh; y0 += rb) {
            int y1 = Math.min(oh, y0 + rb);
            java.util.Arrays.fill(acc, 0, (y1 - y0) * rf, 0f);
            for (int t0 = 0; t0 < tt.size; t0 += KC) {
                for (int y = y0; y < y1; y++) {
                    int k = grp * oh + y;
                    int t1 = Math.min(tt.n[k], t0 + KC);
                    int ao = (y - y0) * rf;
                    for (int j = 0; j < tiles.length && t0 < t1; j++) {
                        plain4x4(x, up, xo + tiles[j] * sw - g.padW() + tt.shift[k], sw, tt.off[k], tt.w4[k], t0,
                                t1, wb, acc,
                                ao + j * 16 * L, 4 * L, L);
                    }
                }
                // Single columns: four full rows at a time as a vertical tile (their tables are the same taps shifted
                // by strideH input rows), the rest one pixel at a time.
                int so = tiles.length * 16 * L;
                for (int j = 0; j < singles.length; j++) {
                    int xq = singles[j];
                    for (int y = y0; y < y1; y++) {
                        int k = grp * oh + y;
                        int xb = xo + xq * sw - g.padW() + tt.sshift[k][xq];
                        int u1 = Math.min(tt.sn[k][xq], t0 + KC);
                        int ao = (y - y0) * rf + so + j * 4 * L;
                        if (y + 3 < y1 && full(tt, k, 4)) {
                            if (t0 < u1) {
                                plain4x4(x, up, xb, g.strideH() * g.inW(), tt.soff[k][xq], tt.sw4[k][xq], t0, u1, wb,
                                        acc, ao, L, rf);
                            }
                            y += 3;
                        } else if (t0 < u1) {
                            plain1x4(x, up, xb, tt.soff[k][xq], tt.sw4[k][xq], t0, u1, wb, acc, ao);
                        }
                    }
                }
            }
            for (int y = y0; y < y1; y++) {
                int base = zo + oc0 * plane2 + y * ow;
                int ao = (y - y0) * rf;
                for (int j = 0; j < tiles.length; j++) {
                    for (int h = 0; h < 4; h++) {
                        write4(acc, ao + j * 16 * L + 4 * h * L, out, base + tiles[j] + h * L * plane2, plane2,
                                oc0 + h * L, bias);
                    }
                }
                int so = ao + tiles.length * 16 * L;
                for (int j = 0; j < singles.length; j++) {
                    for (int h = 0; h < 4; h++) {
                        write(acc, so + j * 4 * L + h * L, out, base + singles[j] + h * L * plane2, plane2,
                                oc0 + h * L, bias);
                    }
                }
            }
        }
    }

    /** The plain four-vector backprojection of one sample and channel block, K-blocked as {@link #forwardBlocked}. */
    private static void backwardBlocked(float[] hp, float[] ub, float[] x, float[] r, int go, int ro, int grp,
                                        int cb, ConvGeometry g, RowTables tt, Cols cols, float[] acc) {
        int cg = g.inChannels() / g.groups();
        int hi = g.inH();
        int wi = g.inW();
        int plane = hi * wi;
        int rf = cols.rowFloats();
        int[] tiles = cols.tiles();
        int[] singles = cols.singles();
        int rb = blockRows(wi);
        int wb = block4Base(grp, cb, tt.size, cg);
        for (int y0 = 0; y0 < hi; y0 += rb) {
            int y1 = Math.min(hi, y0 + rb);
            java.util.Arrays.fill(acc, 0, (y1 - y0) * rf, 0f);
            for (int t0 = 0; t0 < tt.size; t0 += KC) {
                for (int y = y0; y < y1; y++) {
                    int k = grp * hi + y;
                    int t1 = Math.min(tt.n[k], t0 + KC);
                    int ao = (y - y0) * rf;
                    for (int j = 0; j < tiles.length && t0 < t1; j++) {
                        plain4x4(hp, ub, go + tiles[j] + g.padW() + tt.shift[k], 1, tt.off[k], tt.w4[k], t0, t1,
                                wb, acc,
                                ao + j * 16 * L, 4 * L, L);
                    }
                }
                // Single columns: with stride 1, four full rows at a time as a vertical tile (their tables are the
                // same taps shifted by one output row), the rest one pixel at a time.
                int so = tiles.length * 16 * L;
                for (int j = 0; j < singles.length; j++) {
                    int xq = singles[j];
                    for (int y = y0; y < y1; y++) {
                        int k = grp * hi + y;
                        int u1 = Math.min(tt.sn[k][xq], t0 + KC);
                        int ao = (y - y0) * rf + so + j * 4 * L;
                        if (g.strideH() == 1 && y + 3 < y1 && full(tt, k, 4)) {
                            if (t0 < u1) {
                                plain4x4(hp, ub, go + tt.sshift[k][xq], g.outW(), tt.soff[k][xq], tt.sw4[k][xq], t0,
                                        u1, wb, acc, ao, L, rf);
                            }
                            y += 3;
                        } else if (t0 < u1) {
                            plain1x4(hp, ub, go + tt.sshift[k][xq], tt.soff[k][xq], tt.sw4[k][xq], t0, u1, wb, acc,
                                    ao);
                        }
                    }
                }
            }
            for (int y = y0; y < y1; y++) {
                int base = ro + (grp * cg + cb) * plane + y * wi;
                int ao = (y - y0) * rf;
                for (int j = 0; j < tiles.length; j++) {
                    for (int h = 0; h < 4; h++) {
                        product4(acc, ao + j * 16 * L + 4 * h * L, x, r, base + tiles[j] + h * L * plane, plane);
                    }
                }
                int so = ao + tiles.length * 16 * L;
                for (int j = 0; j < singles.length; j++) {
                    for (int h = 0; h < 4; h++) {
                        product(acc, so + j * 4 * L + h * L, x, r, base + singles[j] + h * L * plane, plane);
                    }
                }
            }
        }
    }

    /** Samples per chunk: as many as keep about 256 KiB of one sample's {@code perRow} floats each in cache. */
    private static int chunkRows(int perRow) {
        return Math.max(1, (1 << 16) / Math.max(1, perRow));
    }

    /**
     * Which pixels of a row start a four-pixel tile (all four interior), scanning left to right; the pixels in no
     * tile run one at a time.
     */
    private static boolean[] tiles(int width, java.util.function.IntPredicate interior) {
        boolean[] t = new boolean[width];
        for (int q = 0; q < width; q++) {
            if (q + 3 < width && interior.test(q) && interior.test(q + 3)) {
                t[q] = true;
                q += 3;
            }
        }
        return t;
    }

    /**
     * The tap tables of every (group, row), {@link #forwardTaps} or {@link #backwardTaps}: one shared by the row's
     * tiles and one per pixel in no tile. They do not depend on the sample, so each call builds them once (building
     * them per sample and row took a seventh of a small CNN's time).
     */
    private static final class RowTables {
        final int[][] off;
        final int[][] w;
        final int[] n;
        /** Taps of a full (interior) table: the longest any row has. */
        final int size;
        /**
         * Offsets to add to a row's (or single pixel's) base position: rows whose tables are the same taps shifted
         * share one table array (most rows of an image), which keeps the cached tables small.
         */
        final int[] shift;
        final int[][] sshift;
        /**
         * The weight offsets of {@link #w} and {@link #sw} for the K-blocked kernels' layout, where each block of
         * four channel vectors has its taps contiguous ({@code tap * 4L} instead of {@code tap * channels}).
         */
        final int[][] w4;
        final int[][][] sw4;
        final int[][][] soff;
        final int[][][] sw;
        final int[][] sn;

        /** Built tables by (geometry, direction), least recently used first; at most {@link #CACHE_INTS} ints. */
        private static final java.util.LinkedHashMap<Object, RowTables> CACHE = new java.util.LinkedHashMap<>(16,
                0.75f, true);
        private static final long CACHE_INTS = 16L << 20;
        private static long cachedInts;

        /**
         * The tables of a geometry and direction, built once and shared (they are read-only and depend on nothing
         * else: {@code tile} follows from the geometry); building them took 5-10% of a VGG-16 call.
         */
        static RowTables of(ConvGeometry g, int rows, int width, boolean[] tile, boolean fwd) {
            Object key = java.util.List.of(g, fwd);
            synchronized (CACHE) {
                RowTables t = CACHE.get(key);
                if (t != null) {
                    return t;
                }
            }
            RowTables t = new RowTables(g, rows, width, tile, fwd);
            synchronized (CACHE) {
                if (CACHE.putIfAbsent(key, t) == null) {
                    cachedInts += t.ints;
                    var it = CACHE.values().iterator();
                    while (cachedInts > CACHE_INTS && CACHE.size() > 1) {
                        cachedInts -= it.next().ints;
                        it.remove();
                    }
                }
            }
            return t;
        }

        /**
         * Whether the table {@code (to, tw, nt)} is the stored table {@code (po, pw, pn)} with every input offset
         * moved by the same amount (which becomes the row's shift).
         */
        private static boolean sameShifted(int[] po, int[] pw, int pn, int[] to, int[] tw, int nt) {
            if (po == null || pn != nt) {
                return false;
            }
            if (nt == 0) {
                return true;
            }
            int d = to[0] - po[0];
            for (int t = 0; t < nt; t++) {
                if (to[t] - po[t] != d || tw[t] != pw[t]) {
                    return false;
                }
            }
            return true;
        }

        /** Offsets {@code tap * stride} as {@code tap * 4L}. */
        private static int[] rescale(int[] a, int stride) {
            int[] r = new int[a.length];
            for (int t = 0; t < a.length; t++) {
                r[t] = a[t] / stride * 4 * L;
            }
            return r;
        }

        /** Ints held, for the cache bound. */
        final long ints;

        private RowTables(ConvGeometry g, int rows, int width, boolean[] tile, boolean fwd) {
            int size = fwd ? g.inChannels() / g.groups() * g.kernelH() * g.kernelW()
                    : g.outChannels() / g.groups() * g.kernelH() * g.kernelW();
            int count = g.groups() * rows;
            this.size = size;
            off = new int[count][];
            w = new int[count][];
            n = new int[count];
            shift = new int[count];
            soff = new int[count][width][];
            sw = new int[count][width][];
            sn = new int[count][width];
            sshift = new int[count][width];
            long held = 0;
            int[] to = new int[size];
            int[] tw = new int[size];
            for (int grp = 0; grp < g.groups(); grp++) {
                for (int y = 0; y < rows; y++) {
                    int k = grp * rows + y;
                    int nt = fwd ? forwardTaps(g, grp, y, -1, to, tw) : backwardTaps(g, grp, y, -1, to, tw);
                    n[k] = nt;
                    if (y > 0 && sameShifted(off[k - 1], w[k - 1], n[k - 1], to, tw, nt)) {
                        off[k] = off[k - 1];
                        w[k] = w[k - 1];
                        shift[k] = nt == 0 ? 0 : to[0] - off[k - 1][0];
                    } else {
                        off[k] = java.util.Arrays.copyOf(to, nt);
                        w[k] = java.util.Arrays.copyOf(tw, nt);
                        held += 2L * nt;
                    }
                    for (int q = 0; q < width; q++) {
                        if (tile[q]) {
                            q += 3;
                            continue;
                        }
                        int sn1 = fwd ? forwardTaps(g, grp, y, q, to, tw) : backwardTaps(g, grp, y, q, to, tw);
                        sn[k][q] = sn1;
                        if (y > 0 && sameShifted(soff[k - 1][q], sw[k - 1][q], sn[k - 1][q], to, tw, sn1)) {
                            soff[k][q] = soff[k - 1][q];
                            sw[k][q] = sw[k - 1][q];
                            sshift[k][q] = sn1 == 0 ? 0 : to[0] - soff[k - 1][q][0];
                        } else {
                            soff[k][q] = java.util.Arrays.copyOf(to, sn1);
                            sw[k][q] = java.util.Arrays.copyOf(tw, sn1);
                            held += 2L * sn1;
                        }
                    }
                }
            }
            int stride = fwd ? g.outChannels() / g.groups() : g.inChannels() / g.groups();
            w4 = new int[count][];
            sw4 = new int[count][width][];
            java.util.IdentityHashMap<int[], int[]> done = new java.util.IdentityHashMap<>();
            for (int k = 0; k < count; k++) {
                w4[k] = done.computeIfAbsent(w[k], a -> rescale(a, stride));
                for (int q = 0; q < width; q++) {
                    if (sw[k][q] != null) {
                        sw4[k][q] = done.computeIfAbsent(sw[k][q], a -> rescale(a, stride));
                    }
                }
            }
            this.ints = 2 * held;
        }
    }

    /**
     * Backprojection: the plain map ({@code v == null}: {@code c = chain(u, hp)}, {@code r = x == null ? c : x c})
     * or the sign-split one ({@code c1 = u hp [+ v hn]}, {@code c2 = v hp [+ u hn]}, {@code r = x (x > 0 ? c1 : c2)}).
     */
    static void backward(float[] hp, float[] hn, float[] u, float[] v, float[] x, float[] r, int r0, int r1,
                         ConvGeometry g) {
        float[] ub = backwardLayout(u, g);
        float[] vb = v == null ? null : backwardLayout(v, g);
        int cg = g.inChannels() / g.groups();
        int wi = g.inW();
        int hi = g.inH();
        int plane = hi * wi;
        boolean[] tile = tiles(wi, xq -> interiorBackward(xq, g));
        RowTables tt = RowTables.of(g, hi, wi, tile, false);
        float[] t1 = new float[16 * L];
        float[] t2 = new float[4 * L];
        Cols cols = Cols.of(wi, xq -> interiorBackward(xq, g));
        float[] acc = tt.size > KC ? new float[blockRows(wi) * cols.rowFloats()] : null;
        float[] ub4 = acc != null && vb == null ? backwardLayout4(u, g) : null;
        int chunk = chunkRows(g.outSize() * (hn == null ? 1 : 2));
        for (int b0 = r0; b0 < r1; b0 += chunk) {
            for (int grp = 0; grp < g.groups(); grp++) {
                int width;
                for (int cb = 0; cb < cg; cb += width) {
                    width = vb == null ? plainWidth(cg - cb) : L;
                    for (int b = b0; b < Math.min(r1, b0 + chunk); b++) {
                        int go = b * g.outSize();
                        int ro = b * g.inSize();
                        if (vb == null && width == 4 * L && tt.size > KC) {
                            backwardBlocked(hp, ub4, x, r, go, ro, grp, cb, g, tt, cols, acc);
                            continue;
                        }
                        for (int y = 0; y < hi; y++) {
                            int k = grp * hi + y;
                            int[] goff = tt.off[k];
                            int[] woff = tt.w[k];
                            int nt = tt.n[k];
                            int base = ro + (grp * cg + cb) * plane + y * wi;
                            for (int xq = 0; xq < wi; xq++) {
                                if (tile[xq]) {
                                    int gb = go + xq + g.padW() + tt.shift[k];
                                    if (width == 4 * L) {
                                        java.util.Arrays.fill(t1, 0f);
                                        plain4x4(hp, ub, gb, 1, goff, woff, 0, nt, cb, t1, 0, 4 * L, L);
                                    } else if (width == 2 * L) {
                                        plain4x2(hp, ub, gb, 1, goff, woff, nt, cb, t1);
                                    } else if (vb == null) {
                                        plain4(hp, ub, gb, 1, goff, woff, nt, cb, t1);
                                    } else if (hn == null) {
                                        backwardSignedP4(hp, ub, vb, gb, goff, woff, nt, cb, t1, t2);
                                    } else {
                                        backwardSigned4(hp, hn, ub, vb, gb, goff, woff, nt, cb, t1, t2);
                                    }
                                    if (vb == null) {
                                        for (int h = 0; h < width / L; h++) {
                                            product4(t1, 4 * h * L, x, r, base + xq + h * L * plane, plane);
                                        }
                                    } else {
                                        for (int q = 0; q < 4; q++) {
                                            // tile q holds pixel q of the channel vector
                                            select(t1, t2, q * L, x, r, base + xq + q, plane);
                                        }
                                    }
                                    xq += 3;
                                    continue;
                                }
                                int[] sg = tt.soff[k][xq];
                                int[] sw = tt.sw[k][xq];
                                int sn = tt.sn[k][xq];
                                int gs = go + tt.sshift[k][xq];
                                int o0 = base + xq;
                                if (vb == null) {
                                    if (width == 4 * L) {
                                        java.util.Arrays.fill(t1, 0, 4 * L, 0f);
                                        plain1x4(hp, ub, gs, sg, sw, 0, sn, cb, t1, 0);
                                    } else if (width == 2 * L) {
                                        plain1x2(hp, ub, gs, sg, sw, sn, cb, t1);
                                    } else {
                                        plain1(hp, ub, gs, sg, sw, sn, cb, t1);
                                    }
                                    for (int h = 0; h < width / L; h++) {
                                        product(t1, h * L, x, r, o0 + h * L * plane, plane);
                                    }
                                } else {
                                    backwardSigned1(hp, hn, ub, vb, gs, sg, sw, sn, cb, t1, t2);
                                    select(t1, t2, 0, x, r, o0, plane);
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /** {@code r = x == null ? c : x * c} for L lanes of {@code c} from {@code from}, at {@code o0 + l * plane}. */
    private static void product(float[] c, int from, float[] x, float[] r, int o0, int plane) {
        for (int l = 0; l < L; l++) {
            int o = o0 + l * plane;
            r[o] = x == null ? c[from + l] : x[o] * c[from + l];
        }
    }

    /**
     * {@code r = x == null ? c : x * c} for four pixels' tiles of one channel vector ({@code c[from + p*L + l]},
     * pixel p, lane l) at {@code o + p + l * plane}: the four pixels of a channel are adjacent, so each channel plane
     * is touched once per tile instead of four times.
     */
    private static void product4(float[] c, int from, float[] x, float[] r, int o, int plane) {
        for (int l = 0; l < L; l++) {
            int ol = o + l * plane;
            for (int p = 0; p < 4; p++) {
                float v = c[from + p * L + l];
                r[ol + p] = x == null ? v : x[ol + p] * v;
            }
        }
    }

    /** {@code r = x * (x > 0 ? c1 : c2)} for L lanes from {@code from}, at {@code o0 + l * plane}. */
    private static void select(float[] c1, float[] c2, int from, float[] x, float[] r, int o0, int plane) {
        for (int l = 0; l < L; l++) {
            int o = o0 + l * plane;
            float xi = x[o];
            r[o] = xi * (xi > 0 ? c1[from + l] : c2[from + l]);
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












    /** Writes L lanes of {@code tmp} from {@code from} to NCHW positions {@code o + l * channelStride}, plus bias. */
    private static void write(float[] tmp, int from, float[] out, int o, int channelStride, int c0, float[] bias) {
        for (int l = 0; l < L; l++) {
            out[o + l * channelStride] = bias == null ? tmp[from + l] : tmp[from + l] + bias[c0 + l];
        }
    }

    /**
     * Writes four pixels' tiles of one channel vector ({@code tmp[from + p*L + l]}, pixel p, lane l) to
     * {@code out[o + p + l * channelStride]}, plus bias: the four pixels of a channel are adjacent in NCHW.
     */
    private static void write4(float[] tmp, int from, float[] out, int o, int channelStride, int c0, float[] bias) {
        for (int l = 0; l < L; l++) {
            int ol = o + l * channelStride;
            float b = bias == null ? 0f : bias[c0 + l];
            for (int p = 0; p < 4; p++) {
                float v = tmp[from + p * L + l];
                out[ol + p] = bias == null ? v : v + b;
            }
        }
    }

    private static void write(float[] tmp, float[] out, int o, int channelStride, int c0, float[] bias) {
        write(tmp, 0, out, o, channelStride, c0, bias);
    }

    /**
     * The taps of output row {@code y} in the contract's order (input channel, kernel row, kernel column), skipping
     * kernel rows in the padding and, for a border pixel {@code xq >= 0}, kernel columns in the padding: input
     * offsets relative to the pixel's first input column ({@code xq * strideW - padW}), weight offsets in the forward
     * layout. {@code xq < 0} builds the table shared by the interior pixels of the row. One flat loop over this table
     * keeps C2's vector boxes eliminated (nested loops carrying vector accumulators made it fall back to Java on
     * Java 17).
     */
    private static int forwardTaps(ConvGeometry g, int grp, int y, int xq, int[] xoff, int[] woff) {
        int cg = g.inChannels() / g.groups();
        int og = g.outChannels() / g.groups();
        int kh = g.kernelH();
        int kw = g.kernelW();
        int taps = cg * kh * kw;
        int plane = g.inH() * g.inW();
        int n = 0;
        for (int cl = 0; cl < cg; cl++) {
            int ci = grp * cg + cl;
            for (int i = 0; i < kh; i++) {
                int ih = y * g.strideH() - g.padH() + i * g.dilationH();
                if (ih < 0 || ih >= g.inH()) {
                    continue;
                }
                for (int j = 0; j < kw; j++) {
                    int iw = xq * g.strideW() - g.padW() + j * g.dilationW();
                    if (xq >= 0 && (iw < 0 || iw >= g.inW())) {
                        continue;
                    }
                    xoff[n] = ci * plane + ih * g.inW() + j * g.dilationW();
                    woff[n] = (grp * taps + (cl * kh + i) * kw + j) * og;
                    n++;
                }
            }
        }
        return n;
    }

    /**
     * The taps reaching input row {@code y} in the contract's order (output channel, kernel row, kernel column), with
     * weight offsets in the backward layout. {@code xq < 0}: the table shared by the row's interior pixels (stride
     * 1), relevance offsets relative to {@code column + padW}; {@code xq >= 0}: one border pixel, taps that reach no
     * output column skipped, relevance offsets relative to the sample's start.
     */
    private static int backwardTaps(ConvGeometry g, int grp, int y, int xq, int[] goff, int[] woff) {
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
                if (th < 0 || th % g.strideH() != 0 || th / g.strideH() >= oh) {
                    continue;
                }
                for (int j = 0; j < kw; j++) {
                    int tw = xq + g.padW() - j * g.dilationW();
                    if (xq >= 0 && (tw < 0 || tw % g.strideW() != 0 || tw / g.strideW() >= ow)) {
                        continue;
                    }
                    int column = xq >= 0 ? tw / g.strideW() : -j * g.dilationW();
                    goff[n] = oc * oh * ow + th / g.strideH() * ow + column;
                    woff[n] = ((grp * og + ocl) * kh * kw + i * kw + j) * cg;
                    n++;
                }
            }
        }
        return n;
    }

    /*
     * The plain kernels below (plain4, plain4x2, plain4x4, plain1, plain1x2, plain1x4) serve the forward map (input
     * x, forward weight layout, pixel step sw) and the backprojection alike (relevance g, backprojection layout, step
     * 1): fma(x, w, c) and fma(w, x, c) are the same rounded value.
     */

    /** Four interior pixels {@code xb, xb+sw, ...}, plain map; accumulators to {@code out[k*L ..]}. */
    private static void plain4(float[] x, float[] up, int xb, int sw, int[] xoff, int[] woff, int nt, int ob,
                                 float[] out) {
        FloatVector p0 = FloatVector.zero(S), p1 = FloatVector.zero(S);
        FloatVector p2 = FloatVector.zero(S), p3 = FloatVector.zero(S);
        for (int t = 0; t < nt; t++) {
            int xi = xb + xoff[t];
            FloatVector wu = FloatVector.fromArray(S, up, woff[t] + ob);
            p0 = FloatVector.broadcast(S, x[xi]).fma(wu, p0);
            p1 = FloatVector.broadcast(S, x[xi + sw]).fma(wu, p1);
            p2 = FloatVector.broadcast(S, x[xi + 2 * sw]).fma(wu, p2);
            p3 = FloatVector.broadcast(S, x[xi + 3 * sw]).fma(wu, p3);
        }
        p0.intoArray(out, 0);
        p1.intoArray(out, L);
        p2.intoArray(out, 2 * L);
        p3.intoArray(out, 3 * L);
    }

    /** Four interior pixels, sign-split pair. */
    private static void forwardSigned4(float[] x, float[] up, float[] vp, int xb, int sw, int[] xoff, int[] woff,
                                       int nt, int ob, float[] outP, float[] outN) {
        FloatVector p0 = FloatVector.zero(S), p1 = FloatVector.zero(S);
        FloatVector p2 = FloatVector.zero(S), p3 = FloatVector.zero(S);
        FloatVector n0 = FloatVector.zero(S), n1 = FloatVector.zero(S);
        FloatVector n2 = FloatVector.zero(S), n3 = FloatVector.zero(S);
        for (int t = 0; t < nt; t++) {
            int xi = xb + xoff[t];
            int wo = woff[t] + ob;
            FloatVector wu = FloatVector.fromArray(S, up, wo);
            FloatVector wv = FloatVector.fromArray(S, vp, wo);
            FloatVector b0 = FloatVector.broadcast(S, x[xi]);
            FloatVector b1 = FloatVector.broadcast(S, x[xi + sw]);
            FloatVector b2 = FloatVector.broadcast(S, x[xi + 2 * sw]);
            FloatVector b3 = FloatVector.broadcast(S, x[xi + 3 * sw]);
            VectorMask<Float> m0 = b0.compare(VectorOperators.GT, 0f);
            VectorMask<Float> m1 = b1.compare(VectorOperators.GT, 0f);
            VectorMask<Float> m2 = b2.compare(VectorOperators.GT, 0f);
            VectorMask<Float> m3 = b3.compare(VectorOperators.GT, 0f);
            p0 = b0.fma(wv.blend(wu, m0), p0);
            n0 = b0.fma(wu.blend(wv, m0), n0);
            p1 = b1.fma(wv.blend(wu, m1), p1);
            n1 = b1.fma(wu.blend(wv, m1), n1);
            p2 = b2.fma(wv.blend(wu, m2), p2);
            n2 = b2.fma(wu.blend(wv, m2), n2);
            p3 = b3.fma(wv.blend(wu, m3), p3);
            n3 = b3.fma(wu.blend(wv, m3), n3);
        }
        p0.intoArray(outP, 0);
        p1.intoArray(outP, L);
        p2.intoArray(outP, 2 * L);
        p3.intoArray(outP, 3 * L);
        n0.intoArray(outN, 0);
        n1.intoArray(outN, L);
        n2.intoArray(outN, 2 * L);
        n3.intoArray(outN, 3 * L);
    }

    /**
     * Four interior pixels by two channel vectors, plain map; tile {@code k} (pixel {@code k % 4}, channels
     * {@code ob + k / 4 * L ..}) to {@code out[k*L ..]}.
     */
    private static void plain4x2(float[] x, float[] up, int xb, int sw, int[] xoff, int[] woff, int nt, int ob,
                                   float[] out) {
        FloatVector p0 = FloatVector.zero(S), p1 = FloatVector.zero(S);
        FloatVector p2 = FloatVector.zero(S), p3 = FloatVector.zero(S);
        FloatVector q0 = FloatVector.zero(S), q1 = FloatVector.zero(S);
        FloatVector q2 = FloatVector.zero(S), q3 = FloatVector.zero(S);
        for (int t = 0; t < nt; t++) {
            int xi = xb + xoff[t];
            int wo = woff[t] + ob;
            FloatVector w0 = FloatVector.fromArray(S, up, wo);
            FloatVector w1 = FloatVector.fromArray(S, up, wo + L);
            FloatVector b0 = FloatVector.broadcast(S, x[xi]);
            p0 = b0.fma(w0, p0);
            q0 = b0.fma(w1, q0);
            FloatVector b1 = FloatVector.broadcast(S, x[xi + sw]);
            p1 = b1.fma(w0, p1);
            q1 = b1.fma(w1, q1);
            FloatVector b2 = FloatVector.broadcast(S, x[xi + 2 * sw]);
            p2 = b2.fma(w0, p2);
            q2 = b2.fma(w1, q2);
            FloatVector b3 = FloatVector.broadcast(S, x[xi + 3 * sw]);
            p3 = b3.fma(w0, p3);
            q3 = b3.fma(w1, q3);
        }
        p0.intoArray(out, 0);
        p1.intoArray(out, L);
        p2.intoArray(out, 2 * L);
        p3.intoArray(out, 3 * L);
        q0.intoArray(out, 4 * L);
        q1.intoArray(out, 5 * L);
        q2.intoArray(out, 6 * L);
        q3.intoArray(out, 7 * L);
    }

    /** Four interior input pixels, sign-split without hn terms: {@code c1 = u hp}, {@code c2 = v hp}. */
    private static void backwardSignedP4(float[] hp, float[] ub, float[] vb, int gb, int[] goff, int[] woff, int nt,
                                         int cb, float[] o1, float[] o2) {
        FloatVector a0 = FloatVector.zero(S), a1 = FloatVector.zero(S);
        FloatVector a2 = FloatVector.zero(S), a3 = FloatVector.zero(S);
        FloatVector d0 = FloatVector.zero(S), d1 = FloatVector.zero(S);
        FloatVector d2 = FloatVector.zero(S), d3 = FloatVector.zero(S);
        for (int t = 0; t < nt; t++) {
            int gi = gb + goff[t];
            int wo = woff[t] + cb;
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
        a0.intoArray(o1, 0);
        a1.intoArray(o1, L);
        a2.intoArray(o1, 2 * L);
        a3.intoArray(o1, 3 * L);
        d0.intoArray(o2, 0);
        d1.intoArray(o2, L);
        d2.intoArray(o2, 2 * L);
        d3.intoArray(o2, 3 * L);
    }

    /** Four interior input pixels, sign-split with hn terms, each tap {@code c1 += u hp; c1 += v hn} and likewise. */
    private static void backwardSigned4(float[] hp, float[] hn, float[] ub, float[] vb, int gb, int[] goff,
                                        int[] woff, int nt, int cb, float[] o1, float[] o2) {
        FloatVector a0 = FloatVector.zero(S), a1 = FloatVector.zero(S);
        FloatVector a2 = FloatVector.zero(S), a3 = FloatVector.zero(S);
        FloatVector d0 = FloatVector.zero(S), d1 = FloatVector.zero(S);
        FloatVector d2 = FloatVector.zero(S), d3 = FloatVector.zero(S);
        for (int t = 0; t < nt; t++) {
            int gi = gb + goff[t];
            int wo = woff[t] + cb;
            FloatVector wu = FloatVector.fromArray(S, ub, wo);
            FloatVector wv = FloatVector.fromArray(S, vb, wo);
            {
                FloatVector g0 = FloatVector.broadcast(S, hp[gi]);
                FloatVector g1 = FloatVector.broadcast(S, hp[gi + 1]);
                FloatVector g2 = FloatVector.broadcast(S, hp[gi + 2]);
                FloatVector g3 = FloatVector.broadcast(S, hp[gi + 3]);
                FloatVector n0 = FloatVector.broadcast(S, hn[gi]);
                FloatVector n1 = FloatVector.broadcast(S, hn[gi + 1]);
                FloatVector n2 = FloatVector.broadcast(S, hn[gi + 2]);
                FloatVector n3 = FloatVector.broadcast(S, hn[gi + 3]);
                a0 = wv.fma(n0, wu.fma(g0, a0));
                d0 = wu.fma(n0, wv.fma(g0, d0));
                a1 = wv.fma(n1, wu.fma(g1, a1));
                d1 = wu.fma(n1, wv.fma(g1, d1));
                a2 = wv.fma(n2, wu.fma(g2, a2));
                d2 = wu.fma(n2, wv.fma(g2, d2));
                a3 = wv.fma(n3, wu.fma(g3, a3));
                d3 = wu.fma(n3, wv.fma(g3, d3));
            }
        }
        a0.intoArray(o1, 0);
        a1.intoArray(o1, L);
        a2.intoArray(o1, 2 * L);
        a3.intoArray(o1, 3 * L);
        d0.intoArray(o2, 0);
        d1.intoArray(o2, L);
        d2.intoArray(o2, 2 * L);
        d3.intoArray(o2, 3 * L);
    }



    /** One output pixel (first input column {@code xb}) through its own tap table, plain map: L lanes to tmp. */
    private static void plain1(float[] x, float[] up, int xb, int[] xoff, int[] woff, int nt, int ob,
                                 float[] tmp) {
        FloatVector p = FloatVector.zero(S);
        for (int t = 0; t < nt; t++) {
            p = FloatVector.broadcast(S, x[xb + xoff[t]]).fma(FloatVector.fromArray(S, up, woff[t] + ob), p);
        }
        p.intoArray(tmp, 0);
    }

    /**
     * Four pixels by four channel vectors, plain map, taps {@code [t0,t1)}: pixel p reads {@code x[xb + p*sw +
     * xoff[t]]}, the weights are at {@code up[woff[t] + ob]}; accumulators come from and go back to {@code acc} at
     * {@code ao + h*vs + p*ps} (vector h).
     */
    private static void plain4x4(float[] x, float[] up, int xb, int sw, int[] xoff, int[] woff, int t0, int t1,
                                   int ob, float[] acc, int ao, int vs, int ps) {
        FloatVector a0 = FloatVector.fromArray(S, acc, ao);
        FloatVector a1 = FloatVector.fromArray(S, acc, ao + ps);
        FloatVector a2 = FloatVector.fromArray(S, acc, ao + 2 * ps);
        FloatVector a3 = FloatVector.fromArray(S, acc, ao + 3 * ps);
        FloatVector b0 = FloatVector.fromArray(S, acc, ao + vs);
        FloatVector b1 = FloatVector.fromArray(S, acc, ao + vs + ps);
        FloatVector b2 = FloatVector.fromArray(S, acc, ao + vs + 2 * ps);
        FloatVector b3 = FloatVector.fromArray(S, acc, ao + vs + 3 * ps);
        FloatVector c0 = FloatVector.fromArray(S, acc, ao + 2 * vs);
        FloatVector c1 = FloatVector.fromArray(S, acc, ao + 2 * vs + ps);
        FloatVector c2 = FloatVector.fromArray(S, acc, ao + 2 * vs + 2 * ps);
        FloatVector c3 = FloatVector.fromArray(S, acc, ao + 2 * vs + 3 * ps);
        FloatVector d0 = FloatVector.fromArray(S, acc, ao + 3 * vs);
        FloatVector d1 = FloatVector.fromArray(S, acc, ao + 3 * vs + ps);
        FloatVector d2 = FloatVector.fromArray(S, acc, ao + 3 * vs + 2 * ps);
        FloatVector d3 = FloatVector.fromArray(S, acc, ao + 3 * vs + 3 * ps);
        for (int t = t0; t < t1; t++) {
            int xi = xb + xoff[t];
            int wo = woff[t] + ob;
            FloatVector w0 = FloatVector.fromArray(S, up, wo);
            FloatVector w1 = FloatVector.fromArray(S, up, wo + L);
            FloatVector w2 = FloatVector.fromArray(S, up, wo + 2 * L);
            FloatVector w3 = FloatVector.fromArray(S, up, wo + 3 * L);
            FloatVector e = FloatVector.broadcast(S, x[xi]);
            a0 = e.fma(w0, a0);
            b0 = e.fma(w1, b0);
            c0 = e.fma(w2, c0);
            d0 = e.fma(w3, d0);
            e = FloatVector.broadcast(S, x[xi + sw]);
            a1 = e.fma(w0, a1);
            b1 = e.fma(w1, b1);
            c1 = e.fma(w2, c1);
            d1 = e.fma(w3, d1);
            e = FloatVector.broadcast(S, x[xi + 2 * sw]);
            a2 = e.fma(w0, a2);
            b2 = e.fma(w1, b2);
            c2 = e.fma(w2, c2);
            d2 = e.fma(w3, d2);
            e = FloatVector.broadcast(S, x[xi + 3 * sw]);
            a3 = e.fma(w0, a3);
            b3 = e.fma(w1, b3);
            c3 = e.fma(w2, c3);
            d3 = e.fma(w3, d3);
        }
        a0.intoArray(acc, ao);
        a1.intoArray(acc, ao + ps);
        a2.intoArray(acc, ao + 2 * ps);
        a3.intoArray(acc, ao + 3 * ps);
        b0.intoArray(acc, ao + vs);
        b1.intoArray(acc, ao + vs + ps);
        b2.intoArray(acc, ao + vs + 2 * ps);
        b3.intoArray(acc, ao + vs + 3 * ps);
        c0.intoArray(acc, ao + 2 * vs);
        c1.intoArray(acc, ao + 2 * vs + ps);
        c2.intoArray(acc, ao + 2 * vs + 2 * ps);
        c3.intoArray(acc, ao + 2 * vs + 3 * ps);
        d0.intoArray(acc, ao + 3 * vs);
        d1.intoArray(acc, ao + 3 * vs + ps);
        d2.intoArray(acc, ao + 3 * vs + 2 * ps);
        d3.intoArray(acc, ao + 3 * vs + 3 * ps);
    }

    /** One output pixel, plain map, two channel vectors from {@code ob}. */
    private static void plain1x2(float[] x, float[] up, int xb, int[] xoff, int[] woff, int nt, int ob,
                                   float[] tmp) {
        FloatVector p0 = FloatVector.zero(S), p1 = FloatVector.zero(S);
        for (int t = 0; t < nt; t++) {
            int wo = woff[t] + ob;
            FloatVector xv = FloatVector.broadcast(S, x[xb + xoff[t]]);
            p0 = xv.fma(FloatVector.fromArray(S, up, wo), p0);
            p1 = xv.fma(FloatVector.fromArray(S, up, wo + L), p1);
        }
        p0.intoArray(tmp, 0);
        p1.intoArray(tmp, L);
    }

    /** One output pixel, plain map, four channel vectors from {@code ob}: four chains at a time. */
    private static void plain1x4(float[] x, float[] up, int xb, int[] xoff, int[] woff, int t0, int t1,
                                   int ob, float[] acc, int ao) {
        FloatVector p0 = FloatVector.fromArray(S, acc, ao + 0 * L);
        FloatVector p1 = FloatVector.fromArray(S, acc, ao + 1 * L);
        FloatVector p2 = FloatVector.fromArray(S, acc, ao + 2 * L);
        FloatVector p3 = FloatVector.fromArray(S, acc, ao + 3 * L);
        for (int t = t0; t < t1; t++) {
            int wo = woff[t] + ob;
            FloatVector xv = FloatVector.broadcast(S, x[xb + xoff[t]]);
            p0 = xv.fma(FloatVector.fromArray(S, up, wo), p0);
            p1 = xv.fma(FloatVector.fromArray(S, up, wo + L), p1);
            p2 = xv.fma(FloatVector.fromArray(S, up, wo + 2 * L), p2);
            p3 = xv.fma(FloatVector.fromArray(S, up, wo + 3 * L), p3);
        }
        p0.intoArray(acc, ao + 0 * L);
        p1.intoArray(acc, ao + 1 * L);
        p2.intoArray(acc, ao + 2 * L);
        p3.intoArray(acc, ao + 3 * L);
    }

    /** One output pixel through its own tap table, sign-split pair. */
    private static void forwardSigned1(float[] x, float[] up, float[] vp, int xb, int[] xoff, int[] woff, int nt,
                                       int ob, float[] tp, float[] tn) {
        FloatVector p = FloatVector.zero(S);
        FloatVector n = FloatVector.zero(S);
        for (int t = 0; t < nt; t++) {
            int wo = woff[t] + ob;
            FloatVector wu = FloatVector.fromArray(S, up, wo);
            FloatVector wv = FloatVector.fromArray(S, vp, wo);
            FloatVector xv = FloatVector.broadcast(S, x[xb + xoff[t]]);
            VectorMask<Float> pos = xv.compare(VectorOperators.GT, 0f);
            p = xv.fma(wv.blend(wu, pos), p);
            n = xv.fma(wu.blend(wv, pos), n);
        }
        p.intoArray(tp, 0);
        n.intoArray(tn, 0);
    }

    /** One input pixel through its own tap table, sign-split; {@code hn == null} drops the hn terms. */
    private static void backwardSigned1(float[] hp, float[] hn, float[] ub, float[] vb, int go, int[] goff,
                                        int[] woff, int nt, int cb, float[] t1, float[] t2) {
        FloatVector c1 = FloatVector.zero(S);
        FloatVector c2 = FloatVector.zero(S);
        if (hn != null) {
            for (int t = 0; t < nt; t++) {
                int wo = woff[t] + cb;
                FloatVector wu = FloatVector.fromArray(S, ub, wo);
                FloatVector wv = FloatVector.fromArray(S, vb, wo);
                FloatVector gp = FloatVector.broadcast(S, hp[go + goff[t]]);
                FloatVector gn = FloatVector.broadcast(S, hn[go + goff[t]]);
                c1 = wv.fma(gn, wu.fma(gp, c1));
                c2 = wu.fma(gn, wv.fma(gp, c2));
            }
        } else {
            for (int t = 0; t < nt; t++) {
                int wo = woff[t] + cb;
                FloatVector gp = FloatVector.broadcast(S, hp[go + goff[t]]);
                c1 = FloatVector.fromArray(S, ub, wo).fma(gp, c1);
                c2 = FloatVector.fromArray(S, vb, wo).fma(gp, c2);
            }
        }
        c1.intoArray(t1, 0);
        c2.intoArray(t2, 0);
    }
}
