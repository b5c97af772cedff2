package org.gpulrp.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.gpulrp.backend.Op;
import org.gpulrp.backend.StrideGrid;
import org.gpulrp.model.ConvGeometry;

/**
 * Vector API convolution primitives. Lanes run over consecutive output columns (forward) or input columns
 * (backward) of one row; each lane keeps its own output's chain in the contract's order, so the bits equal
 * {@link ScalarConv}'s. Vectors cover only the interior columns where every kernel column's tap is inside the
 * input (forward) or lands on an output (backward), and only where the horizontal stride is 1 (consecutive lanes
 * then read consecutive values); the border columns and strided forward maps run {@link ScalarConv}'s per-output
 * code. The backprojections go to the kernel for their shape: {@link ConvGemm}, {@link ChannelConv} (whole vectors
 * of input channels), {@link SpatialConv} (stride 1, rows of a vector), {@link PatchConv} (kernel equal to stride),
 * {@link StridedConv} (other strides: a column phase in lanes), else {@link ScalarConv}. A kernel row outside the
 * input is skipped for the whole vector, as it is for each lane.
 */
final class VectorConv implements ConvKernels {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    /** The per-output chains, for the shapes no vector kernel takes (rows narrower than a vector). */
    private static final ScalarConv SCALAR = new ScalarConv();

    /**
     * Whether the channel-lane kernels run their four-vector tiles in one pass (32 vector registers) or as two-vector
     * halves (16, where the one-pass tile spills): {@link VectorRegisters#wide}. Speed only, never bits.
     */
    private final boolean wide;
    /** Vectors per strip of {@link ConvGemm}'s products: the dense tile's width for these registers. */
    private final int gemmVectors;

    /** Kernels tiled for the machine's vector registers ({@link VectorRegisters#count}). */
    VectorConv() {
        this(VectorRegisters.count());
    }

    /** Kernels tiled for {@code registers} vector registers (16 or 32; tests run both on any machine). */
    VectorConv(int registers) {
        this.wide = VectorRegisters.wide(registers);
        this.gemmVectors = wide ? 4 : 2;
    }

    /**
     * The vector columns {@code [span[0], span[1])} of a row of {@code width} columns whose interior (all taps
     * valid) is {@code [lo, hi)}: whole vectors from lo; empty (both = width) where not one vector fits.
     */
    private static void span(int lo, int hi, int width, int[] span) {
        int n = hi - lo >= L ? (hi - lo) / L * L : 0;
        span[0] = n == 0 ? width : lo;
        span[1] = n == 0 ? width : lo + n;
    }

    /** Forward interior: output columns whose taps all lie in the input; none unless the stride is 1. */
    private static void fwdSpan(ConvGeometry g, int[] span) {
        int hi = g.strideW() != 1 ? 0 : Math.min(g.outW(), g.inW() + g.padW() - (g.kernelW() - 1) * g.dilationW());
        span(g.padW(), hi, g.outW(), span);
    }

    // ------------------------------------------------------------------------------------------------ forward

    /**
     * The packed layouts the products ({@link ConvGemm}, on the stride grid of a strided 1x1 layer: {@link Subsampled})
     * or {@link ChannelConv} read for {@code op} where they apply; the other kernels read none.
     */
    @Override
    public void prepare(Op op, ConvGeometry g, ConvWeights[] ws) {
        ConvGeometry grid = StrideGrid.of(g);
        switch (op) {
            case CONV, CONV_SIGNED, CONV_SIGNED_P -> {
                if (op == Op.CONV && grid != null && ConvGemm.applies(grid, false)) {
                    ConvGemm.prepare(ws[0], grid, false);
                } else if (op == Op.CONV && ConvGemm.applies(g, false)) {
                    ConvGemm.prepare(ws[0], g, false);
                } else if (op == Op.CONV ? plainChannelLanes(g) : ChannelConv.forward(g)) {
                    ChannelForward.prepare(ws[0], ws.length > 1 ? ws[1] : null, g);
                }
            }
            case CONV_BACKPROJECT, CONV_BACKPROJECT_SIGNED -> {
                if (op == Op.CONV_BACKPROJECT && grid != null && ConvGemm.applies(grid, true)) {
                    ConvGemm.prepare(ws[0], grid, true);
                } else if (op == Op.CONV_BACKPROJECT && ConvGemm.applies(g, true)) {
                    ConvGemm.prepare(ws[0], g, true);
                } else if (ChannelConv.backward(g)) {
                    ChannelBackward.prepare(ws[0], ws.length > 1 ? ws[1] : null, g);
                }
            }
            default -> {
            }
        }
    }

    /**
     * Outputs with at most this many taps take the plain forward's column-lane form ({@link #convRows}) even where
     * the channel-lane one applies: with so few fused multiply-adds per output, the channel-lane form's writes, one
     * value per channel plane, cost more (the 1x28x28 CNN's first layer, 9 taps: 1.3x faster this way; VGG-16's first,
     * 27 taps: level; its 576-tap layers: 2x slower).
     */
    static final int ROWS_MAX_TAPS = 16;

    /**
     * Whether the plain forward of {@code g} runs {@link ChannelConv}: where it applies, unless {@link #convRows}
     * takes the layer first (stride-1 rows a vector wide, at most {@link #ROWS_MAX_TAPS} taps).
     */
    static boolean plainChannelLanes(ConvGeometry g) {
        boolean rowsFirst = g.strideW() == 1 && g.outW() >= L
                && g.inPerGroup() * g.kernelH() * g.kernelW() <= ROWS_MAX_TAPS;
        return ChannelConv.forward(g) && !rowsFirst;
    }

    @Override
    public void conv(float[] x, ConvWeights wts, float[] bias, float[] z, int r0, int r1, ConvGeometry g) {
        if (ConvGemm.usable(g, wts, false)) {
            int plane = g.outH() * g.outW();
            ConvGemm.forward(gemmVectors, x, wts, bias, z, r0 * plane, r1 * plane, g);
            return;
        }
        float[] w = wts.data;
        boolean rows = g.strideW() == 1 && g.outW() >= L;
        boolean finite = !rows || Padding.finite(w); // convRows reads padded copies
        if (plainChannelLanes(g) || (!finite && ChannelConv.forward(g))) {
            ChannelConv.forward(wide, x, wts, null, bias, null, z, null, r0, r1, g);
            return;
        }
        if (rows && finite) {
            convRows(x, w, bias, z, r0, r1, g);
            return;
        }
        // strided rows, rows narrower than a vector, infinite weights: the scalar form
        int oh = g.outH();
        int ow = g.outW();
        for (int b = r0; b < r1; b++) {
            int xb = b * g.inSize();
            for (int oc = 0; oc < g.outChannels(); oc++) {
                for (int y = 0; y < oh; y++) {
                    int o = b * g.outSize() + (oc * oh + y) * ow;
                    for (int q = 0; q < ow; q++) {
                        z[o + q] = ScalarConv.withBias(ScalarConv.fwd(x, xb, w, g, oc, y, q), bias, oc);
                    }
                }
            }
        }
    }

    @Override
    public int pixelStrip(ConvGeometry g, ConvWeights w, boolean back) {
        return ConvGemm.usable(g, w, back) ? gemmVectors * L : 0;
    }

    @Override
    public void convPixels(float[] x, ConvWeights w, float[] bias, float[] z, int q0, int q1, ConvGeometry g) {
        ConvGemm.forward(gemmVectors, x, w, bias, z, q0, q1, g);
    }

    @Override
    public void convBackprojectPixels(float[] gr, ConvWeights w, float[] x, float[] r, int q0, int q1,
                                      ConvGeometry g) {
        ConvGemm.backward(gemmVectors, gr, w, x, r, q0, q1, g);
    }

    @Override
    public void convSigned(float[] x, ConvWeights uw, ConvWeights vw, float[] biasP, float[] biasN, float[] outP,
                           float[] outN, int r0, int r1, ConvGeometry g) {
        if (ChannelConv.forward(g)) {
            ChannelConv.forward(wide, x, uw, vw, biasP, biasN, outP, outN, r0, r1, g);
            return;
        }
        float[] u = uw.data;
        float[] v = vw.data;
        int oh = g.outH();
        int ow = g.outW();
        int[] sp = new int[2];
        fwdSpan(g, sp);
        float[] pn = new float[2];
        FloatVector[] pv = new FloatVector[2];
        for (int b = r0; b < r1; b++) {
            int xb = b * g.inSize();
            for (int oc = 0; oc < g.outChannels(); oc++) {
                for (int y = 0; y < oh; y++) {
                    int o = b * g.outSize() + (oc * oh + y) * ow;
                    for (int q = 0; q < ow; q++) {
                        if (q == sp[0]) {
                            for (; q < sp[1]; q += L) {
                                fwdSignedVec(x, xb, u, v, g, oc, y, q, pv);
                                (biasP == null ? pv[0] : pv[0].add(biasP[oc])).intoArray(outP, o + q);
                                if (outN != null) {
                                    (biasN == null ? pv[1] : pv[1].add(biasN[oc])).intoArray(outN, o + q);
                                }
                            }
                            if (q == ow) {
                                break;
                            }
                        }
                        ScalarConv.fwdSigned(x, xb, u, v, g, oc, y, q, pn);
                        outP[o + q] = ScalarConv.withBias(pn[0], biasP, oc);
                        if (outN != null) {
                            outN[o + q] = ScalarConv.withBias(pn[1], biasN, oc);
                        }
                    }
                }
            }
        }
    }

    private static void fwdSignedVec(float[] x, int xb, float[] u, float[] v, ConvGeometry g, int oc, int oh,
                                     int q0, FloatVector[] pn) {
        int cin = g.inPerGroup();
        int kh = g.kernelH();
        int kw = g.kernelW();
        int h = g.inH();
        int wi = g.inW();
        int dw = g.dilationW();
        int c0 = oc / g.outPerGroup() * cin;
        int ih0 = oh * g.strideH() - g.padH();
        FloatVector p = FloatVector.zero(S);
        FloatVector n = p;
        for (int cl = 0; cl < cin; cl++) {
            int xc = xb + (c0 + cl) * h * wi + q0 - g.padW();
            int wc = (oc * cin + cl) * kh * kw;
            for (int i = 0; i < kh; i++) {
                int ih = ih0 + i * g.dilationH();
                if (ih < 0 || ih >= h) {
                    continue;
                }
                int xr = xc + ih * wi;
                int wr = wc + i * kw;
                for (int j = 0; j < kw; j++) {
                    FloatVector xv = FloatVector.fromArray(S, x, xr + j * dw);
                    FloatVector uv = FloatVector.broadcast(S, u[wr + j]);
                    FloatVector vv = FloatVector.broadcast(S, v[wr + j]);
                    VectorMask<Float> pos = xv.compare(VectorOperators.GT, 0f);
                    p = xv.fma(vv.blend(uv, pos), p);
                    n = xv.fma(uv.blend(vv, pos), n);
                }
            }
        }
        pn[0] = p;
        pn[1] = n;
    }

    @Override
    public void convZBox(float[] x, float[] w, float[] low, float[] high, float[] d, int r0, int r1,
                         ConvGeometry g) {
        int oh = g.outH();
        int ow = g.outW();
        if (g.strideW() == 1 && ow >= L && Padding.finite(w)) {
            zboxRows(x, w, low, high, d, r0, r1, g);
            return;
        }
        if (StridedConv.forwardZBoxApplies(g, w)) {
            StridedConv.forwardZBox(x, w, low, high, d, r0, r1, g);
            return;
        }
        // rows narrower than a vector, or infinite weights: the scalar form
        for (int b = r0; b < r1; b++) {
            int xb = b * g.inSize();
            for (int oc = 0; oc < g.outChannels(); oc++) {
                for (int y = 0; y < oh; y++) {
                    int o = b * g.outSize() + (oc * oh + y) * ow;
                    for (int q = 0; q < ow; q++) {
                        d[o + q] = ScalarConv.fwdZBox(x, xb, w, low, high, g, oc, y, q);
                    }
                }
            }
        }
    }

    /**
     * The ZBox forward for stride-1 rows at least a vector wide: each sample's input and bounds are first copied into
     * planes padded with {@code padW} columns on each side, so every vector of output columns, the border ones
     * included, runs one unmasked kernel ({@link #zboxPadded}). A padding tap adds -0 to a chain (the padding values
     * below; the weights are finite, else the scalar form runs), which leaves it as it is, so the bits are those of
     * skipping the tap, as the scalar form does. (Zero padding added +0 for positive weights, which turned a chain
     * whose products had underflowed to -0 into +0.) A weight of exactly +0 still adds +0 there, so in a layer with
     * such weights every output that ends as +0 is computed again by the scalar chain ({@link Padding}). It
     * replaced per-lane masks and a scalar fallback at the borders.
     */
    private static void zboxRows(float[] x, float[] w, float[] low, float[] high, float[] d, int r0, int r1,
                                 ConvGeometry g) {
        int oh = g.outH();
        int ow = g.outW();
        int h = g.inH();
        int wi = g.inW();
        int pw = g.padW();
        int rowW = wi + 2 * pw;
        int plane = h * rowW;
        int channels = g.inChannels();
        int bounds = channels * plane;
        // Padding of -0 in the input and the upper bounds, +0 in the lower: a padding tap's product is then -0 for
        // either sign of its weight ((-0 - +0) w = -0 for w > 0, (-0 - -0) w = +0 w = -0 for w < 0), and adding -0
        // leaves every chain as it is, -0 included (a chain whose products underflowed); +0 would turn it to +0.
        float[] px = new float[bounds];
        java.util.Arrays.fill(px, -0f);
        // the lower bounds, then the upper: a tap picks its half by an offset, not by choosing between two arrays
        float[] lohi = new float[2 * bounds];
        java.util.Arrays.fill(lohi, bounds, 2 * bounds, -0f);
        pad(low, 0, lohi, 0, channels, h, wi, pw);
        pad(high, 0, lohi, bounds, channels, h, wi, pw);
        int cin = g.inPerGroup();
        int taps = g.kernelH() * g.kernelW();
        int[][] off = new int[oh][];
        int[][] tap = new int[oh][];
        paddedTaps(g, rowW, off, tap);
        boolean repair = Padding.plusZero(w);
        for (int b = r0; b < r1; b++) {
            pad(x, b * g.inSize(), px, 0, channels, h, wi, pw);
            for (int oc = 0; oc < g.outChannels(); oc++) {
                int c0 = oc / g.outPerGroup() * cin * plane;
                int wb = oc * cin * taps;
                for (int y = 0; y < oh; y++) {
                    int o = b * g.outSize() + (oc * oh + y) * ow;
                    for (int q = 0; q < ow; q += L) {
                        int q0 = Math.min(q, ow - L);
                        zboxPadded(px, lohi, bounds, w, wb, off[y], tap[y], c0 + q0, d, o + q0);
                    }
                    if (repair) {
                        Padding.repair(x, w, low, high, d, o, b, oc, y, g);
                    }
                }
            }
        }
    }

    /**
     * The ZBox chains of one vector of output columns over the padded planes, stored at {@code d[o]}: one loop
     * over the row's tap table (input offsets from {@code base}, weight indices from {@code wb}), the upper bounds
     * {@code bounds} floats after the lower ones in {@code lohi}. One flat loop: with the chain carried through the
     * nested channel, row and column loops, C2 on Java 17 left the fused multiply-add on the Vector API's Java
     * fallback (JFR: a 1-channel first layer at about 5 GFLOP/s).
     */
    private static void zboxPadded(float[] x, float[] lohi, int bounds, float[] w, int wb, int[] off, int[] tap,
                                   int base, float[] d, int o) {
        FloatVector acc = FloatVector.zero(S);
        for (int t = 0; t < off.length; t++) {
            int e = base + off[t];
            float ww = w[wb + tap[t]];
            FloatVector bound = FloatVector.fromArray(S, lohi, e + (ww > 0 ? 0 : bounds));
            acc = FloatVector.fromArray(S, x, e).sub(bound).fma(FloatVector.broadcast(S, ww), acc);
        }
        acc.intoArray(d, o);
    }

    /**
     * Each output row's taps that fall inside the input, in the scalar form's order (channel, kernel row, column),
     * for stride-1 rows over planes padded by {@code padW} on each side ({@code rowW} wide): input offsets relative
     * to the channel group's first plane and the vector's first column, and weight indices relative to the output
     * channel's first weight.
     */
    private static void paddedTaps(ConvGeometry g, int rowW, int[][] off, int[][] tap) {
        int cin = g.inPerGroup();
        int h = g.inH();
        int plane = h * rowW;
        int taps = g.kernelH() * g.kernelW();
        for (int y = 0; y < g.outH(); y++) {
            int[] o1 = new int[cin * taps];
            int[] t1 = new int[cin * taps];
            int n = 0;
            for (int cl = 0; cl < cin; cl++) {
                for (int i = 0; i < g.kernelH(); i++) {
                    int ih = y * g.strideH() - g.padH() + i * g.dilationH();
                    if (ih < 0 || ih >= h) {
                        continue;
                    }
                    for (int jj = 0; jj < g.kernelW(); jj++) {
                        o1[n] = cl * plane + ih * rowW + jj * g.dilationW();
                        t1[n++] = cl * taps + i * g.kernelW() + jj;
                    }
                }
            }
            off[y] = java.util.Arrays.copyOf(o1, n);
            tap[y] = java.util.Arrays.copyOf(t1, n);
        }
    }

    /**
     * The plain forward for stride-1 rows at least a vector wide, as {@link #zboxRows} does the ZBox one: each
     * sample's input copied twice into planes padded with {@code padW} columns on each side, one copy padded with -0
     * (read by taps whose weight's sign bit is clear) and one with +0 (the others), so that a padding tap's product
     * is -0 and leaves the chain as it is (the scalar form skips it). Every vector of a row runs unmasked, four at a
     * time through one flat loop over the row's taps ({@link #convPadded}): a row's vectors, or, where a row has
     * fewer than four, the same row of several samples (a 28-column row has two, which were computed twice over).
     * Before, only the vectors wholly inside the input ran vectorized, one chain each, and the rest of a row went
     * through the scalar form: the 1x28x28 CNN's first layer (one interior vector of 28 columns) ran at about 12
     * GFLOP/s a core.
     */
    private static void convRows(float[] x, float[] w, float[] bias, float[] z, int r0, int r1, ConvGeometry g) {
        int oh = g.outH();
        int ow = g.outW();
        int wi = g.inW();
        int pw = g.padW();
        int rowW = wi + 2 * pw;
        int plane = g.inH() * rowW;
        int copy = g.inChannels() * plane;
        int nv = (ow + L - 1) / L;
        int group = SpatialConv.samplesPerSet(nv);
        float[] px = new float[group * 2 * copy];
        for (int s = 0; s < group; s++) {
            java.util.Arrays.fill(px, s * 2 * copy, s * 2 * copy + copy, -0f);
        }
        int cin = g.inPerGroup();
        int taps = g.kernelH() * g.kernelW();
        int[][] off = new int[oh][];
        int[][] tap = new int[oh][];
        paddedTaps(g, rowW, off, tap);
        int[] read = new int[4];
        int[] write = new int[4];
        for (int b0 = r0; b0 < r1; b0 += group) {
            int samples = Math.min(group, r1 - b0);
            for (int s = 0; s < samples; s++) {
                pad(x, (b0 + s) * g.inSize(), px, s * 2 * copy, g.inChannels(), g.inH(), wi, pw);
                pad(x, (b0 + s) * g.inSize(), px, s * 2 * copy + copy, g.inChannels(), g.inH(), wi, pw);
            }
            for (int gr = 0; gr < g.groups(); gr++) {
                int c0 = gr * cin * plane;
                int oc0 = gr * g.outPerGroup();
                for (int y = 0; y < oh; y++) {
                    int o = b0 * g.outSize() + y * ow;
                    for (int v0 = 0; v0 < nv; v0 += 4) {
                        int q0 = SpatialConv.vectorSet(v0, ow, samples, 2 * copy, g.outSize(), read, write);
                        convPadded(px, copy, w, cin * taps, off[y], tap[y], c0 + q0, read, bias, oc0,
                                oc0 + g.outPerGroup(), oh * ow, z, o + q0, write);
                    }
                }
            }
        }
    }

    /**
     * Four vectors of {@link #convRows} for each output channel {@code oc} in {@code [oc0, oc1)} (weights from
     * {@code oc * perOc}, outputs a {@code plane} apart): each vector reads the padded copies from {@code base +
     * read[q]} and is stored from {@code z[o + oc * plane + write[q]]} (columns of one row, or the same row of other
     * samples); one loop over the row's taps per channel, each tap reading the padded copy its weight's sign bit
     * picks. The channels run inside one call: with a 1-channel input a row has 9 taps, and a call per channel cost
     * more than its fused multiply-adds.
     */
    private static void convPadded(float[] p, int copy, float[] w, int perOc, int[] off, int[] tap, int base,
                                   int[] read, float[] bias, int oc0, int oc1, int plane, float[] z, int o,
                                   int[] write) {
        int b0 = base + read[0];
        int d1 = read[1] - read[0];
        int d2 = read[2] - read[0];
        int d3 = read[3] - read[0];
        int w0 = write[0];
        int w1 = write[1];
        int w2 = write[2];
        int w3 = write[3];
        for (int oc = oc0; oc < oc1; oc++) {
            int wb = oc * perOc;
            FloatVector c0 = FloatVector.zero(S);
            FloatVector c1 = FloatVector.zero(S);
            FloatVector c2 = FloatVector.zero(S);
            FloatVector c3 = FloatVector.zero(S);
            for (int t = 0; t < off.length; t++) {
                float ww = w[wb + tap[t]];
                int e = b0 + off[t] + ((Float.floatToRawIntBits(ww) >> 31) & copy);
                FloatVector wv = FloatVector.broadcast(S, ww);
                c0 = FloatVector.fromArray(S, p, e).fma(wv, c0);
                c1 = FloatVector.fromArray(S, p, e + d1).fma(wv, c1);
                c2 = FloatVector.fromArray(S, p, e + d2).fma(wv, c2);
                c3 = FloatVector.fromArray(S, p, e + d3).fma(wv, c3);
            }
            if (bias != null) {
                c0 = c0.add(bias[oc]);
                c1 = c1.add(bias[oc]);
                c2 = c2.add(bias[oc]);
                c3 = c3.add(bias[oc]);
            }
            int oo = o + oc * plane;
            c0.intoArray(z, oo + w0);
            c1.intoArray(z, oo + w1);
            c2.intoArray(z, oo + w2);
            c3.intoArray(z, oo + w3);
        }
    }

    /**
     * {@code channels} planes of {@code h x wi} from {@code src[from]} into {@code dst[to]}, rows padded by {@code pw}
     * (the padding is left as it is).
     */
    private static void pad(float[] src, int from, float[] dst, int to, int channels, int h, int wi, int pw) {
        int rowW = wi + 2 * pw;
        for (int c = 0; c < channels; c++) {
            for (int r = 0; r < h; r++) {
                System.arraycopy(src, from + (c * h + r) * wi, dst, to + (c * h + r) * rowW + pw, wi);
            }
        }
    }

    // ------------------------------------------------------------------------------------------------ backward

    @Override
    public void convBackproject(float[] gr, ConvWeights wts, float[] x, float[] r, int r0, int r1, ConvGeometry g) {
        if (ConvGemm.usable(g, wts, true)) {
            int plane = g.inH() * g.inW();
            ConvGemm.backward(gemmVectors, gr, wts, x, r, r0 * plane, r1 * plane, g);
        } else if (ChannelConv.backward(g)) {
            ChannelConv.backward(wide, gr, null, wts, null, x, r, r0, r1, g);
        } else if (SpatialConv.applies(g)) {
            SpatialConv.backward(gr, null, wts.data, null, x, r, r0, r1, g);
        } else if (PatchConv.applies(g)) {
            PatchConv.backward(gr, null, wts.data, null, x, r, r0, r1, g);
        } else if (StridedConv.applies(g)) {
            StridedConv.backward(gr, null, wts.data, null, x, r, r0, r1, g);
        } else {
            SCALAR.convBackproject(gr, wts, x, r, r0, r1, g);
        }
    }

    @Override
    public void convBackprojectSigned(float[] hp, float[] hn, ConvWeights uw, ConvWeights vw, float[] x, float[] r,
                                      int r0, int r1, ConvGeometry g) {
        if (ChannelConv.backward(g)) {
            ChannelConv.backward(wide, hp, hn, uw, vw, x, r, r0, r1, g);
        } else if (SpatialConv.applies(g)) {
            SpatialConv.backward(hp, hn, uw.data, vw.data, x, r, r0, r1, g);
        } else if (PatchConv.applies(g)) {
            PatchConv.backward(hp, hn, uw.data, vw.data, x, r, r0, r1, g);
        } else if (StridedConv.applies(g)) {
            StridedConv.backward(hp, hn, uw.data, vw.data, x, r, r0, r1, g);
        } else {
            SCALAR.convBackprojectSigned(hp, hn, uw, vw, x, r, r0, r1, g);
        }
    }

    @Override
    public void convBackprojectZBox(float[] gr, float[] w, float[] wpos, float[] wneg, float[] x, float[] low,
                                    float[] high, float[] r, int r0, int r1, ConvGeometry g) {
        if (SpatialConv.applies(g)) {
            SpatialConv.backwardZBox(gr, w, wpos, wneg, x, low, high, r, r0, r1, g);
        } else if (StridedConv.applies(g)) {
            StridedConv.backwardZBox(gr, w, wpos, wneg, x, low, high, r, r0, r1, g);
        } else {
            SCALAR.convBackprojectZBox(gr, w, wpos, wneg, x, low, high, r, r0, r1, g);
        }
    }
}
