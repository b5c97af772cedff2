package org.gpulrp.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vector API kernels. Each output element is one {@code fma} chain in ascending order of the reduced index, exactly
 * as {@link ScalarKernels} computes it; lanes run over the output's contiguous index (output features for the forward
 * map, input features for backprojection). The plain maps ({@link #linear}, {@link #backproject}) are
 * {@link DenseProduct}'s register-tiled product, tiled for the machine's vector registers. The sign-split and ZBox
 * kernels keep one vector per row and run the last {@code n % L} columns scalar. No masked loads; K is never padded.
 */
final class VectorKernels implements CpuKernels {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();

    /** Vectors per column strip of the plain maps: 4 (6 x 4 tiles) with 32 vector registers, 2 (6 x 2) with 16. */
    private final int sv;

    /** Kernels tiled for the machine's vector registers ({@link VectorRegisters#count}). */
    VectorKernels() {
        this(VectorRegisters.count());
    }

    /** Kernels tiled for {@code registers} vector registers (16 or 32; tests run both on any machine). */
    VectorKernels(int registers) {
        this.sv = VectorRegisters.wide(registers) ? 4 : 2;
    }

    static String describe() {
        return S.vectorBitSize() + "-bit, " + VectorRegisters.count() + " registers";
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
        DenseProduct.product(sv, x, wt, strips, bias == null ? DenseProduct.STORE : DenseProduct.ADD_BIAS, bias, z,
                r0, r1, in, out, c0, c1);
    }

    @Override
    public void backproject(float[] g, float[] w, float[] x, float[] r, int r0, int r1, int out, int in, int c0,
                            int c1) {
        backproject(g, w, null, x, r, r0, r1, out, in, c0, c1);
    }

    @Override
    public void backproject(float[] g, float[] w, float[] strips, float[] x, float[] r, int r0, int r1, int out,
                            int in, int c0, int c1) {
        DenseProduct.product(sv, g, w, strips, x == null ? DenseProduct.STORE : DenseProduct.MUL_X, x, r, r0, r1,
                out, in, c0, c1);
    }

    /**
     * The column strips of m [P, Q] that {@link #product} reads, packed once: strip s (columns
     * {@code [s W, (s+1) W)} with {@code W = sv L}, whole strips only) is the [P, W] block at
     * {@code DenseProduct.STRIPS_OFFSET + s * W * P} (cache-line aligned where G1 aligns the array). The columns after
     * the last whole strip are read from m itself.
     */
    @Override
    public float[] denseStrips(float[] m, int p, int q) {
        return DenseProduct.strips(m, p, q, sv);
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
            DenseProduct.pack(ut, pu, j0, L, in, out);
            DenseProduct.pack(vt, pv, j0, L, in, out);
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
            DenseProduct.pack(u, pu, i0, L, out, in);
            DenseProduct.pack(v, pv, i0, L, out, in);
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
