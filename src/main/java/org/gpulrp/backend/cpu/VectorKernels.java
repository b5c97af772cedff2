package org.gpulrp.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vector API outer-product kernels. Each output element is one {@code fma} chain in ascending order of the reduced
 * index, exactly as {@link ScalarKernels} computes it; lanes run over the output's contiguous index (output features
 * for the forward map, input features for backprojection). The plain maps ({@link #linear}, {@link #backproject})
 * walk column strips of four vectors (register tiles of 4 rows x 4 vectors, the reduced index in blocks of
 * 128 taps whose chains wait in the output between blocks), then of two and of one vector (4 x 2 and 4 x 1 tiles),
 * and the last columns, fewer than a vector, through a zero-padded strip whose extra lanes are never stored. Loop
 * order: a column strip outside, the rows of the thread's range inside, so the strip of the weight matrix stays in
 * cache while the rows stream through. The sign-split and ZBox kernels keep one vector per row and run the last
 * {@code n % L} columns scalar. No masked loads; K is never padded.
 */
final class VectorKernels implements CpuKernels {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();

    /** Epilogues of the generic product {@code c[b,q] = chain_p fma(a[b,p], m[p,q])}. */
    private static final int STORE = 0;
    private static final int ADD_BIAS = 1;
    private static final int MUL_X = 2;

    /** Vectors per column strip of the plain maps: 4 (6 x 4 tiles) with 32 vector registers, 2 (6 x 2) with 16. */
    private final int sv;

    /** Kernels tiled for the machine's vector registers ({@link VectorRegisters#DEFAULT}). */
    VectorKernels() {
        this(VectorRegisters.DEFAULT);
    }

    /** Kernels tiled for {@code registers} vector registers (16 or 32; tests run both on any machine). */
    VectorKernels(int registers) {
        this.sv = registers >= 32 ? 4 : 2;
    }

    static String describe() {
        return S.vectorBitSize() + "-bit, " + VectorRegisters.DEFAULT + " registers";
    }

    private static final ScalarKernels TAIL = new ScalarKernels();

    @Override
    public void relu(float[] in, float[] out, int k0, int k1) {
        FloatVector zero = FloatVector.zero(S);
        int k = k0;
        for (; k + L <= k1; k += L) {
            FloatVector v = FloatVector.fromArray(S, in, k);
            zero.blend(v, v.compare(VectorOperators.GT, 0f)).intoArray(out, k);
        }
        TAIL.relu(in, out, k, k1);
    }

    /** {@code safeDiv(r, stab(d))} lane-wise, with the scalar path's exact ops. */
    private static FloatVector normalized(FloatVector r, FloatVector d, FloatVector pos, FloatVector neg) {
        FloatVector den = d.add(neg.blend(pos, d.compare(VectorOperators.GE, 0f)));
        return r.div(den).blend(FloatVector.zero(S), den.compare(VectorOperators.EQ, 0f));
    }

    @Override
    public void normalize(float[] r, float[] d, int dRowStride, float eps, float[] g, int r0, int r1, int out) {
        FloatVector pos = FloatVector.broadcast(S, eps);
        FloatVector neg = FloatVector.broadcast(S, -eps);
        if (dRowStride == out) {
            int k = r0 * out;
            int end = r1 * out;
            for (; k + L <= end; k += L) {
                normalized(FloatVector.fromArray(S, r, k), FloatVector.fromArray(S, d, k), pos, neg).intoArray(g, k);
            }
            for (; k < end; k++) {
                g[k] = ScalarKernels.safeDiv(r[k], ScalarKernels.stab(d[k], eps));
            }
            return;
        }
        for (int b = r0; b < r1; b++) {
            int j = 0;
            int o = b * out;
            for (; j + L <= out; j += L) {
                normalized(FloatVector.fromArray(S, r, o + j), FloatVector.fromArray(S, d, b * dRowStride + j), pos,
                        neg).intoArray(g, o + j);
            }
            for (; j < out; j++) {
                g[o + j] = ScalarKernels.safeDiv(r[o + j], ScalarKernels.stab(d[b * dRowStride + j], eps));
            }
        }
    }

    @Override
    public void normalizeSigned(float[] r, float[] z, float[] p, float[] n, float eps, float scaleP, float scaleN,
                                boolean gammaMask, float[] hp, float[] hn, int k0, int k1) {
        FloatVector pos = FloatVector.broadcast(S, eps);
        FloatVector neg = FloatVector.broadcast(S, -eps);
        FloatVector zero = FloatVector.zero(S);
        int k = k0;
        for (; k + L <= k1; k += L) {
            FloatVector rv = FloatVector.fromArray(S, r, k);
            FloatVector gp = normalized(rv, FloatVector.fromArray(S, p, k), pos, neg);
            FloatVector zv = gammaMask ? FloatVector.fromArray(S, z, k) : null;
            (gammaMask ? zero.blend(gp, zv.compare(VectorOperators.GT, 0f)) : gp.mul(scaleP)).intoArray(hp, k);
            if (n != null) {
                FloatVector gn = normalized(rv, FloatVector.fromArray(S, n, k), pos, neg);
                (gammaMask ? zero.blend(gn, zv.compare(VectorOperators.LT, 0f)) : gn.mul(scaleN)).intoArray(hn, k);
            }
        }
        TAIL.normalizeSigned(r, z, p, n, eps, scaleP, scaleN, gammaMask, hp, hn, k, k1);
    }

    @Override
    public void linear(float[] x, float[] wt, float[] bias, float[] z, int r0, int r1, int in, int out, int c0,
                       int c1) {
        linear(x, wt, null, bias, z, r0, r1, in, out, c0, c1);
    }

    @Override
    public void linear(float[] x, float[] wt, float[] strips, float[] bias, float[] z, int r0, int r1, int in,
                       int out, int c0, int c1) {
        product(sv, x, wt, strips, bias == null ? STORE : ADD_BIAS, bias, z, r0, r1, in, out, c0, c1);
    }

    @Override
    public void backproject(float[] g, float[] w, float[] x, float[] r, int r0, int r1, int out, int in, int c0,
                            int c1) {
        backproject(g, w, null, x, r, r0, r1, out, in, c0, c1);
    }

    @Override
    public void backproject(float[] g, float[] w, float[] strips, float[] x, float[] r, int r0, int r1, int out,
                            int in, int c0, int c1) {
        product(sv, g, w, strips, x == null ? STORE : MUL_X, x, r, r0, r1, out, in, c0, c1);
    }

    /**
     * The column strips of m [P, Q] that {@link #product} reads, packed once: strip s (columns
     * {@code [s W, (s+1) W)} with {@code W = sv L}, whole strips only) is the [P, W] block at {@code s * W * P}. The
     * columns after the last whole strip are read from m itself.
     */
    @Override
    public float[] denseStrips(float[] m, int p, int q) {
        int w4 = sv * L;
        int whole = q / w4 * w4;
        float[] strips = new float[p * whole];
        for (int q0 = 0; q0 < whole; q0 += w4) {
            for (int k = 0; k < p; k++) {
                System.arraycopy(m, k * q + q0, strips, q0 * p + k * w4, w4);
            }
        }
        return strips;
    }

    /**
     * {@code c[b,j] = epilogue(chain_k fma(a[b,k], m[k,j]))} for rows {@code [r0,r1)} and columns {@code [c0,c1)};
     * a is [B,P], m is [P,Q] ({@code strips}: null, or {@link #denseStrips} of m). Each column strip of m is first packed into a contiguous [P, strip] block, so the
     * micro-kernel streams it from cache instead of striding across pages (about 2.5x faster at Q = 1024). The tile
     * kernels store the bare chains; the epilogue (bias, or the product with x) is a separate pass over the strip
     * while it is still in cache, with the same rounded operations: the kernels call no helper with vector arguments,
     * which C2 on Java 17 did not always inline (it then boxed the accumulators and ran at half speed).
     */
    private static void product(int sv, float[] a, float[] m, float[] strips, int mode, float[] e, float[] c,
                                int r0, int r1, int p, int q, int c0, int c1) {
        int q0 = c0;
        int w4 = sv * L;
        if (c1 - c0 >= w4) {
            // Four-vector strips, K-blocked: a row block's chains live in c between tap blocks (zeroed first, so
            // every chain starts at +0.0; outputs never alias inputs) and the [KD, 4L] panel stays in L1/L2.
            // Few rows (a small batch through a wide layer): each weight is used by at most six rows, so the
            // strips are read where they are instead of packed first (packing tripled the weight traffic).
            // Prepared strips (denseStrips, made once with the weights) are read in place. Where the pass's rows
            // of a fit in L2 they stay there while each strip serves every row block; where they do not, the loops
            // turn: a row block's rows stay in L2 while the strips stream past from L3 (the other order would stream
            // all of a from memory once per strip; about 15 % faster at 4096 x 1024 x 1024).
            if (strips != null) {
                int whole = q0 + (c1 - q0) / w4 * w4;
                if ((long) (r1 - r0) * p <= A_IN_L2) {
                    for (int s0 = q0; s0 < whole; s0 += w4) {
                        for (int rb = r0; rb < r1; rb += RD) {
                            strip(sv, a, strips, w4, s0 * p, mode, e, c, rb, Math.min(r1, rb + RD), s0, p, q);
                        }
                    }
                } else {
                    for (int rb = r0; rb < r1; rb += RD) {
                        for (int s0 = q0; s0 < whole; s0 += w4) {
                            strip(sv, a, strips, w4, s0 * p, mode, e, c, rb, Math.min(r1, rb + RD), s0, p, q);
                        }
                    }
                }
                q0 = whole;
            } else {
                boolean direct = r1 - r0 <= 6;
                float[] packed = direct ? m : new float[p * w4];
                int ms = direct ? q : w4;
                for (; q0 + w4 <= c1; q0 += w4) {
                    if (!direct) {
                        pack(m, packed, q0, w4, p, q);
                    }
                    for (int rb = r0; rb < r1; rb += RD) {
                        strip(sv, a, packed, ms, direct ? q0 : 0, mode, e, c, rb, Math.min(r1, rb + RD), q0, p,
                                q);
                    }
                }
            }
        }
        float[] packed = c1 - q0 >= L ? new float[p * 2 * L] : null;
        for (; q0 + 2 * L <= c1; q0 += 2 * L) {
            pack(m, packed, q0, 2 * L, p, q);
            for (int b = r0; b < r1; b += 4) {
                tile4x2(a, packed, c, b, Math.min(4, r1 - b), q0, p, q);
            }
            epilogue(mode, e, c, r0, r1, q0, 2 * L, q);
        }
        for (; q0 + L <= c1; q0 += L) {
            pack(m, packed, q0, L, p, q);
            for (int b = r0; b < r1; b += 4) {
                tile4x1(a, packed, c, b, Math.min(4, r1 - b), q0, p, q);
            }
            epilogue(mode, e, c, r0, r1, q0, L, q);
        }
        if (q0 < c1) {
            // Fewer than L columns left: a zero-padded strip keeps the loads unmasked (masked loads are slow on
            // Java 17); the padding lanes compute values nobody stores.
            int width = c1 - q0;
            float[] strip = new float[p * L];
            for (int k = 0; k < p; k++) {
                System.arraycopy(m, k * q + q0, strip, k * L, width);
            }
            float[] tmp = new float[4 * L];
            int b = r0;
            for (; b + 4 <= r1; b += 4) {
                narrow4(a, strip, mode, e, c, b, q0, width, p, q, tmp);
            }
            for (; b < r1; b++) {
                narrow1(a, strip, mode, e, c, b, q0, width, p, q, tmp);
            }
        }
    }

    /**
     * Rows {@code [rb, re)} (at most {@link #RD}) of the four-vector strip at column {@code q0}, whose tap k starts
     * at {@code m[k * ms + moff]}: chains zeroed, continued tap block by tap block, then the epilogue.
     */
    private static void strip(int sv, float[] a, float[] m, int ms, int moff, int mode, float[] e, float[] c,
                              int rb, int re, int q0, int p, int q) {
        for (int b = rb; b < re; b++) {
            java.util.Arrays.fill(c, b * q + q0, b * q + q0 + sv * L, 0f);
        }
        int kd = KD * 4 / sv;
        for (int k0 = 0; k0 < p; k0 += kd) {
            int k1 = Math.min(p, k0 + kd);
            for (int b = rb; b < re; b += 6) {
                if (sv == 4) {
                    tile6x4(a, m, ms, moff, c, b, Math.min(6, re - b), q0, p, q, k0, k1);
                } else {
                    tile6x2(a, m, ms, moff, c, b, Math.min(6, re - b), q0, p, q, k0, k1);
                }
            }
        }
        epilogue(mode, e, c, rb, re, q0, sv * L, q);
    }

    /** The epilogue over rows {@code [r0,r1)}, columns {@code [q0, q0+width)} (whole vectors) of the stored chains. */
    private static void epilogue(int mode, float[] e, float[] c, int r0, int r1, int q0, int width, int q) {
        if (mode == STORE) {
            return;
        }
        for (int b = r0; b < r1; b++) {
            int o = b * q + q0;
            for (int j = 0; j < width; j += L) {
                FloatVector acc = FloatVector.fromArray(S, c, o + j);
                FloatVector v = mode == ADD_BIAS ? acc.add(FloatVector.fromArray(S, e, q0 + j))
                        : FloatVector.fromArray(S, e, o + j).mul(acc);
                v.intoArray(c, o + j);
            }
        }
    }

    /** Floats of a pass's rows of a that are taken to fit in L2 with room for a strip (512 KiB). */
    private static final long A_IN_L2 = 128 * 1024;

    /**
     * Taps per block of the four-vector strips: the block's [KD, 4L] panel is 32 KiB with 512-bit vectors (two-vector
     * strips take blocks of 2 KD taps, the same panel size).
     */
    private static final int KD = 128;

    /** Rows per block of the four-vector strips (ten six-row tiles): the block's chains stay in L1/L2. */
    private static final int RD = 60;

    /**
     * Rows {@code b .. b+n-1} ({@code n} of 1-6, as {@link #tile4x2}) by four vectors from {@code q0}: continues
     * their chains stored in {@code c} over taps {@code [k0,k1)} of a strip whose tap k starts at
     * {@code m[k * ms + moff]} (a packed [P, 4L] strip, or m itself) and stores them back. Six rows by four vectors
     * keep 24 chains in registers: each tap loads four weight vectors and six activations for 24 fused
     * multiply-adds (four rows by four gave 16 per eight loads and ran about 10 % of the FMA peak slower).
     */
    private static void tile6x4(float[] a, float[] m, int ms, int moff, float[] c, int b, int n, int q0, int p,
                                int q, int k0, int k1) {
        int b1 = b + Math.min(1, n - 1);
        int b2 = b + Math.min(2, n - 1);
        int b3 = b + Math.min(3, n - 1);
        int b4 = b + Math.min(4, n - 1);
        int b5 = b + Math.min(5, n - 1);
        int o0 = b * q + q0;
        int o1 = b1 * q + q0;
        int o2 = b2 * q + q0;
        int o3 = b3 * q + q0;
        int o4 = b4 * q + q0;
        int o5 = b5 * q + q0;
        FloatVector c00 = FloatVector.fromArray(S, c, o0), c01 = FloatVector.fromArray(S, c, o0 + L);
        FloatVector c02 = FloatVector.fromArray(S, c, o0 + 2 * L), c03 = FloatVector.fromArray(S, c, o0 + 3 * L);
        FloatVector c10 = FloatVector.fromArray(S, c, o1), c11 = FloatVector.fromArray(S, c, o1 + L);
        FloatVector c12 = FloatVector.fromArray(S, c, o1 + 2 * L), c13 = FloatVector.fromArray(S, c, o1 + 3 * L);
        FloatVector c20 = FloatVector.fromArray(S, c, o2), c21 = FloatVector.fromArray(S, c, o2 + L);
        FloatVector c22 = FloatVector.fromArray(S, c, o2 + 2 * L), c23 = FloatVector.fromArray(S, c, o2 + 3 * L);
        FloatVector c30 = FloatVector.fromArray(S, c, o3), c31 = FloatVector.fromArray(S, c, o3 + L);
        FloatVector c32 = FloatVector.fromArray(S, c, o3 + 2 * L), c33 = FloatVector.fromArray(S, c, o3 + 3 * L);
        FloatVector c40 = FloatVector.fromArray(S, c, o4), c41 = FloatVector.fromArray(S, c, o4 + L);
        FloatVector c42 = FloatVector.fromArray(S, c, o4 + 2 * L), c43 = FloatVector.fromArray(S, c, o4 + 3 * L);
        FloatVector c50 = FloatVector.fromArray(S, c, o5), c51 = FloatVector.fromArray(S, c, o5 + L);
        FloatVector c52 = FloatVector.fromArray(S, c, o5 + 2 * L), c53 = FloatVector.fromArray(S, c, o5 + 3 * L);
        int a0 = b * p;
        int a1 = b1 * p;
        int a2 = b2 * p;
        int a3 = b3 * p;
        int a4 = b4 * p;
        int a5 = b5 * p;
        for (int k = k0; k < k1; k++) {
            int mo = k * ms + moff;
            FloatVector m0 = FloatVector.fromArray(S, m, mo);
            FloatVector m1 = FloatVector.fromArray(S, m, mo + L);
            FloatVector m2 = FloatVector.fromArray(S, m, mo + 2 * L);
            FloatVector m3 = FloatVector.fromArray(S, m, mo + 3 * L);
            FloatVector x = FloatVector.broadcast(S, a[a0 + k]);
            c00 = x.fma(m0, c00);
            c01 = x.fma(m1, c01);
            c02 = x.fma(m2, c02);
            c03 = x.fma(m3, c03);
            x = FloatVector.broadcast(S, a[a1 + k]);
            c10 = x.fma(m0, c10);
            c11 = x.fma(m1, c11);
            c12 = x.fma(m2, c12);
            c13 = x.fma(m3, c13);
            x = FloatVector.broadcast(S, a[a2 + k]);
            c20 = x.fma(m0, c20);
            c21 = x.fma(m1, c21);
            c22 = x.fma(m2, c22);
            c23 = x.fma(m3, c23);
            x = FloatVector.broadcast(S, a[a3 + k]);
            c30 = x.fma(m0, c30);
            c31 = x.fma(m1, c31);
            c32 = x.fma(m2, c32);
            c33 = x.fma(m3, c33);
            x = FloatVector.broadcast(S, a[a4 + k]);
            c40 = x.fma(m0, c40);
            c41 = x.fma(m1, c41);
            c42 = x.fma(m2, c42);
            c43 = x.fma(m3, c43);
            x = FloatVector.broadcast(S, a[a5 + k]);
            c50 = x.fma(m0, c50);
            c51 = x.fma(m1, c51);
            c52 = x.fma(m2, c52);
            c53 = x.fma(m3, c53);
        }
        c00.intoArray(c, o0);
        c01.intoArray(c, o0 + L);
        c02.intoArray(c, o0 + 2 * L);
        c03.intoArray(c, o0 + 3 * L);
        if (n > 1) {
            c10.intoArray(c, o1);
            c11.intoArray(c, o1 + L);
            c12.intoArray(c, o1 + 2 * L);
            c13.intoArray(c, o1 + 3 * L);
        }
        if (n > 2) {
            c20.intoArray(c, o2);
            c21.intoArray(c, o2 + L);
            c22.intoArray(c, o2 + 2 * L);
            c23.intoArray(c, o2 + 3 * L);
        }
        if (n > 3) {
            c30.intoArray(c, o3);
            c31.intoArray(c, o3 + L);
            c32.intoArray(c, o3 + 2 * L);
            c33.intoArray(c, o3 + 3 * L);
        }
        if (n > 4) {
            c40.intoArray(c, o4);
            c41.intoArray(c, o4 + L);
            c42.intoArray(c, o4 + 2 * L);
            c43.intoArray(c, o4 + 3 * L);
        }
        if (n > 5) {
            c50.intoArray(c, o5);
            c51.intoArray(c, o5 + L);
            c52.intoArray(c, o5 + 2 * L);
            c53.intoArray(c, o5 + 3 * L);
        }
    }

    /**
     * As {@link #tile6x4} with two vectors: 12 chains in registers, for machines with 16 vector registers (AVX2),
     * where the 24 chains of the four-vector tile do not fit and spill.
     */
    private static void tile6x2(float[] a, float[] m, int ms, int moff, float[] c, int b, int n, int q0, int p,
                                int q, int k0, int k1) {
        int b1 = b + Math.min(1, n - 1);
        int b2 = b + Math.min(2, n - 1);
        int b3 = b + Math.min(3, n - 1);
        int b4 = b + Math.min(4, n - 1);
        int b5 = b + Math.min(5, n - 1);
        int o0 = b * q + q0;
        int o1 = b1 * q + q0;
        int o2 = b2 * q + q0;
        int o3 = b3 * q + q0;
        int o4 = b4 * q + q0;
        int o5 = b5 * q + q0;
        FloatVector c00 = FloatVector.fromArray(S, c, o0), c01 = FloatVector.fromArray(S, c, o0 + L);
        FloatVector c10 = FloatVector.fromArray(S, c, o1), c11 = FloatVector.fromArray(S, c, o1 + L);
        FloatVector c20 = FloatVector.fromArray(S, c, o2), c21 = FloatVector.fromArray(S, c, o2 + L);
        FloatVector c30 = FloatVector.fromArray(S, c, o3), c31 = FloatVector.fromArray(S, c, o3 + L);
        FloatVector c40 = FloatVector.fromArray(S, c, o4), c41 = FloatVector.fromArray(S, c, o4 + L);
        FloatVector c50 = FloatVector.fromArray(S, c, o5), c51 = FloatVector.fromArray(S, c, o5 + L);
        int a0 = b * p;
        int a1 = b1 * p;
        int a2 = b2 * p;
        int a3 = b3 * p;
        int a4 = b4 * p;
        int a5 = b5 * p;
        for (int k = k0; k < k1; k++) {
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
            x = FloatVector.broadcast(S, a[a5 + k]);
            c50 = x.fma(m0, c50);
            c51 = x.fma(m1, c51);
        }
        c00.intoArray(c, o0);
        c01.intoArray(c, o0 + L);
        if (n > 1) {
            c10.intoArray(c, o1);
            c11.intoArray(c, o1 + L);
        }
        if (n > 2) {
            c20.intoArray(c, o2);
            c21.intoArray(c, o2 + L);
        }
        if (n > 3) {
            c30.intoArray(c, o3);
            c31.intoArray(c, o3 + L);
        }
        if (n > 4) {
            c40.intoArray(c, o4);
            c41.intoArray(c, o4 + L);
        }
        if (n > 5) {
            c50.intoArray(c, o5);
            c51.intoArray(c, o5 + L);
        }
    }

    /**
     * Rows {@code b .. b+n-1} ({@code n} of 1-4: a missing row repeats the last one and is not stored) by two
     * vectors from {@code q0}, from a packed [P, 2L] strip; stores the bare chains.
     */
    private static void tile4x2(float[] a, float[] m, float[] c, int b, int n, int q0, int p, int q) {
        FloatVector c00 = FloatVector.zero(S), c01 = FloatVector.zero(S);
        FloatVector c10 = FloatVector.zero(S), c11 = FloatVector.zero(S);
        FloatVector c20 = FloatVector.zero(S), c21 = FloatVector.zero(S);
        FloatVector c30 = FloatVector.zero(S), c31 = FloatVector.zero(S);
        int b1 = b + Math.min(1, n - 1);
        int b2 = b + Math.min(2, n - 1);
        int b3 = b + Math.min(3, n - 1);
        int a0 = b * p;
        int a1 = b1 * p;
        int a2 = b2 * p;
        int a3 = b3 * p;
        for (int k = 0; k < p; k++) {
            int mo = k * 2 * L;
            FloatVector m0 = FloatVector.fromArray(S, m, mo);
            FloatVector m1 = FloatVector.fromArray(S, m, mo + L);
            FloatVector x0 = FloatVector.broadcast(S, a[a0 + k]);
            c00 = x0.fma(m0, c00);
            c01 = x0.fma(m1, c01);
            FloatVector x1 = FloatVector.broadcast(S, a[a1 + k]);
            c10 = x1.fma(m0, c10);
            c11 = x1.fma(m1, c11);
            FloatVector x2 = FloatVector.broadcast(S, a[a2 + k]);
            c20 = x2.fma(m0, c20);
            c21 = x2.fma(m1, c21);
            FloatVector x3 = FloatVector.broadcast(S, a[a3 + k]);
            c30 = x3.fma(m0, c30);
            c31 = x3.fma(m1, c31);
        }
        int o = b * q + q0;
        c00.intoArray(c, o);
        c01.intoArray(c, o + L);
        if (n > 1) {
            c10.intoArray(c, o + q);
            c11.intoArray(c, o + q + L);
        }
        if (n > 2) {
            c20.intoArray(c, o + 2 * q);
            c21.intoArray(c, o + 2 * q + L);
        }
        if (n > 3) {
            c30.intoArray(c, o + 3 * q);
            c31.intoArray(c, o + 3 * q + L);
        }
    }

    /** As {@link #tile4x2} with one vector: four independent chains, so the fma latency is hidden. */
    private static void tile4x1(float[] a, float[] m, float[] c, int b, int n, int q0, int p, int q) {
        FloatVector c0 = FloatVector.zero(S), c1 = FloatVector.zero(S);
        FloatVector c2 = FloatVector.zero(S), c3 = FloatVector.zero(S);
        int a0 = b * p;
        int a1 = (b + Math.min(1, n - 1)) * p;
        int a2 = (b + Math.min(2, n - 1)) * p;
        int a3 = (b + Math.min(3, n - 1)) * p;
        for (int k = 0; k < p; k++) {
            FloatVector mv = FloatVector.fromArray(S, m, k * L);
            c0 = FloatVector.broadcast(S, a[a0 + k]).fma(mv, c0);
            c1 = FloatVector.broadcast(S, a[a1 + k]).fma(mv, c1);
            c2 = FloatVector.broadcast(S, a[a2 + k]).fma(mv, c2);
            c3 = FloatVector.broadcast(S, a[a3 + k]).fma(mv, c3);
        }
        int o = b * q + q0;
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
    }

    /** Four rows of the last {@code q - q0 < L} columns, from a zero-padded [P, L] strip. */
    private static void narrow4(float[] a, float[] strip, int mode, float[] e, float[] c, int b, int q0, int width,
                                int p, int q, float[] tmp) {
        FloatVector c0 = FloatVector.zero(S), c1 = FloatVector.zero(S);
        FloatVector c2 = FloatVector.zero(S), c3 = FloatVector.zero(S);
        int a0 = b * p;
        for (int k = 0; k < p; k++) {
            FloatVector mv = FloatVector.fromArray(S, strip, k * L);
            c0 = FloatVector.broadcast(S, a[a0 + k]).fma(mv, c0);
            c1 = FloatVector.broadcast(S, a[a0 + p + k]).fma(mv, c1);
            c2 = FloatVector.broadcast(S, a[a0 + 2 * p + k]).fma(mv, c2);
            c3 = FloatVector.broadcast(S, a[a0 + 3 * p + k]).fma(mv, c3);
        }
        c0.intoArray(tmp, 0);
        c1.intoArray(tmp, L);
        c2.intoArray(tmp, 2 * L);
        c3.intoArray(tmp, 3 * L);
        storeNarrow(tmp, 4, mode, e, c, b, q0, width, q);
    }

    private static void narrow1(float[] a, float[] strip, int mode, float[] e, float[] c, int b, int q0, int width,
                                int p, int q, float[] tmp) {
        FloatVector acc = FloatVector.zero(S);
        int a0 = b * p;
        for (int k = 0; k < p; k++) {
            acc = FloatVector.broadcast(S, a[a0 + k]).fma(FloatVector.fromArray(S, strip, k * L), acc);
        }
        acc.intoArray(tmp, 0);
        storeNarrow(tmp, 1, mode, e, c, b, q0, width, q);
    }

    /** Stores the valid lanes of {@code rows} accumulators with the epilogue, the same ops as {@link #epilogue}. */
    private static void storeNarrow(float[] tmp, int rows, int mode, float[] e, float[] c, int b, int q0, int width,
                                    int q) {
        for (int t = 0; t < rows; t++) {
            int o = (b + t) * q + q0;
            int s = t * L;
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
    private static void pack(float[] m, float[] packed, int q0, int width, int p, int q) {
        for (int k = 0; k < p; k++) {
            System.arraycopy(m, k * q + q0, packed, k * width, width);
        }
    }

    /** Full vectors of columns only: masked loads are slow on Java 17, so the last {@code n % L} go scalar. */
    private static int full(int n) {
        return n - n % L;
    }

    @Override
    public void linearSigned(float[] x, float[] ut, float[] vt, float[] biasP, float[] biasN, float[] outP,
                             float[] outN, int r0, int r1, int in, int out) {
        int full = full(out);
        float[] pu = new float[in * L];
        float[] pv = new float[in * L];
        for (int j0 = 0; j0 < full; j0 += L) {
            // Pack the strip: striding across pages row by row is what made this slow.
            pack(ut, pu, j0, L, in, out);
            pack(vt, pv, j0, L, in, out);
            for (int b = r0; b < r1; b++) {
                signedColumns(x, pu, pv, biasP, biasN, outP, outN, b, j0, in, out);
            }
        }
        for (int b = r0; b < r1; b++) {
            for (int j = full; j < out; j++) {
                float p = 0f;
                float n = 0f;
                for (int i = 0; i < in; i++) {
                    float xi = x[b * in + i];
                    float u = ut[i * out + j];
                    float v = vt[i * out + j];
                    p = Math.fma(xi, xi > 0 ? u : v, p);
                    n = Math.fma(xi, xi > 0 ? v : u, n);
                }
                outP[b * out + j] = p + biasP[j];
                if (outN != null) {
                    outN[b * out + j] = n + biasN[j];
                }
            }
        }
    }

    /** One row's {@code L} columns from packed [in, L] strips {@code pu}, {@code pv}. */
    private static void signedColumns(float[] x, float[] pu, float[] pv, float[] biasP, float[] biasN, float[] outP,
                                      float[] outN, int b, int j0, int in, int out) {
        FloatVector p = FloatVector.zero(S);
        FloatVector n = FloatVector.zero(S);
        int xo = b * in;
        for (int i = 0; i < in; i++) {
            FloatVector u = FloatVector.fromArray(S, pu, i * L);
            FloatVector v = FloatVector.fromArray(S, pv, i * L);
            FloatVector xv = FloatVector.broadcast(S, x[xo + i]);
            // A blend, not a branch: C2 keeps the fma intrinsic only on branch-free data flow.
            VectorMask<Float> pos = xv.compare(VectorOperators.GT, 0f);
            p = xv.fma(v.blend(u, pos), p);
            n = xv.fma(u.blend(v, pos), n);
        }
        p.add(FloatVector.fromArray(S, biasP, j0)).intoArray(outP, b * out + j0);
        if (outN != null) {
            n.add(FloatVector.fromArray(S, biasN, j0)).intoArray(outN, b * out + j0);
        }
    }

    @Override
    public void linearZBox(float[] x, float[] wt, float[] low, float[] high, float[] d, int r0, int r1, int in,
                           int out) {
        int full = full(out);
        for (int j0 = 0; j0 < full; j0 += L) {
            for (int b = r0; b < r1; b++) {
                FloatVector acc = FloatVector.zero(S);
                int xo = b * in;
                for (int i = 0; i < in; i++) {
                    float xi = x[xo + i];
                    FloatVector w = FloatVector.fromArray(S, wt, i * out + j0);
                    FloatVector t = FloatVector.broadcast(S, xi - high[i])
                            .blend(FloatVector.broadcast(S, xi - low[i]), w.compare(VectorOperators.GT, 0f));
                    acc = t.fma(w, acc);
                }
                acc.intoArray(d, b * out + j0);
            }
        }
        for (int b = r0; b < r1; b++) {
            for (int j = full; j < out; j++) {
                float acc = 0f;
                for (int i = 0; i < in; i++) {
                    float w = wt[i * out + j];
                    float xi = x[b * in + i];
                    acc = Math.fma(w > 0 ? xi - low[i] : xi - high[i], w, acc);
                }
                d[b * out + j] = acc;
            }
        }
    }

    @Override
    public void backprojectSigned(float[] hp, float[] hn, float[] u, float[] v, float[] x, float[] r, int r0,
                                  int r1, int out, int in) {
        int full = full(in);
        float[] pu = new float[out * L];
        float[] pv = new float[out * L];
        for (int i0 = 0; i0 < full; i0 += L) {
            pack(u, pu, i0, L, out, in);
            pack(v, pv, i0, L, out, in);
            for (int b = r0; b < r1; b++) {
                if (hn == null) {
                    signedBackP(hp, pu, pv, x, r, b, i0, out, in);
                } else {
                    signedBack(hp, hn, pu, pv, x, r, b, i0, out, in);
                }
            }
        }
        for (int b = r0; b < r1; b++) {
            for (int i = full; i < in; i++) {
                float c1 = 0f;
                float c2 = 0f;
                for (int j = 0; j < out; j++) {
                    float uu = u[j * in + i];
                    float vv = v[j * in + i];
                    float gp = hp[b * out + j];
                    c1 = Math.fma(uu, gp, c1);
                    c2 = Math.fma(vv, gp, c2);
                    if (hn != null) {
                        float gn = hn[b * out + j];
                        c1 = Math.fma(vv, gn, c1);
                        c2 = Math.fma(uu, gn, c2);
                    }
                }
                float xi = x[b * in + i];
                r[b * in + i] = xi * (xi > 0 ? c1 : c2);
            }
        }
    }

    /** One row's {@code L} input columns from packed [out, L] strips {@code u}, {@code v}. */
    private static void signedBackP(float[] hp, float[] u, float[] v, float[] x, float[] r, int b, int i0, int out,
                                    int in) {
        FloatVector c1 = FloatVector.zero(S);
        FloatVector c2 = FloatVector.zero(S);
        int go = b * out;
        for (int j = 0; j < out; j++) {
            FloatVector gp = FloatVector.broadcast(S, hp[go + j]);
            c1 = FloatVector.fromArray(S, u, j * L).fma(gp, c1);
            c2 = FloatVector.fromArray(S, v, j * L).fma(gp, c2);
        }
        FloatVector xv = FloatVector.fromArray(S, x, b * in + i0);
        xv.mul(c2.blend(c1, xv.compare(VectorOperators.GT, 0f))).intoArray(r, b * in + i0);
    }

    private static void signedBack(float[] hp, float[] hn, float[] u, float[] v, float[] x, float[] r, int b, int i0,
                                   int out, int in) {
        FloatVector c1 = FloatVector.zero(S);
        FloatVector c2 = FloatVector.zero(S);
        int go = b * out;
        for (int j = 0; j < out; j++) {
            FloatVector uu = FloatVector.fromArray(S, u, j * L);
            FloatVector vv = FloatVector.fromArray(S, v, j * L);
            FloatVector gp = FloatVector.broadcast(S, hp[go + j]);
            FloatVector gn = FloatVector.broadcast(S, hn[go + j]);
            c1 = vv.fma(gn, uu.fma(gp, c1));
            c2 = uu.fma(gn, vv.fma(gp, c2));
        }
        FloatVector xv = FloatVector.fromArray(S, x, b * in + i0);
        xv.mul(c2.blend(c1, xv.compare(VectorOperators.GT, 0f))).intoArray(r, b * in + i0);
    }

    @Override
    public void backprojectZBox(float[] g, float[] w, float[] wpos, float[] wneg, float[] x, float[] low,
                                float[] high, float[] r, int r0, int r1, int out, int in) {
        int full = full(in);
        for (int i0 = 0; i0 < full; i0 += L) {
            FloatVector lo = FloatVector.fromArray(S, low, i0);
            FloatVector hi = FloatVector.fromArray(S, high, i0);
            for (int b = r0; b < r1; b++) {
                FloatVector c0 = FloatVector.zero(S);
                FloatVector cp = FloatVector.zero(S);
                FloatVector cm = FloatVector.zero(S);
                int go = b * out;
                for (int j = 0; j < out; j++) {
                    FloatVector gj = FloatVector.broadcast(S, g[go + j]);
                    int o = j * in + i0;
                    c0 = FloatVector.fromArray(S, w, o).fma(gj, c0);
                    cp = FloatVector.fromArray(S, wpos, o).fma(gj, cp);
                    cm = FloatVector.fromArray(S, wneg, o).fma(gj, cm);
                }
                FloatVector xv = FloatVector.fromArray(S, x, b * in + i0);
                xv.mul(c0).sub(lo.mul(cp)).sub(hi.mul(cm)).intoArray(r, b * in + i0);
            }
        }
        for (int b = r0; b < r1; b++) {
            for (int i = full; i < in; i++) {
                float c0 = 0f;
                float cp = 0f;
                float cm = 0f;
                for (int j = 0; j < out; j++) {
                    float gj = g[b * out + j];
                    c0 = Math.fma(w[j * in + i], gj, c0);
                    cp = Math.fma(wpos[j * in + i], gj, cp);
                    cm = Math.fma(wneg[j * in + i], gj, cm);
                }
                r[b * in + i] = (x[b * in + i] * c0 - low[i] * cp) - high[i] * cm;
            }
        }
    }

}
