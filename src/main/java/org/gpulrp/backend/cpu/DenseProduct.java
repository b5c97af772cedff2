package org.gpulrp.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The plain dense product of {@link VectorKernels}: {@code c[b,j] = epilogue(chain_k fma(a[b,k], m[k,j]))}, each
 * output one chain in ascending k (docs/DESIGN.md section 3, rule 1), with register tiles of five rows by
 * {@code sv} vectors ({@code sv} = 4 with 32 vector registers, 2 with 16; {@link VectorRegisters}). Operands are
 * laid out for the micro-kernels first where the pass repays it (at least {@link #PACK_MIN_ROWS} rows and at least
 * {@link #PACK_MIN_STRIPS} strips): the columns of m in strips of {@code sv L} (prepared once with the weights,
 * {@link #strips}, or packed per call) and the rows of a in five-row panels, tap-major ({@link #packRows}), so that
 * each kernel loop reads two base indices with constant strides. Smaller passes, and the columns after the last
 * strip, read both operands in place with five-row by two-vector tiles ({@link #rows5x2}); the last columns of all,
 * fewer than two vectors, go through {@link #tile8x1} and a zero-padded strip.
 */
final class DenseProduct {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();

    /** Epilogues: the bare chains, plus a bias per column, or times x (same shape as c). */
    static final int STORE = 0;
    static final int ADD_BIAS = 1;
    static final int MUL_X = 2;

    /**
     * Floats of a pass's rows of a packed at a time (a chunk of whole row blocks, or all of them) and kept in L2 while
     * every strip passes over them: 512 KiB, or 5/8 of an L2 of 2 MiB or more (Intel's server cores: with a strip
     * beside them the rows still fit, and BERT-base's 384 x 768 passes keep their strips in L2 instead of streaming
     * them from L3 once per row block: 127 -> 141 GFLOP/s on one core at 384 x 768 x 3072).
     */
    private static final long A_IN_L2 = aInL2(CacheSize.l2());

    static long aInL2(long l2Bytes) {
        return l2Bytes >= 2L << 20 ? l2Bytes / Float.BYTES * 5 / 8 : 128 * 1024;
    }

    /**
     * Taps per block of the four-vector strips: the block's [KD, 4L] panel is 32 KiB with 512-bit vectors (two-vector
     * strips take blocks of 2 KD taps, the same panel size).
     */
    private static final int KD = 128;

    /** Taps per block of strips of sv vectors: a block of the strip is 32 KiB with 512-bit vectors. */
    static int tapsPerBlock(int sv) {
        return KD * 4 / sv;
    }

    /**
     * {@link #tile5x4} (sv 4) or {@link #tile5x2} (sv 2): continues the chains of rows {@code b .. b+n-1} of c (row
     * stride {@code sv L}) over taps {@code [k0, k1)}, the rows' panel at {@code ap[ao]}, tap k of the strip at
     * {@code m[moff + sv L k]}.
     */
    static void tile(int sv, float[] ap, int ao, float[] m, int moff, float[] c, int b, int n, int k0, int k1) {
        if (sv == 4) {
            tile5x4(ap, ao, m, moff, c, b, n, 0, 4 * L, k0, k1);
        } else {
            tile5x2(ap, ao, m, moff, c, b, n, 0, 2 * L, k0, k1);
        }
    }

    /** Rows per block (twelve five-row tiles): the block's chains and its row panels stay in L1/L2. */
    private static final int RD = 60;

    /**
     * Rows per packed panel, and so per packed tile: five rows by four vectors (20 chains) rather than six (24), as
     * the six-row tile crossed Java 17's inlining node budget inside its loop and its stores then fell back to
     * element-wise Java code in some compiles (docs/DESIGN.md section 3, "Kernel size on Java 17").
     */
    static final int PANEL = 5;

    /**
     * Fewest column strips for which the rows are packed: packing a row costs about as much as one strip's product
     * of it, and the packed kernels save about a third of that per strip.
     */
    static final int PACK_MIN_STRIPS = 4;

    /** Fewest rows for which the rows are packed (fewer read both operands in place, {@link #rows5x2}). */
    static final int PACK_MIN_ROWS = 7;

    /**
     * Each thread's row panels and per-call strip, grown on demand (at most {@code max(RD, A_IN_L2 / P + PANEL) P}).
     */
    private static final ThreadLocal<float[][]> SCRATCH = ThreadLocal.withInitial(() -> new float[3][0]);
    private static final int ROW_PANELS = 0;
    private static final int STRIP = 1;
    private static final int CHAINS = 2;

    private DenseProduct() {
    }

    /**
     * Floats before the first strip in {@link #strips}' array, so that its vectors start on cache lines where the
     * array does: a float[]'s elements begin 16 bytes after the object on 64-bit HotSpot with compressed class
     * pointers (the default), and G1 places an array of half a region or more (any weight matrix of a megabyte or
     * more) at the start of its region, so the strips start 16 + 48 = 64 bytes in. Unaligned, every 512-bit load of
     * the weights splits two cache lines (about 6 % of the dense kernel's time at 256 x 1024 x 1024). Elsewhere the
     * offset costs nothing: a smaller array is only 8-byte aligned anyway.
     */
    static final int STRIPS_OFFSET = 12;

    /** The multiplier and addend of an epilogue that adds or stores, two vectors each ({@link #rows5x2}). */
    private static final float[] EPILOGUE_ONES = filled(2 * L, 1f);
    private static final float[] EPILOGUE_NEG_ZEROS = filled(2 * L, -0f);

    private static float[] filled(int n, float v) {
        float[] a = new float[n];
        java.util.Arrays.fill(a, v);
        return a;
    }

    /**
     * The column strips of m [P, Q] that {@link #product} reads: strip s (columns {@code [s W, (s+1) W)} with
     * {@code W = sv L}, whole strips only) is the [P, W] block at {@code STRIPS_OFFSET + s W P}. The columns after
     * the last whole strip are read from m itself.
     */
    static float[] strips(float[] m, int p, int q, int sv) {
        int w = sv * L;
        int whole = q / w * w;
        float[] strips = new float[STRIPS_OFFSET + p * whole];
        for (int q0 = 0; q0 < whole; q0 += w) {
            for (int k = 0; k < p; k++) {
                System.arraycopy(m, k * q + q0, strips, STRIPS_OFFSET + q0 * p + k * w, w);
            }
        }
        return strips;
    }

    /**
     * The product for rows {@code [r0,r1)} and columns {@code [c0,c1)}; a is [B,P], m is [P,Q] ({@code strips}: null,
     * or {@link #strips} of m with the same {@code sv}). The packed tile kernels store the bare chains and the epilogue
     * (bias, or the product with x) is a separate pass over a row block's chains while they are still in cache; the
     * in-place kernels of small passes apply it on their registers. Both use the same rounded operations, and no
     * kernel calls a helper with vector arguments, which C2 on Java 17 did not always inline (it then boxed the
     * accumulators and ran at half speed).
     */
    static void product(int sv, float[] a, float[] m, float[] strips, int mode, float[] e, float[] c, int r0, int r1,
                        int p, int q, int c0, int c1) {
        int q0 = c0;
        int w = sv * L;
        if (r1 - r0 >= PACK_MIN_ROWS && (c1 - c0) / w >= PACK_MIN_STRIPS) {
            // Strips of sv vectors, K-blocked: a row block's chains live in c between tap blocks (started at +0.0
            // in the first; outputs never alias inputs) and the [kd, w] panel stays in L1/L2. The pass's rows are
            // packed a chunk at a time, as many whole row blocks as fit in L2 (all of them where they fit), and each
            // strip serves every row block of the chunk while the chunk stays there: the weights stream from L3
            // once per chunk. (Packing a row block at a time and streaming every strip past it read them once per
            // row block: ViT-B/16's 768 x 768 maps, 1,576 rows a pass, 27 times; the order that packs nothing
            // ahead streams all of a from memory once per strip, about 15 % slower at 4096 x 1024 x 1024.)
            int whole = q0 + (c1 - q0) / w * w;
            int chunk = (long) (r1 - r0) * p <= A_IN_L2 ? r1 - r0 : (int) Math.max(RD, A_IN_L2 / p / RD * RD);
            for (int cb = r0; cb < r1; cb += chunk) {
                int ce = Math.min(r1, cb + chunk);
                float[] ap = packRows(a, p, cb, ce);
                for (int s0 = q0; s0 < whole; s0 += w) {
                    float[] sm = strips != null ? strips : packStrip(m, s0, w, p, q);
                    int moff = strips != null ? STRIPS_OFFSET + s0 * p : 0;
                    for (int rb = cb; rb < ce; rb += RD) {
                        strip(sv, ap, (rb - cb) * p, sm, moff, mode, e, c, rb, Math.min(ce, rb + RD), s0, p, q);
                    }
                }
            }
            q0 = whole;
        }
        // The columns left, or all of them where the pass is too small to repay packing: both operands read where
        // they are, two vectors of columns at a time.
        for (; q0 + 2 * L <= c1; q0 += 2 * L) {
            for (int rb = r0; rb < r1; rb += RD) {
                int re = Math.min(r1, rb + RD);
                for (int b = rb; b < re; b += 5) {
                    rows5x2(a, p, m, q, q0, mode, e, c, b, Math.min(5, re - b), q0, q);
                }
            }
        }
        float[] packed = c1 - q0 >= L ? new float[p * L] : null;
        for (; q0 + L <= c1; q0 += L) {
            pack(m, packed, q0, L, p, q);
            for (int b = r0; b < r1; b += 8) {
                tile8x1(a, packed, mode, e, c, b, Math.min(8, r1 - b), q0, p, q);
            }
        }
        // A single column: L rows at a time with the lanes over the rows; the rows left join the narrow block.
        int b = q == 1 && q0 < c1 ? column(a, m, mode, e, c, r0, r1, p) : r0;
        if (q0 < c1 && b < r1) {
            // Fewer than L columns left: a zero-padded strip keeps the loads unmasked (masked loads are slow on
            // Java 17); the padding lanes compute values nobody stores.
            int width = c1 - q0;
            float[] strip = new float[p * L];
            for (int k = 0; k < p; k++) {
                System.arraycopy(m, k * q + q0, strip, k * L, width);
            }
            // Eight rows' chains, then a padded bias: where the rows are this narrow block alone, storeNarrow stores
            // whole vectors up to the end of the pass's rows in c.
            float[] tmp = new float[9 * L];
            Narrow n = new Narrow(tmp, q0 == 0 && c1 == q ? r1 * q : -1);
            if (mode == ADD_BIAS) {
                System.arraycopy(e, q0, tmp, 8 * L, width);
            }
            for (; b + 8 <= r1; b += 8) {
                narrow8(a, strip, mode, e, c, b, q0, width, p, q, n);
            }
            for (; b < r1; b++) {
                narrow1(a, strip, mode, e, c, b, q0, width, p, q, n);
            }
        }
    }

    /**
     * A single output column ({@code q = 1}), rows {@code [r0, r1)} L at a time with the lanes over the rows: lane l's
     * chain gathers a[b + l, k] and multiplies it by m[k], in ascending k, the products and roundings of the other
     * kernels' (the product is commutative); c and x of L consecutive rows are one vector. Returns the first row left.
     */
    private static int column(float[] a, float[] m, int mode, float[] e, float[] c, int r0, int r1, int p) {
        int[] rows = new int[L];
        for (int l = 0; l < L; l++) {
            rows[l] = l * p;
        }
        int b = r0;
        for (; b + L <= r1; b += L) {
            FloatVector acc = FloatVector.zero(S);
            int base = b * p;
            for (int k = 0; k < p; k++) {
                acc = FloatVector.fromArray(S, a, base + k, rows, 0).fma(FloatVector.broadcast(S, m[k]), acc);
            }
            if (mode == ADD_BIAS) {
                acc = acc.add(FloatVector.broadcast(S, e[0]));
            } else if (mode == MUL_X) {
                acc = FloatVector.fromArray(S, e, b).mul(acc);
            }
            acc.intoArray(c, b);
        }
        return b;
    }

    /**
     * Rows {@code [rb, re)} of a [B,P] in {@link #PANEL}-row panels, in this thread's scratch: panel t (rows
     * {@code rb + PANEL t ..}, a last short panel repeating its last row) holds tap k of its row i at
     * {@code PANEL (P t + k) + i}.
     */
    private static float[] packRows(float[] a, int p, int rb, int re) {
        float[] ap = scratch(ROW_PANELS, (re - rb + PANEL - 1) / PANEL * PANEL * p);
        packRows(a, p, rb, re, ap, 0);
        return ap;
    }

    /** As {@link #packRows(float[], int, int, int)}, into {@code ap} from {@code ao} (whole panels). */
    static void packRows(float[] a, int p, int rb, int re, float[] ap, int ao) {
        int panels = (re - rb + PANEL - 1) / PANEL;
        for (int t = 0; t < panels; t++) {
            int base = ao + t * PANEL * p;
            int last = Math.min(PANEL, re - rb - PANEL * t) - 1;
            for (int i = 0; i < PANEL; i++) {
                int src = (rb + PANEL * t + Math.min(i, last)) * p;
                for (int k = 0; k < p; k++) {
                    ap[base + PANEL * k + i] = a[src + k];
                }
            }
        }
    }

    /** Columns {@code [s0, s0+w)} of m [P,Q] as a [P, w] strip in this thread's scratch. */
    private static float[] packStrip(float[] m, int s0, int w, int p, int q) {
        float[] sm = scratch(STRIP, p * w);
        pack(m, sm, s0, w, p, q);
        return sm;
    }

    private static float[] scratch(int slot, int floats) {
        float[][] s = SCRATCH.get();
        if (s[slot].length < floats) {
            s[slot] = new float[floats];
        }
        return s[slot];
    }

    /**
     * Rows {@code [rb, re)} (at most {@link #RD}; their panels from {@code ap[ao]}) of the strip at column {@code q0},
     * whose tap k starts at {@code m[moff + sv L k]}: chains started at +0.0 in the first tap block, continued
     * through {@code c} tap block by tap block, then the epilogue.
     */
    private static void strip(int sv, float[] ap, int ao, float[] m, int moff, int mode, float[] e, float[] c, int rb,
                              int re, int q0, int p, int q) {
        int kd = tapsPerBlock(sv);
        int w = sv * L;
        // The block's chains live between tap blocks in a contiguous [RD, w] scratch, not in c: c's rows lie q floats
        // apart, so with q a multiple of 1024 a block's rows map to the same few L1 sets and evicted each other and
        // the weight panel at every tap block (Intel, 48 KiB L1: about 1.3x slower).
        float[] acc = scratch(CHAINS, RD * w);
        java.util.Arrays.fill(acc, 0, (re - rb) * w, 0f);
        for (int k0 = 0; k0 < p; k0 += kd) {
            int k1 = Math.min(p, k0 + kd);
            for (int b = rb; b < re; b += PANEL) {
                tile(sv, ap, ao + (b - rb) * p, m, moff, acc, b - rb, Math.min(PANEL, re - b), k0, k1);
            }
        }
        epilogue(mode, e, acc, 0, w, c, rb, re, q0, w, q);
    }

    /**
     * The epilogue over rows {@code [r0,r1)}, columns {@code [q0, q0+width)} (whole vectors): the chains of row b are
     * read from {@code src[s0 + (b - r0) * stride ..]} (c itself, or a block's scratch) and the results written to c.
     */
    private static void epilogue(int mode, float[] e, float[] src, int s0, int stride, float[] c, int r0, int r1,
                                 int q0, int width, int q) {
        if (mode == STORE && src == c) {
            return;
        }
        for (int b = r0; b < r1; b++) {
            int o = b * q + q0;
            int a = s0 + (b - r0) * stride;
            for (int j = 0; j < width; j += L) {
                FloatVector v = FloatVector.fromArray(S, src, a + j);
                if (mode == ADD_BIAS) {
                    v = v.add(FloatVector.fromArray(S, e, q0 + j));
                } else if (mode == MUL_X) {
                    v = FloatVector.fromArray(S, e, o + j).mul(v);
                }
                v.intoArray(c, o + j);
            }
        }
    }

    /** {@link #epilogue} of chains stored in c itself. */
    private static void epilogue(int mode, float[] e, float[] c, int r0, int r1, int q0, int width, int q) {
        epilogue(mode, e, c, r0 * q + q0, q, c, r0, r1, q0, width, q);
    }


    /**
     * Rows {@code b .. b+n-1} ({@code n} of 1-5; a missing row repeats the last one and is stored again with the
     * same values) by four vectors from column {@code q0}: continues their chains stored in {@code c} over taps
     * {@code [k0,k1)} ({@link #strip} zeroes c before the first tap block, so a chain starts at +0.0). The rows
     * come from their packed panel ({@link #packRows}: tap k of row i at {@code ap[ao + PANEL k + i]}) and the
     * weights from a [P, 4L] strip whose tap k starts at {@code m[moff + 4L k]}. One base index per operand with
     * constant strides keeps the loop to its loads and 20 fused multiply-adds (six row offsets and a variable stride
     * cost C2 spilled pointers and bound checks: about 70 % of one core's FMA peak against about 95 % this way, AVX2).
     */
    private static void tile5x4(float[] ap, int ao, float[] m, int moff, float[] c, int b, int n, int q0, int q,
                                int k0, int k1) {
        int b1 = b + Math.min(1, n - 1);
        int b2 = b + Math.min(2, n - 1);
        int b3 = b + Math.min(3, n - 1);
        int b4 = b + Math.min(4, n - 1);
        int o0 = b * q + q0;
        int o1 = b1 * q + q0;
        int o2 = b2 * q + q0;
        int o3 = b3 * q + q0;
        int o4 = b4 * q + q0;
        FloatVector c00 = FloatVector.fromArray(S, c, o0);
        FloatVector c01 = FloatVector.fromArray(S, c, o0 + L);
        FloatVector c02 = FloatVector.fromArray(S, c, o0 + 2 * L);
        FloatVector c03 = FloatVector.fromArray(S, c, o0 + 3 * L);
        FloatVector c10 = FloatVector.fromArray(S, c, o1);
        FloatVector c11 = FloatVector.fromArray(S, c, o1 + L);
        FloatVector c12 = FloatVector.fromArray(S, c, o1 + 2 * L);
        FloatVector c13 = FloatVector.fromArray(S, c, o1 + 3 * L);
        FloatVector c20 = FloatVector.fromArray(S, c, o2);
        FloatVector c21 = FloatVector.fromArray(S, c, o2 + L);
        FloatVector c22 = FloatVector.fromArray(S, c, o2 + 2 * L);
        FloatVector c23 = FloatVector.fromArray(S, c, o2 + 3 * L);
        FloatVector c30 = FloatVector.fromArray(S, c, o3);
        FloatVector c31 = FloatVector.fromArray(S, c, o3 + L);
        FloatVector c32 = FloatVector.fromArray(S, c, o3 + 2 * L);
        FloatVector c33 = FloatVector.fromArray(S, c, o3 + 3 * L);
        FloatVector c40 = FloatVector.fromArray(S, c, o4);
        FloatVector c41 = FloatVector.fromArray(S, c, o4 + L);
        FloatVector c42 = FloatVector.fromArray(S, c, o4 + 2 * L);
        FloatVector c43 = FloatVector.fromArray(S, c, o4 + 3 * L);
        // The panel's index is the loop's counter and the strip's index steps beside it: C2 then drops the panel's
        // range checks and keeps the loop free of register moves (one core, Java 17: about 1.13x against a counter
        // over the taps). Two taps a trip ran faster still in isolation but put the compile past Java 17's node
        // budget, and one BERT-base JVM of four ran its dense maps 25x slower (docs/DESIGN.md section 3).
        int mo = k0 * (4 * L) + moff;
        for (int ai = ao + PANEL * k0, end = ao + PANEL * k1; ai < end; ai += PANEL, mo += 4 * L) {
            FloatVector m0 = FloatVector.fromArray(S, m, mo);
            FloatVector m1 = FloatVector.fromArray(S, m, mo + L);
            FloatVector m2 = FloatVector.fromArray(S, m, mo + 2 * L);
            FloatVector m3 = FloatVector.fromArray(S, m, mo + 3 * L);
            FloatVector x = FloatVector.broadcast(S, ap[ai]);
            c00 = x.fma(m0, c00);
            c01 = x.fma(m1, c01);
            c02 = x.fma(m2, c02);
            c03 = x.fma(m3, c03);
            x = FloatVector.broadcast(S, ap[ai + 1]);
            c10 = x.fma(m0, c10);
            c11 = x.fma(m1, c11);
            c12 = x.fma(m2, c12);
            c13 = x.fma(m3, c13);
            x = FloatVector.broadcast(S, ap[ai + 2]);
            c20 = x.fma(m0, c20);
            c21 = x.fma(m1, c21);
            c22 = x.fma(m2, c22);
            c23 = x.fma(m3, c23);
            x = FloatVector.broadcast(S, ap[ai + 3]);
            c30 = x.fma(m0, c30);
            c31 = x.fma(m1, c31);
            c32 = x.fma(m2, c32);
            c33 = x.fma(m3, c33);
            x = FloatVector.broadcast(S, ap[ai + 4]);
            c40 = x.fma(m0, c40);
            c41 = x.fma(m1, c41);
            c42 = x.fma(m2, c42);
            c43 = x.fma(m3, c43);
        }
        c00.intoArray(c, o0);
        c01.intoArray(c, o0 + L);
        c02.intoArray(c, o0 + 2 * L);
        c03.intoArray(c, o0 + 3 * L);
        c10.intoArray(c, o1);
        c11.intoArray(c, o1 + L);
        c12.intoArray(c, o1 + 2 * L);
        c13.intoArray(c, o1 + 3 * L);
        c20.intoArray(c, o2);
        c21.intoArray(c, o2 + L);
        c22.intoArray(c, o2 + 2 * L);
        c23.intoArray(c, o2 + 3 * L);
        c30.intoArray(c, o3);
        c31.intoArray(c, o3 + L);
        c32.intoArray(c, o3 + 2 * L);
        c33.intoArray(c, o3 + 3 * L);
        c40.intoArray(c, o4);
        c41.intoArray(c, o4 + L);
        c42.intoArray(c, o4 + 2 * L);
        c43.intoArray(c, o4 + 3 * L);
    }

    /**
     * As {@link #tile5x4} with two vectors: 10 chains in registers, for machines with 16 vector registers (AVX2),
     * where the 20 chains of the four-vector tile do not fit and spill.
     */
    private static void tile5x2(float[] ap, int ao, float[] m, int moff, float[] c, int b, int n, int q0, int q,
                                int k0, int k1) {
        int b1 = b + Math.min(1, n - 1);
        int b2 = b + Math.min(2, n - 1);
        int b3 = b + Math.min(3, n - 1);
        int b4 = b + Math.min(4, n - 1);
        int o0 = b * q + q0;
        int o1 = b1 * q + q0;
        int o2 = b2 * q + q0;
        int o3 = b3 * q + q0;
        int o4 = b4 * q + q0;
        FloatVector c00 = FloatVector.fromArray(S, c, o0);
        FloatVector c01 = FloatVector.fromArray(S, c, o0 + L);
        FloatVector c10 = FloatVector.fromArray(S, c, o1);
        FloatVector c11 = FloatVector.fromArray(S, c, o1 + L);
        FloatVector c20 = FloatVector.fromArray(S, c, o2);
        FloatVector c21 = FloatVector.fromArray(S, c, o2 + L);
        FloatVector c30 = FloatVector.fromArray(S, c, o3);
        FloatVector c31 = FloatVector.fromArray(S, c, o3 + L);
        FloatVector c40 = FloatVector.fromArray(S, c, o4);
        FloatVector c41 = FloatVector.fromArray(S, c, o4 + L);
        for (int k = k0; k < k1; k++) {
            int mo = k * (2 * L) + moff;
            int ai = ao + PANEL * k;
            FloatVector m0 = FloatVector.fromArray(S, m, mo);
            FloatVector m1 = FloatVector.fromArray(S, m, mo + L);
            FloatVector x = FloatVector.broadcast(S, ap[ai]);
            c00 = x.fma(m0, c00);
            c01 = x.fma(m1, c01);
            x = FloatVector.broadcast(S, ap[ai + 1]);
            c10 = x.fma(m0, c10);
            c11 = x.fma(m1, c11);
            x = FloatVector.broadcast(S, ap[ai + 2]);
            c20 = x.fma(m0, c20);
            c21 = x.fma(m1, c21);
            x = FloatVector.broadcast(S, ap[ai + 3]);
            c30 = x.fma(m0, c30);
            c31 = x.fma(m1, c31);
            x = FloatVector.broadcast(S, ap[ai + 4]);
            c40 = x.fma(m0, c40);
            c41 = x.fma(m1, c41);
        }
        c00.intoArray(c, o0);
        c01.intoArray(c, o0 + L);
        c10.intoArray(c, o1);
        c11.intoArray(c, o1 + L);
        c20.intoArray(c, o2);
        c21.intoArray(c, o2 + L);
        c30.intoArray(c, o3);
        c31.intoArray(c, o3 + L);
        c40.intoArray(c, o4);
        c41.intoArray(c, o4 + L);
    }

    /**
     * As {@link #tile5x2}'s chains over all P taps (from +0.0), for five rows by two vectors, reading both operands
     * where they are: row i's tap k at {@code a[(b + i) p + k]}, the weights' tap k at {@code m[k ms + moff]}. For
     * passes too small to repay packing: at most six rows (each weight serves at most six rows, so packing the
     * weights would triple their traffic) or fewer than {@link #PACK_MIN_STRIPS} strips of columns (packing the rows
     * would cost about as much as the product). Rows {@code b .. b+n-1} ({@code n} of 1-5; a missing row repeats the
     * last one and is stored again with the same values). Ten chains keep both fma pipes busy through the fma
     * latency. The epilogue ({@code mode}, {@code e}) is one fma per vector on the registers, the same for every
     * mode and without branches: fma(1, c, bias) rounds as c + bias, fma(x, c, -0.0) as x * c, and fma(1, c, -0.0)
     * is c (adding -0.0 changes no value). Small on purpose: Java 17's C2 delays the inlining of the calls parsed
     * after a method has made about 18,000 nodes, and a delayed call's vector result has an inexact type that the
     * store intrinsic cannot unbox, so stores fell back to element-wise Java code (a six-row tile with two epilogue
     * branches crossed that line in four compiles of five: the sample model 1.3x slower; five rows stay under it and
     * ran 1.02-1.08x faster than four).
     */
    private static void rows5x2(float[] a, int p, float[] m, int ms, int moff, int mode, float[] e, float[] c, int b,
                                int n, int q0, int q) {
        int b1 = b + Math.min(1, n - 1);
        int b2 = b + Math.min(2, n - 1);
        int b3 = b + Math.min(3, n - 1);
        int b4 = b + Math.min(4, n - 1);
        int a0 = b * p;
        int a1 = b1 * p;
        int a2 = b2 * p;
        int a3 = b3 * p;
        int a4 = b4 * p;
        int o0 = b * q + q0;
        int o1 = b1 * q + q0;
        int o2 = b2 * q + q0;
        int o3 = b3 * q + q0;
        int o4 = b4 * q + q0;
        FloatVector zero = FloatVector.zero(S);
        FloatVector c00 = zero;
        FloatVector c01 = zero;
        FloatVector c10 = zero;
        FloatVector c11 = zero;
        FloatVector c20 = zero;
        FloatVector c21 = zero;
        FloatVector c30 = zero;
        FloatVector c31 = zero;
        FloatVector c40 = zero;
        FloatVector c41 = zero;
        for (int k = 0; k < p; k++) {
            int mo = k * ms + moff;
            FloatVector m0 = FloatVector.fromArray(S, m, mo);
            FloatVector m1 = FloatVector.fromArray(S, m, mo + L);
            FloatVector x = FloatVector.broadcast(S, a[a0 + k]);
            c00 = x.fma(m0, c00);
            c01 = x.fma(m1, c01);
            x = FloatVector.broadcast(S, a[a1 + k]);
            c10 = x.fma(m0, c10);
            c11 = x.fma(m1, c11);
            x = FloatVector.broadcast(S, a[a2 + k]);
            c20 = x.fma(m0, c20);
            c21 = x.fma(m1, c21);
            x = FloatVector.broadcast(S, a[a3 + k]);
            c30 = x.fma(m0, c30);
            c31 = x.fma(m1, c31);
            x = FloatVector.broadcast(S, a[a4 + k]);
            c40 = x.fma(m0, c40);
            c41 = x.fma(m1, c41);
        }
        float[] ua = mode == MUL_X ? e : EPILOGUE_ONES;
        float[] va = mode == ADD_BIAS ? e : EPILOGUE_NEG_ZEROS;
        int v0 = mode == ADD_BIAS ? q0 : 0;
        int u0 = mode == MUL_X ? o0 : 0;
        int u1 = mode == MUL_X ? o1 : 0;
        int u2 = mode == MUL_X ? o2 : 0;
        int u3 = mode == MUL_X ? o3 : 0;
        int u4 = mode == MUL_X ? o4 : 0;
        FloatVector e0 = FloatVector.fromArray(S, va, v0);
        FloatVector e1 = FloatVector.fromArray(S, va, v0 + L);
        FloatVector.fromArray(S, ua, u0).fma(c00, e0).intoArray(c, o0);
        FloatVector.fromArray(S, ua, u0 + L).fma(c01, e1).intoArray(c, o0 + L);
        FloatVector.fromArray(S, ua, u1).fma(c10, e0).intoArray(c, o1);
        FloatVector.fromArray(S, ua, u1 + L).fma(c11, e1).intoArray(c, o1 + L);
        FloatVector.fromArray(S, ua, u2).fma(c20, e0).intoArray(c, o2);
        FloatVector.fromArray(S, ua, u2 + L).fma(c21, e1).intoArray(c, o2 + L);
        FloatVector.fromArray(S, ua, u3).fma(c30, e0).intoArray(c, o3);
        FloatVector.fromArray(S, ua, u3 + L).fma(c31, e1).intoArray(c, o3 + L);
        FloatVector.fromArray(S, ua, u4).fma(c40, e0).intoArray(c, o4);
        FloatVector.fromArray(S, ua, u4 + L).fma(c41, e1).intoArray(c, o4 + L);
    }

    /**
     * Rows {@code b .. b+n-1} ({@code n} of 1-8: a missing row repeats the last one and is not stored) by one vector
     * from {@code q0}, from a packed [P, L] strip: eight independent chains, enough to keep both fma pipes busy
     * through the fma latency (four left half of them idle: the sample model's 32 -> 16 layer); applies the
     * epilogue on the registers, as {@link #rows5x2} does.
     */
    private static void tile8x1(float[] a, float[] m, int mode, float[] e, float[] c, int b, int n, int q0, int p,
                                int q) {
        FloatVector c0 = FloatVector.zero(S), c1 = FloatVector.zero(S);
        FloatVector c2 = FloatVector.zero(S), c3 = FloatVector.zero(S);
        FloatVector c4 = FloatVector.zero(S), c5 = FloatVector.zero(S);
        FloatVector c6 = FloatVector.zero(S), c7 = FloatVector.zero(S);
        int a0 = b * p;
        int b1 = b + Math.min(1, n - 1);
        int a1 = b1 * p;
        int b2 = b + Math.min(2, n - 1);
        int a2 = b2 * p;
        int b3 = b + Math.min(3, n - 1);
        int a3 = b3 * p;
        int b4 = b + Math.min(4, n - 1);
        int a4 = b4 * p;
        int b5 = b + Math.min(5, n - 1);
        int a5 = b5 * p;
        int b6 = b + Math.min(6, n - 1);
        int a6 = b6 * p;
        int b7 = b + Math.min(7, n - 1);
        int a7 = b7 * p;
        for (int k = 0; k < p; k++) {
            FloatVector mv = FloatVector.fromArray(S, m, k * L);
            c0 = FloatVector.broadcast(S, a[a0 + k]).fma(mv, c0);
            c1 = FloatVector.broadcast(S, a[a1 + k]).fma(mv, c1);
            c2 = FloatVector.broadcast(S, a[a2 + k]).fma(mv, c2);
            c3 = FloatVector.broadcast(S, a[a3 + k]).fma(mv, c3);
            c4 = FloatVector.broadcast(S, a[a4 + k]).fma(mv, c4);
            c5 = FloatVector.broadcast(S, a[a5 + k]).fma(mv, c5);
            c6 = FloatVector.broadcast(S, a[a6 + k]).fma(mv, c6);
            c7 = FloatVector.broadcast(S, a[a7 + k]).fma(mv, c7);
        }
        int o = b * q + q0;
        if (mode == ADD_BIAS) {
            FloatVector e0 = FloatVector.fromArray(S, e, q0);
            c0 = c0.add(e0);
            c1 = c1.add(e0);
            c2 = c2.add(e0);
            c3 = c3.add(e0);
            c4 = c4.add(e0);
            c5 = c5.add(e0);
            c6 = c6.add(e0);
            c7 = c7.add(e0);
        } else if (mode == MUL_X) {
            c0 = FloatVector.fromArray(S, e, o).mul(c0);
            c1 = FloatVector.fromArray(S, e, b1 * q + q0).mul(c1);
            c2 = FloatVector.fromArray(S, e, b2 * q + q0).mul(c2);
            c3 = FloatVector.fromArray(S, e, b3 * q + q0).mul(c3);
            c4 = FloatVector.fromArray(S, e, b4 * q + q0).mul(c4);
            c5 = FloatVector.fromArray(S, e, b5 * q + q0).mul(c5);
            c6 = FloatVector.fromArray(S, e, b6 * q + q0).mul(c6);
            c7 = FloatVector.fromArray(S, e, b7 * q + q0).mul(c7);
        }
        c0.intoArray(c, o);
        if (n > 1) {
            c1.intoArray(c, o + q);
        }
        if (n > 2) {
            c2.intoArray(c, o + 2 * q);
        }
        if (n > 3) {
            c3.intoArray(c, o + 3 * q);
        }
        if (n > 4) {
            c4.intoArray(c, o + 4 * q);
        }
        if (n > 5) {
            c5.intoArray(c, o + 5 * q);
        }
        if (n > 6) {
            c6.intoArray(c, o + 6 * q);
        }
        if (n > 7) {
            c7.intoArray(c, o + 7 * q);
        }
    }

    /**
     * Eight rows of the last {@code q - q0 < L} columns, from a zero-padded [P, L] strip (eight chains, as
     * {@link #tile8x1}).
     */
    private static void narrow8(float[] a, float[] strip, int mode, float[] e, float[] c, int b, int q0, int width,
                                int p, int q, Narrow n) {
        float[] tmp = n.tmp();
        FloatVector zero = FloatVector.zero(S);
        FloatVector c0 = zero, c1 = zero, c2 = zero, c3 = zero, c4 = zero, c5 = zero, c6 = zero, c7 = zero;
        int a0 = b * p;
        for (int k = 0; k < p; k++) {
            FloatVector mv = FloatVector.fromArray(S, strip, k * L);
            c0 = FloatVector.broadcast(S, a[a0 + k]).fma(mv, c0);
            c1 = FloatVector.broadcast(S, a[a0 + p + k]).fma(mv, c1);
            c2 = FloatVector.broadcast(S, a[a0 + 2 * p + k]).fma(mv, c2);
            c3 = FloatVector.broadcast(S, a[a0 + 3 * p + k]).fma(mv, c3);
            c4 = FloatVector.broadcast(S, a[a0 + 4 * p + k]).fma(mv, c4);
            c5 = FloatVector.broadcast(S, a[a0 + 5 * p + k]).fma(mv, c5);
            c6 = FloatVector.broadcast(S, a[a0 + 6 * p + k]).fma(mv, c6);
            c7 = FloatVector.broadcast(S, a[a0 + 7 * p + k]).fma(mv, c7);
        }
        c0.intoArray(tmp, 0);
        c1.intoArray(tmp, L);
        c2.intoArray(tmp, 2 * L);
        c3.intoArray(tmp, 3 * L);
        c4.intoArray(tmp, 4 * L);
        c5.intoArray(tmp, 5 * L);
        c6.intoArray(tmp, 6 * L);
        c7.intoArray(tmp, 7 * L);
        storeNarrow(n, 8, mode, e, c, b, q0, width, q);
    }

    private static void narrow1(float[] a, float[] strip, int mode, float[] e, float[] c, int b, int q0, int width,
                                int p, int q, Narrow n) {
        float[] tmp = n.tmp();
        FloatVector acc = FloatVector.zero(S);
        int a0 = b * p;
        for (int k = 0; k < p; k++) {
            acc = FloatVector.broadcast(S, a[a0 + k]).fma(FloatVector.fromArray(S, strip, k * L), acc);
        }
        acc.intoArray(tmp, 0);
        storeNarrow(n, 1, mode, e, c, b, q0, width, q);
    }

    /**
     * The narrow columns' scratch: {@code tmp} holds eight rows' chains, then the bias padded to a vector;
     * {@code limit} is the end of the pass's rows in c where the narrow block is the whole row ({@code q < L}), else
     * -1 (see {@link #storeNarrow}).
     */
    private record Narrow(float[] tmp, int limit) {
    }

    /**
     * Stores the valid lanes of {@code rows} accumulators with the epilogue, the same ops as {@link #epilogue}. Where
     * the narrow block is the whole row, a row whose vector ends before {@code n.limit} is stored as a whole vector
     * with the epilogue on all its lanes (the bias from the padded copy): the lanes past the row land on the next
     * rows, which this thread stores later, in ascending order. The scalar stores had been a tenth of the sample
     * model's time.
     */
    private static void storeNarrow(Narrow n, int rows, int mode, float[] e, float[] c, int b, int q0, int width,
                                    int q) {
        float[] tmp = n.tmp();
        int limit = n.limit();
        for (int t = 0; t < rows; t++) {
            int o = (b + t) * q + q0;
            int s = t * L;
            if (o + L <= limit) {
                FloatVector v = FloatVector.fromArray(S, tmp, s);
                if (mode == ADD_BIAS) {
                    v = v.add(FloatVector.fromArray(S, tmp, 8 * L));
                } else if (mode == MUL_X) {
                    v = FloatVector.fromArray(S, e, o).mul(v);
                }
                v.intoArray(c, o);
                continue;
            }
            if (mode == ADD_BIAS) {
                for (int j = 0; j < width; j++) {
                    c[o + j] = tmp[s + j] + e[q0 + j];
                }
            } else if (mode == MUL_X) {
                for (int j = 0; j < width; j++) {
                    c[o + j] = e[o + j] * tmp[s + j];
                }
            } else {
                System.arraycopy(tmp, s, c, o, width);
            }
        }
    }

    /** Copies columns {@code [q0, q0+width)} of m [P,Q] into {@code packed} as a [P, width] block. */
    static void pack(float[] m, float[] packed, int q0, int width, int p, int q) {
        for (int k = 0; k < p; k++) {
            System.arraycopy(m, k * q + q0, packed, k * width, width);
        }
    }
}
