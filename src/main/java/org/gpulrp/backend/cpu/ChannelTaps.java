package org.gpulrp.backend.cpu;

import jdk.incubator.vector.FloatVector;
import org.gpulrp.model.ConvGeometry;

/**
 * The tap tables of {@link ChannelConv}: which taps reach a pixel, in the contract's order, as input (or relevance)
 * offsets and weight offsets ({@link #forwardTaps}, {@link #backwardTaps}); the tables of every row, shared and
 * cached ({@link RowTables}); and where a row's four-pixel tiles start ({@link #tiles}, and {@link Cols} for the
 * K-blocked kernels).
 */
final class ChannelTaps {
    private static final int L = FloatVector.SPECIES_PREFERRED.length();

    private ChannelTaps() {
    }

    /** Every kernel column of output column {@code xq} lands inside the input. */
    static boolean interiorForward(int xq, ConvGeometry g) {
        int first = xq * g.strideW() - g.padW();
        return first >= 0 && first + (g.kernelW() - 1) * g.dilationW() < g.inW();
    }

    /** Stride 1 and every kernel column of input column {@code xq} reaches an output column. */
    static boolean interiorBackward(int xq, ConvGeometry g) {
        return g.strideW() == 1 && xq + g.padW() - (g.kernelW() - 1) * g.dilationW() >= 0
                && xq + g.padW() < g.outW();
    }

    /**
     * Every kernel column that reaches input column {@code xq} (its phase: {@code xq + padW - kw * dilationW} a
     * multiple of the stride) reaches an output column. Same-phase columns that are all such have the same taps, each
     * one output column further than the column {@code strideW} before it.
     */
    static boolean phaseInteriorBackward(int xq, ConvGeometry g) {
        int s = g.strideW();
        for (int j = 0; j < g.kernelW(); j++) {
            int t = xq + g.padW() - j * g.dilationW();
            if (Math.floorMod(t, s) == 0 && (t < 0 || t / s >= g.outW())) {
                return false;
            }
        }
        return true;
    }

    /**
     * Which pixels of a row start a four-pixel tile (all four interior), scanning left to right; the pixels in no
     * tile run one at a time.
     */
    static boolean[] tiles(int width, java.util.function.IntPredicate interior) {
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
     * Where the K-blocked kernels run four-pixel tiles in a row: starts every four pixels over the interior run, the
     * last one moved left to end at the run's end (it may overlap the one before; an overlapped pixel is computed
     * twice with the same chain, so both writes agree). The pixels outside the run go one at a time. A tile's pixels
     * are {@code step} columns apart: 1, or, for a strided backprojection ({@link #phases}), the stride.
     */
    record Cols(int[] tiles, int[] singles, int step) {
        /**
         * A strided backprojection's columns: in each column phase (every {@code step}-th column), tiles of four
         * same-phase columns over the phase's run of interior columns, as {@link #of} does for one phase.
         */
        static Cols phases(int width, int step, java.util.function.IntPredicate interior) {
            int[] tiles = new int[0];
            int[] singles = new int[0];
            for (int p = 0; p < step && p < width; p++) {
                int n = (width - p + step - 1) / step;
                int phase = p;
                Cols c = of(n, j -> interior.test(phase + step * j));
                tiles = concat(tiles, c.tiles, p, step);
                singles = concat(singles, c.singles, p, step);
            }
            return new Cols(tiles, singles, step);
        }

        private static int[] concat(int[] a, int[] js, int p, int step) {
            int[] r = java.util.Arrays.copyOf(a, a.length + js.length);
            for (int i = 0; i < js.length; i++) {
                r[a.length + i] = p + step * js[i];
            }
            return r;
        }

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
            return new Cols(tiles, singles, 1);
        }

        /** Accumulator floats per row: 16 vectors per tile, 4 per single pixel. */
        int rowFloats() {
            return (tiles.length * 16 + singles.length * 4) * L;
        }
    }

    /**
     * The tap tables of every (group, row), {@link #forwardTaps} or {@link #backwardTaps}: one shared by the row's
     * tiles and one per pixel in no tile. They do not depend on the sample, so each call builds them once (building
     * them per sample and row took a seventh of a small CNN's time).
     */
    static final class RowTables {
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
            // Which earlier row a row's tables may be shifted copies of: the one before, but backward, where input
            // rows of one stride phase meet the same kernel rows, the one a stride before (a stride-2 layer's
            // alternate rows never match; without this its tables took megabytes a layer, more than the cache
            // holds for a ResNet-50, and were rebuilt on every call).
            int d = fwd ? 1 : g.strideH();
            for (int grp = 0; grp < g.groups(); grp++) {
                for (int y = 0; y < rows; y++) {
                    int k = grp * rows + y;
                    int nt = fwd ? forwardTaps(g, grp, y, -1, to, tw) : backwardTaps(g, grp, y, -1, to, tw);
                    n[k] = nt;
                    if (y >= d && sameShifted(off[k - d], w[k - d], n[k - d], to, tw, nt)) {
                        off[k] = off[k - d];
                        w[k] = w[k - d];
                        shift[k] = nt == 0 ? 0 : to[0] - off[k - d][0];
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
                        if (y >= d && sameShifted(soff[k - d][q], sw[k - d][q], sn[k - d][q], to, tw, sn1)) {
                            soff[k][q] = soff[k - d][q];
                            sw[k][q] = sw[k - d][q];
                            sshift[k][q] = sn1 == 0 ? 0 : to[0] - soff[k - d][q][0];
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

        /** Whether rows {@code k .. k+count-1} all have every tap (no kernel row in the padding). */
        boolean full(int k, int count) {
            for (int i = 0; i < count; i++) {
                if (n[k + i] != size) {
                    return false;
                }
            }
            return true;
        }
    }

    /**
     * The taps of output row {@code y} in the contract's order (input channel, kernel row, kernel column), skipping
     * kernel rows in the padding and, for a border pixel {@code xq >= 0}, kernel columns in the padding: input
     * offsets relative to the pixel's first input column ({@code xq * strideW - padW}), weight offsets in the forward
     * layout. {@code xq < 0} builds the table shared by the interior pixels of the row. One flat loop over this table
     * keeps C2's vector boxes eliminated (nested loops carrying vector accumulators made it fall back to Java on
     * Java 17).
     */
    static int forwardTaps(ConvGeometry g, int grp, int y, int xq, int[] xoff, int[] woff) {
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
    static int backwardTaps(ConvGeometry g, int grp, int y, int xq, int[] goff, int[] woff) {
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
}
