/*
 * matmul.cl: the forward chains of a dense layer (linear, linearSigned, linearZBox).
 *
 * Math, per batch row b < B and output j < N, each a chain over inputs i = 0..K-1 in ascending order from +0.0f:
 *   linear:          z[b,j] = chain_i fma(x[b,i], wt[i,j]), then + bias[j] as its own add (none when !has_bias)
 *   linear_signed:   xi = x[b,i];  xi > 0 ? (p = fma(xi, ut[i,j], p), n = fma(xi, vt[i,j], n))
 *                                         : (p = fma(xi, vt[i,j], p), n = fma(xi, ut[i,j], n));
 *                    outP = p + biasP[j], outN = n + biasN[j] (each add only when that bias is present);
 *                    the linear_signed_p kernels compute p only (no outN)
 *   linear_zbox:     w = wt[i,j]; t = w > 0 ? x[b,i] - low[i] : x[b,i] - high[i]; d[b,j] = chain_i fma(t, w)
 * Layout (row-major): x[B,K]; wt, ut, vt[K,N] (the transpose of PyTorch's w[N,K]); bias[N]; outputs [B,N];
 * low, high[K]. Absent optional buffers are replaced by a dummy and a has_* flag.
 *
 * Variants, same bits (the host picks one per device type):
 *   *_simple  one work-item per output; global (N, B) rounded up to the host's local size.
 *   *_vec     CPU devices (PoCL): VEC_ROWS rows x 16*colv columns per work-item in float16 registers, colv =
 *             VEC_COLV (linear, linear_signed_p, linear_zbox) or VEC_COLV2 (linear_signed: two chains);
 *             global (ceil(N / (16*colv)), ceil(B / VEC_ROWS)) rounded up to the local size.
 *   *_tiled   GPUs: TILE_T x TILE_T work-groups over TILE_B x TILE_B output blocks, TILE_K-deep slices of the
 *             operands staged in local memory; global (ceil(N / TILE_B) * TILE_T, ceil(B / TILE_B) * TILE_T).
 * Tuning parameters (defaults in dense_vec.h and gemm_tiled.h, overridden by the host's #defines): VEC_ROWS 8,
 * VEC_COLV 2, VEC_COLV2 1; TILE_T 16, TILE_W 4, TILE_K 16 (TILE_B = TILE_T * TILE_W).
 * The vec kernels share the one walk of dense_vec.h, the tiled kernels the one walk of gemm_tiled.h (with the
 * one-chain body of linear_tiled and backproject_tiled).
 */
#pragma OPENCL FP_CONTRACT OFF

#include "lrp_common.h"
#include "dense_vec.h"
#include "gemm_tiled.h"

/* ---------------------------------------------------------------- simple: one work-item per output */

__kernel void linear_simple(__global const float* restrict x, __global const float* restrict wt,
                            __global const float* restrict bias, const int has_bias, __global float* restrict z,
                            const int rows, const int K, const int N)
{
    const int j = get_global_id(0);
    const int b = get_global_id(1);
    if (j >= N || b >= rows) {
        return;
    }
    const __global float* xr = x + b * K;
    float acc = 0.0f;
    for (int i = 0; i < K; i++) {
        acc = fma(xr[i], wt[i * N + j], acc);
    }
    z[b * N + j] = has_bias ? acc + bias[j] : acc;
}

LRP_INLINE void linear_signed_one(const __global float* restrict x, const __global float* restrict ut,
                                  const __global float* restrict vt, const __global float* restrict bias_p,
                                  const int has_bias_p, const __global float* restrict bias_n,
                                  const int has_bias_n, __global float* restrict out_p,
                                  __global float* restrict out_n, const int rows, const int K, const int N,
                                  const int with_n)
{
    const int j = get_global_id(0);
    const int b = get_global_id(1);
    if (j >= N || b >= rows) {
        return;
    }
    const __global float* xr = x + b * K;
    float p = 0.0f;
    float n = 0.0f;
    for (int i = 0; i < K; i++) {
        const float xi = xr[i];
        const float u = ut[i * N + j];
        const float v = vt[i * N + j];
        const int pos = xi > 0.0f;
        p = fma(xi, pos ? u : v, p);
        if (with_n) {
            n = fma(xi, pos ? v : u, n);
        }
    }
    out_p[b * N + j] = has_bias_p ? p + bias_p[j] : p;
    if (with_n) {
        out_n[b * N + j] = has_bias_n ? n + bias_n[j] : n;
    }
}

__kernel void linear_signed_simple(__global const float* restrict x, __global const float* restrict ut,
                                   __global const float* restrict vt, __global const float* restrict bias_p,
                                   const int has_bias_p, __global const float* restrict bias_n,
                                   const int has_bias_n, __global float* restrict out_p,
                                   __global float* restrict out_n, const int rows, const int K, const int N)
{
    linear_signed_one(x, ut, vt, bias_p, has_bias_p, bias_n, has_bias_n, out_p, out_n, rows, K, N, 1);
}

__kernel void linear_signed_p_simple(__global const float* restrict x, __global const float* restrict ut,
                                     __global const float* restrict vt, __global const float* restrict bias_p,
                                     const int has_bias_p, __global float* restrict out_p,
                                     const int rows, const int K, const int N)
{
    linear_signed_one(x, ut, vt, bias_p, has_bias_p, bias_p, 0, out_p, out_p, rows, K, N, 0);
}

__kernel void linear_zbox_simple(__global const float* restrict x, __global const float* restrict wt,
                                 __global const float* restrict low, __global const float* restrict high,
                                 __global float* restrict d, const int rows, const int K, const int N)
{
    const int j = get_global_id(0);
    const int b = get_global_id(1);
    if (j >= N || b >= rows) {
        return;
    }
    const __global float* xr = x + b * K;
    float acc = 0.0f;
    for (int i = 0; i < K; i++) {
        const float w = wt[i * N + j];
        const float t = w > 0.0f ? xr[i] - low[i] : xr[i] - high[i];
        acc = fma(t, w, acc);
    }
    d[b * N + j] = acc;
}

/* ------------------------------------------------------- vec: float16 register tiles (CPU devices), dense_vec.h */

LRP_INLINE void linear_v16(const __global float* restrict x, const __global float* restrict wt,
                           const __global float* restrict ws, const int has_ws,
                           const __global float* restrict bias, const int has_bias, __global float* restrict z,
                           const int K, const int N, const int b0, const int nr, const int j0, const int nv,
                           const int skip)
{
    VEC_TILE(acc);
    const __global float* xr = x + b0 * K;
    VEC_WALK(wp, step, wt, ws, has_ws, K, N, j0, nv)
    for (int i = 0; i < K; i++, wp += step) {
        float16 w[VEC_COLV_MAX];
        #pragma unroll
        for (int c = 0; c < nv; c++) {
            w[c] = vload16(c, wp);
        }
        #pragma unroll
        for (int r = 0; r < nr; r++) {
            const float16 xv = (float16)(xr[r * K + i]);
            #pragma unroll
            for (int c = 0; c < nv; c++) {
                acc[r][c] = fma(xv, w[c], acc[r][c]);
            }
        }
    }
    #pragma unroll
    for (int r = 0; r < nr; r++) {
        #pragma unroll
        for (int c = 0; c < nv; c++) {
            lrp_store16(has_bias ? acc[r][c] + lrp_load16(c, bias + j0, skip) : acc[r][c], c, z + (b0 + r) * N + j0,
                        skip);
        }
    }
}

LRP_INLINE void linear_c1(const __global float* restrict x, const __global float* restrict wt,
                          const __global float* restrict ws, const int has_ws, const __global float* restrict bias, const int has_bias, __global float* restrict z,
                          const int K, const int N, const int b0, const int nr, const int j)
{
    float acc[VEC_ROWS];
    #pragma unroll
    for (int r = 0; r < nr; r++) {
        acc[r] = 0.0f;
    }
    const __global float* xr = x + b0 * K;
    for (int i = 0; i < K; i++) {
        const float w = wt[i * N + j];
        #pragma unroll
        for (int r = 0; r < nr; r++) {
            acc[r] = fma(xr[r * K + i], w, acc[r]);
        }
    }
    #pragma unroll
    for (int r = 0; r < nr; r++) {
        z[(b0 + r) * N + j] = has_bias ? acc[r] + bias[j] : acc[r];
    }
}

__kernel void linear_vec(__global const float* restrict x, __global const float* restrict wt,
                         __global const float* restrict ws, const int has_ws,
                         __global const float* restrict bias, const int has_bias, __global float* restrict z,
                         const int rows, const int K, const int N)
{
    VEC_ITEM_N(linear_v16, linear_c1, rows, N, VEC_COLV, has_ws, x, wt, ws, has_ws, bias, has_bias, z, K, N);
}

/*
 * The column strips of m [P, Q] for the plain vec kernels (dense_vec.h, VEC_WALK): element t of the Q / VEC_STRIP
 * whole strips, t = (s * P + k) * VEC_STRIP + c, is m[k, s * VEC_STRIP + c]; where Q < 16, the one [P, 16] strip
 * padded with zeros, t = k * 16 + c. Global: their size.
 */
__kernel void dense_strips(__global const float* restrict m, __global float* restrict strips, const int P,
                           const int Q)
{
    const int t = get_global_id(0);
    const int width = Q < 16 ? 16 : VEC_STRIP;
    if (t >= (Q < 16 ? 16 : Q / VEC_STRIP * VEC_STRIP) * P) {
        return;
    }
    const int c = t % width;
    const int k = t / width % P;
    const int s = t / (width * P);
    strips[t] = Q < 16 ? (c < Q ? m[k * Q + c] : 0.0f) : m[k * Q + s * VEC_STRIP + c];
}

LRP_INLINE void linear_signed_v16(const __global float* restrict x, const __global float* restrict ut,
                                  const __global float* restrict vt, const __global float* restrict bias_p,
                                  const int has_bias_p, const __global float* restrict bias_n,
                                  const int has_bias_n, __global float* restrict out_p,
                                  __global float* restrict out_n, const int K, const int N,
                                  const int with_n, const int b0, const int nr, const int j0, const int nv,
                                  const int skip)
{
    VEC_TILE(p);
    VEC_TILE(n);
    const __global float* xr = x + b0 * K;
    const __global float* up = ut + j0;
    const __global float* vp = vt + j0;
    for (int i = 0; i < K; i++, up += N, vp += N) {
        float16 u[VEC_COLV_MAX];
        float16 v[VEC_COLV_MAX];
        #pragma unroll
        for (int c = 0; c < nv; c++) {
            u[c] = vload16(c, up);
            v[c] = vload16(c, vp);
        }
        #pragma unroll
        for (int r = 0; r < nr; r++) {
            const float16 xv = (float16)(xr[r * K + i]);
            const int16 pos = xv > 0.0f; /* a lane mask: the sign picks by blend, not by a mispredicted branch */
            #pragma unroll
            for (int c = 0; c < nv; c++) {
                p[r][c] = fma(xv, select(v[c], u[c], pos), p[r][c]);
                if (with_n) {
                    n[r][c] = fma(xv, select(u[c], v[c], pos), n[r][c]);
                }
            }
        }
    }
    #pragma unroll
    for (int r = 0; r < nr; r++) {
        #pragma unroll
        for (int c = 0; c < nv; c++) {
            const int o = (b0 + r) * N + j0;
            lrp_store16(has_bias_p ? p[r][c] + vload16(c, bias_p + j0) : p[r][c], c, out_p + o, skip);
            if (with_n) {
                lrp_store16(has_bias_n ? n[r][c] + vload16(c, bias_n + j0) : n[r][c], c, out_n + o, skip);
            }
        }
    }
}

LRP_INLINE void linear_signed_c1(const __global float* restrict x, const __global float* restrict ut,
                                 const __global float* restrict vt, const __global float* restrict bias_p,
                                 const int has_bias_p, const __global float* restrict bias_n,
                                 const int has_bias_n, __global float* restrict out_p,
                                 __global float* restrict out_n, const int K, const int N,
                                 const int with_n, const int b0, const int nr, const int j)
{
    float p[VEC_ROWS];
    float n[VEC_ROWS];
    #pragma unroll
    for (int r = 0; r < nr; r++) {
        p[r] = 0.0f;
        n[r] = 0.0f;
    }
    const __global float* xr = x + b0 * K;
    for (int i = 0; i < K; i++) {
        const float u = ut[i * N + j];
        const float v = vt[i * N + j];
        #pragma unroll
        for (int r = 0; r < nr; r++) {
            const float xi = xr[r * K + i];
            const int pos = xi > 0.0f;
            p[r] = fma(xi, pos ? u : v, p[r]);
            if (with_n) {
                n[r] = fma(xi, pos ? v : u, n[r]);
            }
        }
    }
    #pragma unroll
    for (int r = 0; r < nr; r++) {
        out_p[(b0 + r) * N + j] = has_bias_p ? p[r] + bias_p[j] : p[r];
        if (with_n) {
            out_n[(b0 + r) * N + j] = has_bias_n ? n[r] + bias_n[j] : n[r];
        }
    }
}

/* Two chains per output: VEC_COLV2 column blocks, so both tiles fit the registers. */
__kernel void linear_signed_vec(__global const float* restrict x, __global const float* restrict ut,
                                __global const float* restrict vt, __global const float* restrict bias_p,
                                const int has_bias_p, __global const float* restrict bias_n,
                                const int has_bias_n, __global float* restrict out_p,
                                __global float* restrict out_n, const int rows, const int K, const int N)
{
    VEC_ITEM(linear_signed_v16, linear_signed_c1, rows, N, VEC_COLV2, x, ut, vt, bias_p, has_bias_p, bias_n,
             has_bias_n, out_p, out_n, K, N, 1);
}

__kernel void linear_signed_p_vec(__global const float* restrict x, __global const float* restrict ut,
                                  __global const float* restrict vt, __global const float* restrict bias_p,
                                  const int has_bias_p, __global float* restrict out_p,
                                  const int rows, const int K, const int N)
{
    VEC_ITEM(linear_signed_v16, linear_signed_c1, rows, N, VEC_COLV, x, ut, vt, bias_p, has_bias_p, bias_p, 0,
             out_p, out_p, K, N, 0);
}

LRP_INLINE void linear_zbox_v16(const __global float* restrict x, const __global float* restrict wt,
                                const __global float* restrict low, const __global float* restrict high,
                                __global float* restrict d, const int K, const int N, const int b0, const int nr,
                                const int j0, const int nv, const int skip)
{
    VEC_TILE(acc);
    const __global float* xr = x + b0 * K;
    const __global float* wp = wt + j0;
    for (int i = 0; i < K; i++, wp += N) {
        float16 w[VEC_COLV_MAX];
        int16 up[VEC_COLV_MAX];
        #pragma unroll
        for (int c = 0; c < nv; c++) {
            w[c] = vload16(c, wp);
            up[c] = w[c] > 0.0f;
        }
        const float lo = low[i];
        const float hi = high[i];
        #pragma unroll
        for (int r = 0; r < nr; r++) {
            const float xi = xr[r * K + i];
            const float16 tl = (float16)(xi - lo);
            const float16 th = (float16)(xi - hi);
            #pragma unroll
            for (int c = 0; c < nv; c++) {
                acc[r][c] = fma(select(th, tl, up[c]), w[c], acc[r][c]);
            }
        }
    }
    #pragma unroll
    for (int r = 0; r < nr; r++) {
        #pragma unroll
        for (int c = 0; c < nv; c++) {
            lrp_store16(acc[r][c], c, d + (b0 + r) * N + j0, skip);
        }
    }
}

LRP_INLINE void linear_zbox_c1(const __global float* restrict x, const __global float* restrict wt,
                               const __global float* restrict low, const __global float* restrict high,
                               __global float* restrict d, const int K, const int N, const int b0, const int nr,
                               const int j)
{
    float acc[VEC_ROWS];
    #pragma unroll
    for (int r = 0; r < nr; r++) {
        acc[r] = 0.0f;
    }
    const __global float* xr = x + b0 * K;
    for (int i = 0; i < K; i++) {
        const float w = wt[i * N + j];
        const float lo = low[i];
        const float hi = high[i];
        #pragma unroll
        for (int r = 0; r < nr; r++) {
            const float xi = xr[r * K + i];
            acc[r] = fma(w > 0.0f ? xi - lo : xi - hi, w, acc[r]);
        }
    }
    #pragma unroll
    for (int r = 0; r < nr; r++) {
        d[(b0 + r) * N + j] = acc[r];
    }
}

__kernel void linear_zbox_vec(__global const float* restrict x, __global const float* restrict wt,
                              __global const float* restrict low, __global const float* restrict high,
                              __global float* restrict d, const int rows, const int K, const int N)
{
    VEC_ITEM(linear_zbox_v16, linear_zbox_c1, rows, N, VEC_COLV, x, wt, low, high, d, K, N);
}

/* ------------------------------------------------------- tiled: local-memory blocks (GPUs), gemm_tiled.h */

__kernel __attribute__((reqd_work_group_size(TILE_T, TILE_T, 1)))
void linear_tiled(__global const float* restrict x, __global const float* restrict wt,
                  __global const float* restrict bias, const int has_bias, __global float* restrict z,
                  const int rows, const int K, const int N)
{
    __local float xs[TILE_B * TILE_AS];
    __local float ws[TILE_K * TILE_B];
    lrp_gemm_tiled(x, wt, bias, has_bias, z, rows, K, N, GEMM_FORWARD, xs, ws);
}

LRP_INLINE void linear_signed_block(const __global float* restrict x, const __global float* restrict ut,
                                    const __global float* restrict vt, const __global float* restrict bias_p,
                                    const int has_bias_p, const __global float* restrict bias_n,
                                    const int has_bias_n, __global float* restrict out_p,
                                    __global float* restrict out_n, const int rows, const int K, const int N,
                                    const int with_n, __local float* xs, __local float* us, __local float* vs)
{
    GEMM_TILED_ITEM;
    float p[TILE_W][TILE_W];
    float n[TILE_W][TILE_W];
    GEMM_TILED_ZERO(p);
    GEMM_TILED_ZERO(n);
    GEMM_TILED_WALK(K,
        lrp_stage_rows(xs, x, rows, K, bb, k0);
        lrp_stage_cols(us, ut, K, N, k0, cb);
        lrp_stage_cols(vs, vt, K, N, k0, cb);,
        float a[TILE_W];
        float u[TILE_W];
        float v[TILE_W];
        _Pragma("unroll")
        for (int r = 0; r < TILE_W; r++) {
            a[r] = GEMM_TILED_ROW(xs, r);
            u[r] = GEMM_TILED_COL(us, r);
            v[r] = GEMM_TILED_COL(vs, r);
        }
        _Pragma("unroll")
        for (int r = 0; r < TILE_W; r++) {
            const int pos = a[r] > 0.0f;
            _Pragma("unroll")
            for (int c = 0; c < TILE_W; c++) {
                p[r][c] = fma(a[r], pos ? u[c] : v[c], p[r][c]);
                if (with_n) {
                    n[r][c] = fma(a[r], pos ? v[c] : u[c], n[r][c]);
                }
            }
        }
    )
    GEMM_TILED_STORE(rows, N,
        out_p[b * N + col] = has_bias_p ? p[r][c] + bias_p[col] : p[r][c];
        if (with_n) {
            out_n[b * N + col] = has_bias_n ? n[r][c] + bias_n[col] : n[r][c];
        }
    )
}

__kernel __attribute__((reqd_work_group_size(TILE_T, TILE_T, 1)))
void linear_signed_tiled(__global const float* restrict x, __global const float* restrict ut,
                         __global const float* restrict vt, __global const float* restrict bias_p,
                         const int has_bias_p, __global const float* restrict bias_n, const int has_bias_n,
                         __global float* restrict out_p, __global float* restrict out_n,
                         const int rows, const int K, const int N)
{
    __local float xs[TILE_B * TILE_AS];
    __local float us[TILE_K * TILE_B];
    __local float vs[TILE_K * TILE_B];
    linear_signed_block(x, ut, vt, bias_p, has_bias_p, bias_n, has_bias_n, out_p, out_n, rows, K, N, 1,
                        xs, us, vs);
}

__kernel __attribute__((reqd_work_group_size(TILE_T, TILE_T, 1)))
void linear_signed_p_tiled(__global const float* restrict x, __global const float* restrict ut,
                           __global const float* restrict vt, __global const float* restrict bias_p,
                           const int has_bias_p, __global float* restrict out_p,
                           const int rows, const int K, const int N)
{
    __local float xs[TILE_B * TILE_AS];
    __local float us[TILE_K * TILE_B];
    __local float vs[TILE_K * TILE_B];
    linear_signed_block(x, ut, vt, bias_p, has_bias_p, bias_p, 0, out_p, out_p, rows, K, N, 0, xs, us, vs);
}

__kernel __attribute__((reqd_work_group_size(TILE_T, TILE_T, 1)))
void linear_zbox_tiled(__global const float* restrict x, __global const float* restrict wt,
                       __global const float* restrict low, __global const float* restrict high,
                       __global float* restrict d, const int rows, const int K, const int N)
{
    __local float xs[TILE_B * TILE_AS];
    __local float ws[TILE_K * TILE_B];
    __local float ls[TILE_K];
    __local float hs[TILE_K];
    GEMM_TILED_ITEM;
    float acc[TILE_W][TILE_W];
    GEMM_TILED_ZERO(acc);
    GEMM_TILED_WALK(K,
        lrp_stage_rows(xs, x, rows, K, bb, k0);
        lrp_stage_cols(ws, wt, K, N, k0, cb);
        lrp_stage_vec(ls, low, K, k0);
        lrp_stage_vec(hs, high, K, k0);,
        float tl[TILE_W];
        float th[TILE_W];
        float w[TILE_W];
        _Pragma("unroll")
        for (int r = 0; r < TILE_W; r++) {
            const float xi = GEMM_TILED_ROW(xs, r);
            tl[r] = xi - ls[kk];
            th[r] = xi - hs[kk];
            w[r] = GEMM_TILED_COL(ws, r);
        }
        _Pragma("unroll")
        for (int r = 0; r < TILE_W; r++) {
            _Pragma("unroll")
            for (int c = 0; c < TILE_W; c++) {
                acc[r][c] = fma(w[c] > 0.0f ? tl[r] : th[r], w[c], acc[r][c]);
            }
        }
    )
    GEMM_TILED_STORE(rows, N,
        d[b * N + col] = acc[r][c];
    )
}
