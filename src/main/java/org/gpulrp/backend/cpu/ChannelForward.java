package org.gpulrp.backend.cpu;

import static org.gpulrp.backend.cpu.ChannelConv.KC;
import static org.gpulrp.backend.cpu.ChannelKernels.block4;
import static org.gpulrp.backend.cpu.ChannelKernels.forwardSigned1;
import static org.gpulrp.backend.cpu.ChannelKernels.forwardSigned4;
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
 * The forward map of {@link ChannelConv} over a range of samples, one call's worth: the plain map
 * ({@code out = chain(u, x) + bias}) or the sign-split pair ({@code outP} from u where x > 0 else v, {@code outN}
 * the other way). The loop levels, outermost first: chunks of samples ({@link #samples}), a group's channel blocks
 * ({@link #blocks}), one sample ({@link #sample}), one output row ({@link #row}), and a four-pixel tile
 * ({@link #tile}) or one border pixel ({@link #pixel}); layers with long tap tables run K-blocked instead
 * ({@link #blocked}).
 */
final class ChannelForward {
    private static final int L = FloatVector.SPECIES_PREFERRED.length();

    /** Whether the four-vector tiles run in one pass (32 vector registers) or as two halves (16). */
    private final boolean wide;
    private final float[] x;
    private final float[] up;
    private final float[] vp;
    private final float[] biasP;
    private final float[] biasN;
    private final float[] outP;
    private final float[] outN;
    private final ConvGeometry g;
    private final int og;
    private final int oh;
    private final int ow;
    private final int plane2;
    private final boolean[] tile;
    private final RowTables tt;
    /** A tile's accumulators: {@code tp} the plain map's or the sign-split {@code outP}, {@code tn} its outN. */
    private final float[] tp;
    private final float[] tn;
    private final Cols cols;
    /** The K-blocked kernels' accumulators and weight layout; null where the layer's tables are short. */
    private final float[] acc;
    private final float[] up4;

    ChannelForward(boolean wide, float[] x, ConvWeights u, ConvWeights v, float[] biasP, float[] biasN, float[] outP,
                   float[] outN, ConvGeometry g) {
        this.wide = wide;
        this.x = x;
        this.biasP = biasP;
        this.biasN = biasN;
        this.outP = outP;
        this.outN = outN;
        this.g = g;
        up = ChannelLayouts.forwardLayout(u, g);
        vp = v == null ? null : ChannelLayouts.forwardLayout(v, g);
        og = g.outChannels() / g.groups();
        oh = g.outH();
        ow = g.outW();
        plane2 = oh * ow;
        tile = ChannelTaps.tiles(ow, xq -> ChannelTaps.interiorForward(xq, g));
        tt = RowTables.of(g, oh, ow, tile, true);
        tp = new float[16 * L];
        tn = new float[4 * L];
        cols = Cols.of(ow, xq -> ChannelTaps.interiorForward(xq, g));
        acc = tt.size > KC ? new float[ChannelConv.blockRows(ow) * cols.rowFloats()] : null;
        up4 = acc != null && vp == null ? ChannelLayouts.forwardLayout4(u, g) : null;
    }

    /**
     * Makes the layouts a call with weights {@code u} (and {@code v}, for the sign-split pair) reads, as the
     * constructor asks for them: what {@link CpuBackend#prepareConv} keeps with the buffers.
     */
    static void prepare(ConvWeights u, ConvWeights v, ConvGeometry g) {
        ChannelLayouts.forwardLayout(u, g);
        if (v != null) {
            ChannelLayouts.forwardLayout(v, g);
        } else if (g.inChannels() / g.groups() * g.kernelH() * g.kernelW() > KC) {
            ChannelLayouts.forwardLayout4(u, g); // the constructor's tt.size > KC
        }
    }

    /**
     * Samples {@code [r0, r1)} in chunks whose inputs stay in cache, channel blocks inside: a block's weight panel is
     * read once per chunk of samples, and a sample's input once per block.
     */
    void samples(int r0, int r1) {
        int chunk = ChannelConv.chunkRows(g.inSize());
        for (int b0 = r0; b0 < r1; b0 += chunk) {
            int b1 = Math.min(r1, b0 + chunk);
            for (int grp = 0; grp < g.groups(); grp++) {
                blocks(b0, b1, grp);
            }
        }
    }

    /** Every channel block of group {@code grp} over samples {@code [b0, b1)}. */
    private void blocks(int b0, int b1, int grp) {
        int width;
        for (int ob = 0; ob < og; ob += width) {
            width = vp == null ? ChannelConv.plainWidth(og - ob, wide, tt.size > KC) : L;
            for (int b = b0; b < b1; b++) {
                sample(b, grp, ob, width);
            }
        }
    }

    /** Channels {@code ob .. ob+width-1} of group {@code grp} for sample {@code b}. */
    private void sample(int b, int grp, int ob, int width) {
        int oc0 = grp * og + ob;
        int xo = b * g.inSize();
        int zo = b * g.outSize();
        if (vp == null && width == 4 * L && tt.size > KC) {
            blocked(xo, zo, grp, ob, oc0);
            return;
        }
        for (int y = 0; y < oh; y++) {
            row(xo, zo, grp, y, ob, oc0, width);
        }
    }

    /** Output row {@code y}: four-pixel tiles through the row's table, the pixels in no tile through their own. */
    private void row(int xo, int zo, int grp, int y, int ob, int oc0, int width) {
        int k = grp * oh + y;
        int[] xoff = tt.off[k];
        int[] woff = tt.w[k];
        int nt = tt.n[k];
        int shift = tt.shift[k];
        int base = zo + oc0 * plane2 + y * ow;
        int sw = g.strideW();
        int pw = g.padW();
        boolean[] tile = this.tile;
        for (int xq = 0; xq < ow; xq++) {
            int xb = xo + xq * sw - pw;
            if (tile[xq]) {
                tile(xb + shift, xoff, woff, nt, ob, width);
                writeTile(base + xq, oc0, width);
                xq += 3;
            } else {
                pixel(xb, k, xq, base + xq, ob, oc0, width);
            }
        }
    }

    /** Four pixels from first input column {@code xb} through the row's table, into {@link #tp} (and {@link #tn}). */
    private void tile(int xb, int[] xoff, int[] woff, int nt, int ob, int width) {
        if (width == 4 * L) {
            Arrays.fill(tp, 0f);
            plain4x4(x, up, xb, g.strideW(), xoff, woff, 0, nt, ob, tp, 0, 4 * L, L);
        } else if (width == 2 * L) {
            plain4x2(x, up, xb, g.strideW(), xoff, woff, nt, ob, tp);
        } else if (vp == null) {
            plain4(x, up, xb, g.strideW(), xoff, woff, nt, ob, tp);
        } else {
            forwardSigned4(x, up, vp, xb, g.strideW(), xoff, woff, nt, ob, tp, tn);
        }
    }

    /** A tile's outputs, plus bias, from output position {@code o} (its first pixel in channel {@code oc0}). */
    private void writeTile(int o, int oc0, int width) {
        // tile q holds pixel q % 4 of channel vector q / 4
        for (int h = 0; h < width / L; h++) {
            write4(tp, 4 * h * L, outP, o + h * L * plane2, plane2, oc0 + h * L, biasP);
        }
        if (vp != null && outN != null) {
            write4(tn, 0, outN, o, plane2, oc0, biasN);
        }
    }

    /** A pixel in no tile (column {@code xq} of table row {@code k}), through its own table, to position {@code o}. */
    private void pixel(int xb, int k, int xq, int o, int ob, int oc0, int width) {
        int[] sx = tt.soff[k][xq];
        int[] sw = tt.sw[k][xq];
        int sn = tt.sn[k][xq];
        xb += tt.sshift[k][xq];
        if (vp == null) {
            if (width == 4 * L) {
                Arrays.fill(tp, 0, 4 * L, 0f);
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
            write(tp, 0, outP, o, plane2, oc0, biasP);
            if (outN != null) {
                write(tn, 0, outN, o, plane2, oc0, biasN);
            }
        }
    }

    /**
     * The plain four-vector forward map of one sample and channel block, K-blocked (without it a 512-channel layer's
     * 1.2 MB weight panel streamed from L3 once per tile): for each block of rows, every tap block runs over all its
     * tiles and single pixels, continuing their chains from the stored accumulators.
     */
    private void blocked(int xo, int zo, int grp, int ob, int oc0) {
        int rb = ChannelConv.blockRows(ow);
        int wb = ChannelLayouts.block4Base(grp, ob, tt.size, og);
        for (int y0 = 0; y0 < oh; y0 += rb) {
            int y1 = Math.min(oh, y0 + rb);
            Arrays.fill(acc, 0, (y1 - y0) * cols.rowFloats(), 0f);
            for (int t0 = 0; t0 < tt.size; t0 += KC) {
                blockedTiles(xo, grp, y0, y1, t0, wb);
                blockedSingles(xo, grp, y0, y1, t0, wb);
            }
            blockedWrite(zo, y0, y1, oc0);
        }
    }

    /** Taps {@code [t0, t0+KC)} of every tile of rows {@code [y0, y1)}. */
    private void blockedTiles(int xo, int grp, int y0, int y1, int t0, int wb) {
        int sw = g.strideW();
        int rf = cols.rowFloats();
        int[] tiles = cols.tiles();
        for (int y = y0; y < y1; y++) {
            int k = grp * oh + y;
            int t1 = Math.min(tt.n[k], t0 + KC);
            int ao = (y - y0) * rf;
            for (int j = 0; j < tiles.length && t0 < t1; j++) {
                block4(wide, x, up4, xo + tiles[j] * sw - g.padW() + tt.shift[k], sw, tt.off[k], tt.w4[k], t0,
                        t1, wb, acc, ao + j * 16 * L, 4 * L, L);
            }
        }
    }

    /**
     * Taps {@code [t0, t0+KC)} of the single columns of rows {@code [y0, y1)}: four full rows at a time as a vertical
     * tile (their tables are the same taps shifted by strideH input rows), the rest one pixel at a time.
     */
    private void blockedSingles(int xo, int grp, int y0, int y1, int t0, int wb) {
        int[] singles = cols.singles();
        for (int j = 0; j < singles.length; j++) {
            blockedSingle(xo, grp, y0, y1, t0, wb, j);
        }
    }

    /** As {@link #blockedSingles} for the {@code j}-th single column. */
    private void blockedSingle(int xo, int grp, int y0, int y1, int t0, int wb, int j) {
        int sw = g.strideW();
        int rf = cols.rowFloats();
        int so = cols.tiles().length * 16 * L;
        int xq = cols.singles()[j];
        for (int y = y0; y < y1; y++) {
            int k = grp * oh + y;
            int xb = xo + xq * sw - g.padW() + tt.sshift[k][xq];
            int u1 = Math.min(tt.sn[k][xq], t0 + KC);
            int ao = (y - y0) * rf + so + j * 4 * L;
            if (y + 3 < y1 && tt.full(k, 4)) {
                if (t0 < u1) {
                    block4(wide, x, up4, xb, g.strideH() * g.inW(), tt.soff[k][xq], tt.sw4[k][xq], t0, u1, wb,
                            acc, ao, L, rf);
                }
                y += 3;
            } else if (t0 < u1) {
                plain1x4(x, up4, xb, tt.soff[k][xq], tt.sw4[k][xq], t0, u1, wb, acc, ao);
            }
        }
    }

    /** The finished accumulators of rows {@code [y0, y1)}, plus bias, to their outputs. */
    private void blockedWrite(int zo, int y0, int y1, int oc0) {
        int rf = cols.rowFloats();
        int[] tiles = cols.tiles();
        int[] singles = cols.singles();
        for (int y = y0; y < y1; y++) {
            int base = zo + oc0 * plane2 + y * ow;
            int ao = (y - y0) * rf;
            for (int j = 0; j < tiles.length; j++) {
                for (int h = 0; h < 4; h++) {
                    write4(acc, ao + j * 16 * L + 4 * h * L, outP, base + tiles[j] + h * L * plane2, plane2,
                            oc0 + h * L, biasP);
                }
            }
            int so = ao + tiles.length * 16 * L;
            for (int j = 0; j < singles.length; j++) {
                for (int h = 0; h < 4; h++) {
                    write(acc, so + j * 4 * L + h * L, outP, base + singles[j] + h * L * plane2, plane2,
                            oc0 + h * L, biasP);
                }
            }
        }
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
}
