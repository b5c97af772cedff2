package org.gpulrp.backend.cpu;

import java.util.List;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.gpulrp.model.ConvGeometry;

/**
 * Stride-1 convolutions whose planes keep their size (the "same" 3x3 layers of VGG and ResNet, their 1x1 layers),
 * plain forward map and plain backprojection, run on {@link DenseProduct}'s packed tile as products
 * {@code c[row, pixel] = chain_k A[row, k] X[k, pixel]}. Forward, the rows are the output channels and k runs over
 * (input channel, kernel row, kernel column); backward, the rows are the input channels and k runs over (output
 * channel, kernel row, kernel column): the contract's orders (docs/DESIGN.md section 3, rule 1). A's rows are the
 * weights, packed once in the tile's five-row panels ({@link #panels}); X is built per strip of {@code sv L} pixels
 * ({@link #pack}): since the planes keep their size, a tap is a constant offset in the plane, so a tap's values for
 * L pixels are one contiguous load, blended with -0 in the lanes where the tap falls outside the plane.
 *
 * <p>The bits. An interior pixel's chain is the contract's chain. At a border pixel a tap outside the plane is not
 * skipped but adds -0 times the weight, a zero: that changes the chain only where it is -0 at that tap (underflowed)
 * and the weight's sign bit is set (-0 + +0 = +0), and two chains that differ only in the sign of a zero are equal
 * again after the next product whose exact value is not zero. So a border chain can differ from the contract's only
 * by ending as +0 where the contract's ends as -0. The epilogue recomputes every border chain that ends as +0 with
 * {@link ScalarConv}'s chain, unless every input its pixel reads is a zero (then every product is a zero, and the
 * contract's chain stays +0 from its start). -0 times an infinite or NaN weight is NaN, so layers whose weights are
 * not all finite are left to the other kernels ({@link #panels} marks them with an empty layout).
 */
final class ConvGemm {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    private static final FloatVector NEG_ZERO = FloatVector.broadcast(S, -0f);


    /** Fewest rows (channels of the product's rows a group) for which the products pay. */
    static final int MIN_ROWS = 16;

    /**
     * Fewest taps per chain for which the products pay: VGG-16's first layer (27 taps a chain) ran 1.2-1.4x slower
     * this way than in the column-lane rows form ({@code PrimitiveTimes}, fresh JVMs alternated).
     */
    static final int MIN_TAPS = 64;

    /** Each thread's block of the strip of X and the strip's chains, grown on demand. */
    private static final ThreadLocal<float[]> STRIP = ThreadLocal.withInitial(() -> new float[0]);
    private static final ThreadLocal<float[]> CHAINS = ThreadLocal.withInitial(() -> new float[0]);

    /** Which lanes of a tap's vector read the plane ({@link #kind}). */
    private static final byte NONE = 0;
    private static final byte SOME = 1;
    private static final byte ALL = 2;

    /** Whether the inputs a border lane reads are all zeros ({@link #inputs}): not yet known, yes, no. */
    private static final byte UNKNOWN = 0;
    private static final byte ZEROS = 1;
    private static final byte NONZERO = 2;

    private final int sv;
    private final int w;
    private final ConvGeometry g;
    private final boolean back;
    private final float[] a;
    private final float[] src;
    private final float[] weights;
    private final float[] bias;
    private final float[] xmul;
    private final float[] dst;
    private final int h;
    private final int wd;
    private final int hw;
    /** Rows and source channels a group, taps a channel, taps a chain, floats of a group's panels. */
    private final int rows;
    private final int ch;
    private final int taps;
    private final int k;
    private final int span;
    private final int srcSize;
    private final int dstSize;
    /** Tap t's offset in rows and columns of the source plane. */
    private final int[] dy;
    private final int[] dx;
    private final int minDy;
    private final int maxDy;
    private final int minDx;
    private final int maxDx;
    /**
     * The strip's lanes: sample, plane row and column (a lane past the strip's pixels: a row far outside), the border
     * lanes (some tap outside the plane) and whether their inputs are zeros.
     */
    private final int[] bs;
    private final int[] ys;
    private final int[] xs;
    private final int[] border;
    private int borders;
    private final byte[] inputs;
    /** Per tap and vector of the strip: which of {@link #NONE}, {@link #SOME}, {@link #ALL} lanes read the plane. */
    private final byte[] kind;
    private final float[] keep;
    /** Per vector of the strip: whether its lanes reach into the next sample, and (1) those that do. */
    private final boolean[] split;
    private final float[] second;
    private float[] strip;

    private ConvGemm(int sv, ConvGeometry g, boolean back, float[] a, float[] src, float[] weights, float[] bias,
                     float[] xmul, float[] dst) {
        this.sv = sv;
        this.w = sv * L;
        this.g = g;
        this.back = back;
        this.a = a;
        this.src = src;
        this.weights = weights;
        this.bias = bias;
        this.xmul = xmul;
        this.dst = dst;
        h = g.inH();
        wd = g.inW();
        hw = h * wd;
        rows = back ? g.inPerGroup() : g.outPerGroup();
        ch = back ? g.outPerGroup() : g.inPerGroup();
        taps = g.kernelH() * g.kernelW();
        k = ch * taps;
        span = panelRows(rows) * k;
        srcSize = back ? g.outSize() : g.inSize();
        dstSize = back ? g.inSize() : g.outSize();
        dy = new int[taps];
        dx = new int[taps];
        int s = back ? -1 : 1;
        for (int i = 0; i < g.kernelH(); i++) {
            for (int j = 0; j < g.kernelW(); j++) {
                dy[i * g.kernelW() + j] = s * (i * g.dilationH() - g.padH());
                dx[i * g.kernelW() + j] = s * (j * g.dilationW() - g.padW());
            }
        }
        minDy = java.util.Arrays.stream(dy).min().getAsInt();
        maxDy = java.util.Arrays.stream(dy).max().getAsInt();
        minDx = java.util.Arrays.stream(dx).min().getAsInt();
        maxDx = java.util.Arrays.stream(dx).max().getAsInt();
        bs = new int[w];
        ys = new int[w];
        xs = new int[w];
        border = new int[w];
        inputs = new byte[w];
        kind = new byte[taps * sv];
        keep = new float[taps * sv * L];
        split = new boolean[sv];
        second = new float[w];
    }

    /**
     * Whether the products apply to the plain forward map ({@code back} false) or the plain backprojection of g:
     * stride 1, planes that keep their size, and enough rows and taps.
     */
    static boolean applies(ConvGeometry g, boolean back) {
        if (g.strideH() != 1 || g.strideW() != 1 || g.outH() != g.inH() || g.outW() != g.inW()
                || g.inH() * g.inW() < L) {
            return false;
        }
        int rows = back ? g.inPerGroup() : g.outPerGroup();
        int ch = back ? g.outPerGroup() : g.inPerGroup();
        return rows >= MIN_ROWS && ch * g.kernelH() * g.kernelW() >= MIN_TAPS;
    }

    /** Makes the weight panels a call reads, as {@link CpuBackend#prepareConv} keeps them with the buffer. */
    static void prepare(ConvWeights u, ConvGeometry g, boolean back) {
        panels(u, g, back);
    }

    /** Whether the products run conv ({@code back} false) or convBackproject of g with weights u. */
    static boolean usable(ConvGeometry g, ConvWeights u, boolean back) {
        return applies(g, back) && panels(u, g, back).length > 0;
    }

    /**
     * The plain forward map {@code z = chain(u, x) + bias} of pixels {@code [q0, q1)} of the batch (pixel q: sample
     * {@code q / plane}), where {@link #usable}.
     */
    static void forward(int sv, float[] x, ConvWeights u, float[] bias, float[] z, int q0, int q1, ConvGeometry g) {
        new ConvGemm(sv, g, false, panels(u, g, false), x, u.data, bias, null, z).pixels(q0, q1);
    }

    /**
     * The plain backprojection {@code r = x == null ? c : x c}, {@code c = chain(u, gr)}, of pixels {@code [q0, q1)}
     * of the batch, where {@link #usable}.
     */
    static void backward(int sv, float[] gr, ConvWeights u, float[] x, float[] r, int q0, int q1, ConvGeometry g) {
        new ConvGemm(sv, g, true, panels(u, g, true), gr, u.data, null, x, r).pixels(q0, q1);
    }

    private static int panelRows(int rows) {
        return (rows + DenseProduct.PANEL - 1) / DenseProduct.PANEL * DenseProduct.PANEL;
    }

    /**
     * The weights as A, group after group in {@link DenseProduct#packRows}' five-row panels: forward
     * {@code A[oc, (ic, kh, kw)]} (PyTorch's layout already), backward {@code A[ic, (oc, kh, kw)]}; empty where a
     * weight is not finite.
     */
    private static float[] panels(ConvWeights u, ConvGeometry g, boolean back) {
        return u.layout(List.of(back ? "gemm-backward" : "gemm-forward", g), () -> packWeights(u.data, g, back));
    }

    private static float[] packWeights(float[] w, ConvGeometry g, boolean back) {
        for (float v : w) {
            if (!Float.isFinite(v)) {
                return new float[0];
            }
        }
        int og = g.outPerGroup();
        int cin = g.inPerGroup();
        int t = g.kernelH() * g.kernelW();
        int rows = back ? cin : og;
        int k = (back ? og : cin) * t;
        int span = panelRows(rows) * k;
        float[] out = new float[g.groups() * span];
        float[] at = back ? new float[rows * k] : null;
        for (int grp = 0; grp < g.groups(); grp++) {
            if (!back) {
                DenseProduct.packRows(w, k, grp * og, grp * og + og, out, grp * span);
                continue;
            }
            for (int ic = 0; ic < cin; ic++) {
                for (int oc = 0; oc < og; oc++) {
                    System.arraycopy(w, ((grp * og + oc) * cin + ic) * t, at, ic * k + oc * t, t);
                }
            }
            DenseProduct.packRows(at, k, 0, rows, out, grp * span);
        }
        return out;
    }

    /**
     * Pixels {@code [q0, q1)} of the batch: every group, every strip of them, a block of channels at a time (the
     * strip's taps of those channels, about 32 KiB, built and run past every row's panel while they are in L1).
     */
    private void pixels(int q0, int q1) {
        int cb = Math.max(1, DenseProduct.tapsPerBlock(sv) / taps);
        strip = scratch(STRIP, cb * taps * w);
        float[] acc = scratch(CHAINS, panelRows(rows) * w);
        int panels = panelRows(rows) / DenseProduct.PANEL;
        // The weights of a group stream past each block of the strip (from L3 where they do not fit L2: 9.4 MB at
        // 512 channels). Packing the strip again for each L2-sized chunk of rows, so that the chunk stays in L2, was
        // slower (VGG-16's 512-channel layers 1.3x, one core). The strips run over the samples' pixels one after
        // another, so a plane of 14 x 14 fills its strips.
        for (int grp = 0; grp < g.groups(); grp++) {
            for (int s0 = q0; s0 < q1; s0 += w) {
                int n = Math.min(w, q1 - s0);
                lanes(s0, n);
                java.util.Arrays.fill(acc, 0, panels * DenseProduct.PANEL * w, 0f);
                for (int c0 = 0; c0 < ch; c0 += cb) {
                    int c1 = Math.min(ch, c0 + cb);
                    pack(grp, c0, c1);
                    int k0 = c0 * taps;
                    int k1 = c1 * taps;
                    for (int pn = 0; pn < panels; pn++) {
                        int b = pn * DenseProduct.PANEL;
                        DenseProduct.tile(sv, a, grp * span + b * k, strip, -k0 * w, acc, b,
                                Math.min(DenseProduct.PANEL, rows - b), k0, k1);
                    }
                }
                store(acc, grp, s0, n);
            }
        }
    }

    private static float[] scratch(ThreadLocal<float[]> slot, int floats) {
        float[] f = slot.get();
        if (f.length < floats) {
            f = new float[floats];
            slot.set(f);
        }
        return f;
    }

    /**
     * The lanes of the strip of the n pixels of the batch from {@code q0} (pixel q: sample {@code q / hw}): their
     * samples, rows and columns, the border lanes, and which lanes of each tap's vectors read the plane.
     */
    private void lanes(int q0, int n) {
        borders = 0;
        for (int j = 0; j < w; j++) {
            int q = q0 + Math.min(j, n - 1);
            int p = q % hw;
            bs[j] = q / hw;
            ys[j] = j < n ? p / wd : -(1 << 20);
            xs[j] = p % wd;
            boolean edge = j < n && (ys[j] + minDy < 0 || ys[j] + maxDy >= h || xs[j] + minDx < 0
                    || xs[j] + maxDx >= wd);
            if (edge) {
                border[borders++] = j;
                inputs[j] = UNKNOWN;
            }
        }
        // Each tap and vector's lanes inside the plane, the same for every channel: all, none, or those set in keep;
        // a vector whose lanes reach into the next sample (split) reads those from there.
        for (int v = 0; v < sv; v++) {
            split[v] = bs[v * L + L - 1] != bs[v * L];
            for (int l = 0; l < L; l++) {
                second[v * L + l] = bs[v * L + l] != bs[v * L] ? 1f : 0f;
            }
        }
        for (int tv = 0; tv < taps * sv; tv++) {
            int t = tv / sv;
            int v = tv % sv;
            int set = 0;
            for (int l = 0; l < L; l++) {
                int y = ys[v * L + l] + dy[t];
                int x = xs[v * L + l] + dx[t];
                boolean in = y >= 0 && y < h && x >= 0 && x < wd;
                keep[tv * L + l] = in ? 1f : 0f;
                set += in ? 1 : 0;
            }
            kind[tv] = set == 0 ? NONE : set == L && !split[v] ? ALL : SOME;
        }
    }

    /**
     * X's taps of channels {@code [c0, c1)} of group {@code grp} for the strip {@link #lanes} described: tap k =
     * (channel c, tap t) of lane j at {@code strip[w (k - c0 taps) + j]}, the source at the pixel moved by the tap, or
     * -0 outside the plane (and in lanes past the strip's pixels, which are never stored).
     */
    private void pack(int grp, int c0, int c1) {
        // A tap and vector at a time over all channels (1.05-1.15x faster than a channel at a time over all taps on
        // VGG-16's 64- and 128-channel layers, one core).
        int cs = taps * w;
        int jump = srcSize - hw;
        for (int tv = 0; tv < taps * sv; tv++) {
            int t = tv / sv;
            int v = tv % sv;
            int j = v * L;
            int d = t * w + j;
            if (kind[tv] == NONE) {
                for (int c = c0; c < c1; c++) {
                    NEG_ZERO.intoArray(strip, d + (c - c0) * cs);
                }
                continue;
            }
            // the first lane is one of the n pixels (else no lane of the vector is): ys[j] is a row of the plane
            int s = bs[j] * srcSize + (grp * ch + c0) * hw + (ys[j] + dy[t]) * wd + xs[j] + dx[t];
            int nc = c1 - c0;
            int last = s + (nc - 1) * hw + L + (split[v] ? jump : 0);
            if (kind[tv] == ALL) {
                copyRun(src, s, hw, strip, d, cs, nc);
            } else if (s >= 0 && last <= src.length && !split[v]) {
                blendRun(src, s, hw, strip, d, cs, nc, keep, tv * L);
            } else if (s >= 0 && last <= src.length) {
                splitRun(src, s, jump, hw, strip, d, cs, nc, keep, tv * L, second, j);
            } else {
                for (int c = 0; c < nc; c++) {
                    for (int l = 0; l < L; l++) {
                        strip[d + c * cs + l] = keep[tv * L + l] == 0f ? -0f
                                : src[s + c * hw + l + (second[j + l] != 0f ? jump : 0)];
                    }
                }
            }
        }
    }

    // The three copies of pack, each a loop over channels with running indices and few live values. (Written inline
    // in pack, C2 kept the loop's indices on the stack and multiplied them out every trip; the CNN ran level either
    // way, so the memory the copies touch, not their instructions, sets their pace.)

    /** n vectors from {@code src[s + i ss]} to {@code dst[d + i ds]}. */
    private static void copyRun(float[] src, int s, int ss, float[] dst, int d, int ds, int n) {
        for (int i = 0; i < n; i++, s += ss, d += ds) {
            FloatVector.fromArray(S, src, s).intoArray(dst, d);
        }
    }

    /** As {@link #copyRun}, with -0 in the lanes where {@code keep[ko ..]} is 0. */
    private static void blendRun(float[] src, int s, int ss, float[] dst, int d, int ds, int n, float[] keep, int ko) {
        VectorMask<Float> out = FloatVector.fromArray(S, keep, ko).compare(VectorOperators.EQ, 0f);
        for (int i = 0; i < n; i++, s += ss, d += ds) {
            FloatVector.fromArray(S, src, s).blend(NEG_ZERO, out).intoArray(dst, d);
        }
    }

    /** As {@link #blendRun}, the lanes where {@code second[so ..]} is not 0 read {@code jump} floats further. */
    private static void splitRun(float[] src, int s, int jump, int ss, float[] dst, int d, int ds, int n, float[] keep,
                                 int ko, float[] second, int so) {
        VectorMask<Float> out = FloatVector.fromArray(S, keep, ko).compare(VectorOperators.EQ, 0f);
        VectorMask<Float> next = FloatVector.fromArray(S, second, so).compare(VectorOperators.NE, 0f);
        for (int i = 0; i < n; i++, s += ss, d += ds) {
            FloatVector.fromArray(S, src, s).blend(FloatVector.fromArray(S, src, s + jump), next)
                    .blend(NEG_ZERO, out).intoArray(dst, d);
        }
    }

    /** Whether any input border lane j of group {@code grp} reads (a tap inside the plane) is not a zero. */
    private boolean readsNonZero(int grp, int j) {
        if (inputs[j] == UNKNOWN) {
            byte state = ZEROS;
            int base = bs[j] * srcSize + grp * ch * hw;
            for (int t = 0; t < taps && state == ZEROS; t++) {
                int y = ys[j] + dy[t];
                int x = xs[j] + dx[t];
                if (y < 0 || y >= h || x < 0 || x >= wd) {
                    continue;
                }
                for (int c = 0, o = base + y * wd + x; c < ch; c++, o += hw) {
                    if (src[o] != 0f) {
                        state = NONZERO;
                        break;
                    }
                }
            }
            inputs[j] = state;
        }
        return inputs[j] == NONZERO;
    }

    /**
     * The chains of every row of group {@code grp} for the strip's n pixels from {@code q0}, border chains ending as
     * +0 recomputed, to their outputs: plus bias forward, times x backward (where x is given); a run of the strip's
     * lanes in one sample at a time.
     */
    private void store(float[] acc, int grp, int q0, int n) {
        for (int i = 0; i < rows; i++) {
            int ai = i * w;
            int row = grp * rows + i;
            for (int e = 0; e < borders; e++) {
                int j = border[e];
                if (Float.floatToRawIntBits(acc[ai + j]) == 0 && readsNonZero(grp, j)) {
                    int sb = bs[j] * srcSize;
                    acc[ai + j] = back ? ScalarConv.back(src, sb, weights, g, row, ys[j], xs[j])
                            : ScalarConv.fwd(src, sb, weights, g, row, ys[j], xs[j]);
                }
            }
            for (int j0 = 0, j1; j0 < n; j0 = j1) {
                int q = q0 + j0;
                j1 = Math.min(n, j0 + hw - q % hw);
                int o = q / hw * dstSize + row * hw + q % hw;
                storeRun(acc, ai + j0, o, j1 - j0, row);
            }
        }
    }

    /** m chains from {@code acc[ai]} to {@code dst[o]}, plus the bias of row {@code row} or times x. */
    private void storeRun(float[] acc, int ai, int o, int m, int row) {
        int j = 0;
        if (back && xmul != null) {
            for (; j + L <= m; j += L) {
                FloatVector.fromArray(S, xmul, o + j).mul(FloatVector.fromArray(S, acc, ai + j)).intoArray(dst, o + j);
            }
            for (; j < m; j++) {
                dst[o + j] = xmul[o + j] * acc[ai + j];
            }
        } else if (back || bias == null) {
            System.arraycopy(acc, ai, dst, o, m);
        } else {
            float bv = bias[row];
            for (; j + L <= m; j += L) {
                FloatVector.fromArray(S, acc, ai + j).add(bv).intoArray(dst, o + j);
            }
            for (; j < m; j++) {
                dst[o + j] = acc[ai + j] + bv;
            }
        }
    }
}
