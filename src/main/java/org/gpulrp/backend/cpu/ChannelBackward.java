package org.gpulrp.backend.cpu;

import static org.gpulrp.backend.cpu.ChannelConv.KC;
import static org.gpulrp.backend.cpu.ChannelKernels.backwardSigned1;
import static org.gpulrp.backend.cpu.ChannelKernels.backwardSigned4;
import static org.gpulrp.backend.cpu.ChannelKernels.backwardSignedP4;
import static org.gpulrp.backend.cpu.ChannelKernels.block4;
import static org.gpulrp.backend.cpu.ChannelKernels.plain1;
import static org.gpulrp.backend.cpu.ChannelKernels.plain1x2;
import static org.gpulrp.backend.cpu.ChannelKernels.plain1x4;
import static org.gpulrp.backend.cpu.ChannelKernels.plain4;
import static org.gpulrp.backend.cpu.ChannelKernels.plain4x2;
import static org.gpulrp.backend.cpu.ChannelKernels.plain4x4;

import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import org.gpulrp.model.ConvGeometry;
import org.gpulrp.backend.cpu.ChannelTaps.Cols;
import org.gpulrp.backend.cpu.ChannelTaps.RowTables;

/**
 * The backprojection of {@link ChannelConv} over a range of samples, one call's worth: the plain map
 * ({@code v == null}: {@code c = chain(u, hp)}, {@code r = x == null ? c : x c}) or the sign-split one
 * ({@code c1 = u hp [+ v hn]}, {@code c2 = v hp [+ u hn]}, {@code r = x (x > 0 ? c1 : c2)}). The loop levels,
 * outermost first: chunks of samples ({@link #samples}), a group's channel blocks ({@link #blocks}), one sample
 * ({@link #sample}), one input row ({@link #row}), and a four-pixel tile ({@link #tile}) or one border pixel
 * ({@link #pixel}); layers with long tap tables run K-blocked instead ({@link #blocked}).
 */
final class ChannelBackward {
    private static final int L = FloatVector.SPECIES_PREFERRED.length();

    /** Whether the four-vector tiles run in one pass (32 vector registers) or as two halves (16). */
    private final boolean wide;
    private final float[] hp;
    private final float[] hn;
    private final float[] ub;
    private final float[] vb;
    private final float[] x;
    private final float[] r;
    private final ConvGeometry g;
    private final int cg;
    private final int hi;
    private final int wi;
    private final int plane;
    private final boolean[] tile;
    private final RowTables tt;
    /** A tile's accumulators: {@code c1} the plain map's or the sign-split c1, {@code c2} its c2. */
    private final float[] c1;
    private final float[] c2;
    private final Cols cols;
    /** The K-blocked kernels' accumulators and weight layout; null where the layer's tables are short. */
    private final float[] acc;
    private final float[] ub4;

    ChannelBackward(boolean wide, float[] hp, float[] hn, ConvWeights u, ConvWeights v, float[] x, float[] r,
                    ConvGeometry g) {
        this.wide = wide;
        this.hp = hp;
        this.hn = hn;
        this.x = x;
        this.r = r;
        this.g = g;
        ub = ChannelLayouts.backwardLayout(u, g);
        vb = v == null ? null : ChannelLayouts.backwardLayout(v, g);
        cg = g.inChannels() / g.groups();
        wi = g.inW();
        hi = g.inH();
        plane = hi * wi;
        tile = ChannelTaps.tiles(wi, xq -> ChannelTaps.interiorBackward(xq, g));
        tt = RowTables.of(g, hi, wi, tile, false);
        c1 = new float[16 * L];
        c2 = new float[4 * L];
        cols = g.strideW() == 1 ? Cols.of(wi, xq -> ChannelTaps.interiorBackward(xq, g))
                : Cols.phases(wi, g.strideW(), xq -> ChannelTaps.phaseInteriorBackward(xq, g));
        acc = tt.size > KC ? new float[ChannelConv.blockRows(wi) * cols.rowFloats()] : null;
        ub4 = acc != null && vb == null ? ChannelLayouts.backwardLayout4(u, g) : null;
    }

    /**
     * Makes the layouts a call with weights {@code u} (and {@code v}, for the sign-split pair) reads, as the
     * constructor asks for them: what {@link CpuBackend#prepareConv} keeps with the buffers.
     */
    static void prepare(ConvWeights u, ConvWeights v, ConvGeometry g) {
        ChannelLayouts.backwardLayout(u, g);
        if (v != null) {
            ChannelLayouts.backwardLayout(v, g);
        } else if (g.outChannels() / g.groups() * g.kernelH() * g.kernelW() > KC) {
            ChannelLayouts.backwardLayout4(u, g); // the constructor's tt.size > KC
        }
    }

    /** Samples {@code [r0, r1)} in chunks whose relevances stay in cache, channel blocks inside. */
    void samples(int r0, int r1) {
        int chunk = ChannelConv.chunkRows(g.outSize() * (hn == null ? 1 : 2));
        for (int b0 = r0; b0 < r1; b0 += chunk) {
            int b1 = Math.min(r1, b0 + chunk);
            for (int grp = 0; grp < g.groups(); grp++) {
                blocks(b0, b1, grp);
            }
        }
    }

    /** Every input channel block of group {@code grp} over samples {@code [b0, b1)}. */
    private void blocks(int b0, int b1, int grp) {
        int width;
        for (int cb = 0; cb < cg; cb += width) {
            width = vb == null ? ChannelConv.plainWidth(cg - cb, wide, tt.size > KC) : L;
            for (int b = b0; b < b1; b++) {
                sample(b, grp, cb, width);
            }
        }
    }

    /** Input channels {@code cb .. cb+width-1} of group {@code grp} for sample {@code b}. */
    private void sample(int b, int grp, int cb, int width) {
        int go = b * g.outSize();
        int ro = b * g.inSize();
        if (vb == null && width == 4 * L && tt.size > KC) {
            blocked(go, ro, grp, cb);
            return;
        }
        for (int y = 0; y < hi; y++) {
            row(go, ro, grp, y, cb, width);
        }
    }

    /** Input row {@code y}: four-pixel tiles through the row's table, the pixels in no tile through their own. */
    private void row(int go, int ro, int grp, int y, int cb, int width) {
        int k = grp * hi + y;
        int[] goff = tt.off[k];
        int[] woff = tt.w[k];
        int nt = tt.n[k];
        int shift = tt.shift[k];
        int base = ro + (grp * cg + cb) * plane + y * wi;
        int pw = g.padW();
        boolean[] tile = this.tile;
        for (int xq = 0; xq < wi; xq++) {
            if (tile[xq]) {
                tile(go + xq + pw + shift, goff, woff, nt, cb, width);
                writeTile(base + xq, width);
                xq += 3;
            } else {
                pixel(go, k, xq, base + xq, cb, width);
            }
        }
    }

    /** Four pixels from relevance position {@code gb} through the row's table, into {@link #c1} (and {@link #c2}). */
    private void tile(int gb, int[] goff, int[] woff, int nt, int cb, int width) {
        if (width == 4 * L) {
            Arrays.fill(c1, 0f);
            plain4x4(hp, ub, gb, 1, goff, woff, 0, nt, cb, c1, 0, 4 * L, L);
        } else if (width == 2 * L) {
            plain4x2(hp, ub, gb, 1, goff, woff, nt, cb, c1);
        } else if (vb == null) {
            plain4(hp, ub, gb, 1, goff, woff, nt, cb, c1);
        } else if (hn == null) {
            backwardSignedP4(hp, ub, vb, gb, goff, woff, nt, cb, c1, c2);
        } else {
            backwardSigned4(hp, hn, ub, vb, gb, goff, woff, nt, cb, c1, c2);
        }
    }

    /** A tile's relevances from position {@code o} (its first pixel in its first channel). */
    private void writeTile(int o, int width) {
        if (vb == null) {
            for (int h = 0; h < width / L; h++) {
                product4(c1, 4 * h * L, x, r, o + h * L * plane, plane, 1);
            }
        } else {
            for (int q = 0; q < 4; q++) {
                // tile q holds pixel q of the channel vector
                select(c1, c2, q * L, x, r, o + q, plane);
            }
        }
    }

    /** A pixel in no tile (column {@code xq} of table row {@code k}), through its own table, to position {@code o}. */
    private void pixel(int go, int k, int xq, int o, int cb, int width) {
        int[] sg = tt.soff[k][xq];
        int[] sw = tt.sw[k][xq];
        int sn = tt.sn[k][xq];
        int gs = go + tt.sshift[k][xq];
        if (vb == null) {
            if (width == 4 * L) {
                Arrays.fill(c1, 0, 4 * L, 0f);
                plain1x4(hp, ub, gs, sg, sw, 0, sn, cb, c1, 0);
            } else if (width == 2 * L) {
                plain1x2(hp, ub, gs, sg, sw, sn, cb, c1);
            } else {
                plain1(hp, ub, gs, sg, sw, sn, cb, c1);
            }
            for (int h = 0; h < width / L; h++) {
                product(c1, h * L, x, r, o + h * L * plane, plane);
            }
        } else {
            backwardSigned1(hp, hn, ub, vb, gs, sg, sw, sn, cb, c1, c2);
            select(c1, c2, 0, x, r, o, plane);
        }
    }

    /** The plain four-vector backprojection of one sample and channel block, K-blocked as the forward map's. */
    private void blocked(int go, int ro, int grp, int cb) {
        int rb = ChannelConv.blockRows(wi);
        int wb = ChannelLayouts.block4Base(grp, cb, tt.size, cg);
        for (int y0 = 0; y0 < hi; y0 += rb) {
            int y1 = Math.min(hi, y0 + rb);
            Arrays.fill(acc, 0, (y1 - y0) * cols.rowFloats(), 0f);
            for (int t0 = 0; t0 < tt.size; t0 += KC) {
                blockedTiles(go, grp, y0, y1, t0, wb);
                blockedSingles(go, grp, y0, y1, t0, wb);
            }
            blockedWrite(ro, grp, cb, y0, y1);
        }
    }

    /**
     * Taps {@code [t0, t0+KC)} of every tile of rows {@code [y0, y1)}: with stride 1 through the row's shared table;
     * strided, four same-phase columns through their first column's own table (each of the others reads one output
     * column further: {@link ChannelTaps#phaseInteriorBackward}).
     */
    private void blockedTiles(int go, int grp, int y0, int y1, int t0, int wb) {
        int rf = cols.rowFloats();
        int[] tiles = cols.tiles();
        for (int y = y0; y < y1; y++) {
            int k = grp * hi + y;
            int ao = (y - y0) * rf;
            for (int j = 0; j < tiles.length; j++) {
                int xq = tiles[j];
                if (cols.step() == 1) {
                    int t1 = Math.min(tt.n[k], t0 + KC);
                    if (t0 < t1) {
                        block4(wide, hp, ub4, go + xq + g.padW() + tt.shift[k], 1, tt.off[k], tt.w4[k], t0, t1,
                                wb, acc, ao + j * 16 * L, 4 * L, L);
                    }
                    continue;
                }
                int t1 = Math.min(tt.sn[k][xq], t0 + KC);
                if (t0 < t1) {
                    block4(wide, hp, ub4, go + tt.sshift[k][xq], 1, tt.soff[k][xq], tt.sw4[k][xq], t0, t1, wb, acc,
                            ao + j * 16 * L, 4 * L, L);
                }
            }
        }
    }

    /**
     * Taps {@code [t0, t0+KC)} of the single columns of rows {@code [y0, y1)}: with stride 1, four full rows at a
     * time as a vertical tile (their tables are the same taps shifted by one output row), the rest one pixel at a
     * time.
     */
    private void blockedSingles(int go, int grp, int y0, int y1, int t0, int wb) {
        int[] singles = cols.singles();
        for (int j = 0; j < singles.length; j++) {
            blockedSingle(go, grp, y0, y1, t0, wb, j);
        }
    }

    /** As {@link #blockedSingles} for the {@code j}-th single column. */
    private void blockedSingle(int go, int grp, int y0, int y1, int t0, int wb, int j) {
        int rf = cols.rowFloats();
        int so = cols.tiles().length * 16 * L;
        int xq = cols.singles()[j];
        for (int y = y0; y < y1; y++) {
            int k = grp * hi + y;
            int u1 = Math.min(tt.sn[k][xq], t0 + KC);
            int ao = (y - y0) * rf + so + j * 4 * L;
            if (g.strideH() == 1 && y + 3 < y1 && tt.full(k, 4)) {
                if (t0 < u1) {
                    block4(wide, hp, ub4, go + tt.sshift[k][xq], g.outW(), tt.soff[k][xq], tt.sw4[k][xq], t0, u1,
                            wb, acc, ao, L, rf);
                }
                y += 3;
            } else if (t0 < u1) {
                plain1x4(hp, ub4, go + tt.sshift[k][xq], tt.soff[k][xq], tt.sw4[k][xq], t0, u1, wb, acc, ao);
            }
        }
    }

    /** The finished accumulators of rows {@code [y0, y1)} to their relevances. */
    private void blockedWrite(int ro, int grp, int cb, int y0, int y1) {
        int rf = cols.rowFloats();
        int[] tiles = cols.tiles();
        int[] singles = cols.singles();
        for (int y = y0; y < y1; y++) {
            int base = ro + (grp * cg + cb) * plane + y * wi;
            int ao = (y - y0) * rf;
            for (int j = 0; j < tiles.length; j++) {
                for (int h = 0; h < 4; h++) {
                    product4(acc, ao + j * 16 * L + 4 * h * L, x, r, base + tiles[j] + h * L * plane, plane,
                            cols.step());
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

    /** {@code r = x == null ? c : x * c} for L lanes of {@code c} from {@code from}, at {@code o0 + l * plane}. */
    private static void product(float[] c, int from, float[] x, float[] r, int o0, int plane) {
        for (int l = 0; l < L; l++) {
            int o = o0 + l * plane;
            r[o] = x == null ? c[from + l] : x[o] * c[from + l];
        }
    }

    /**
     * {@code r = x == null ? c : x * c} for four pixels' tiles of one channel vector ({@code c[from + p*L + l]},
     * pixel p, lane l) at {@code o + p * step + l * plane}: the four pixels of a channel are near each other, so each
     * channel plane is touched once per tile instead of four times.
     */
    private static void product4(float[] c, int from, float[] x, float[] r, int o, int plane, int step) {
        for (int l = 0; l < L; l++) {
            int ol = o + l * plane;
            for (int p = 0; p < 4; p++) {
                float v = c[from + p * L + l];
                int e = ol + p * step;
                r[e] = x == null ? v : x[e] * v;
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
}
