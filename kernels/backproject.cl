/*
 * backproject.cl: relevance sent back through a dense layer (backproject, backprojectSigned, backprojectZBox).
 *
 * Math, per batch row b < B and input i < K, each a chain over outputs j = 0..N-1 in ascending order from +0.0f:
 *   backproject:        c = chain_j fma(w[j,i], g[b,j]);  r[b,i] = has_x ? x[b,i] * c : c
 *   backproject_signed: per j: c1 = fma(u[j,i], hp[b,j], c1), then c1 = fma(v[j,i], hn[b,j], c1);
 *                              c2 = fma(v[j,i], hp[b,j], c2), then c2 = fma(u[j,i], hn[b,j], c2);
 *                       (the backproject_signed_p kernels, for hn absent, leave out the hn terms)
 *                       r[b,i] = x[b,i] * (x[b,i] > 0 ? c1 : c2)
 *   backproject_zbox:   c0, cp, cm = the chains of w, wpos, wneg against g;
 *                       r[b,i] = (x[b,i] * c0 - low[i] * cp) - high[i] * cm, each op rounded
 * Layout (row-major): g, hp, hn[B,N]; w, u, v, wpos, wneg[N,K] (PyTorch's layout: row j is output j's weights,
 * contiguous over the inputs); x, r[B,K]; low, high[K]. An absent x is replaced by a dummy and has_x = 0.
 *
 * Variants, same bits (the host picks one per device type), the same shapes as matmul.cl with the roles
 * (chain K, columns N) of the forward pass swapped:
 *   *_simple  one work-item per output r[b,i]; global (K, B) rounded up to the host's local size.
 *   *_vec     CPU devices (PoCL): VEC_ROWS rows x 16*colv inputs per work-item in float16 registers, reading
 *             rows of w[N,K]; colv = VEC_COLV (backproject), VEC_COLV2 (backproject_signed: two chains) or
 *             VEC_COLV3 (backproject_zbox: three); global (ceil(K / (16*colv)), ceil(B / VEC_ROWS)) rounded up to
 *             the local size.
 *   *_tiled   GPUs: TILE_T x TILE_T work-groups over TILE_B x TILE_B blocks of r, TILE_K-deep slices of g and w
 *             staged in local memory; global (ceil(K / TILE_B) * TILE_T, ceil(B / TILE_B) * TILE_T).
 * Tuning parameters (defaults in dense_vec.h and gemm_tiled.h, overridden by the host's #defines): VEC_ROWS 8,
 * VEC_COLV 2, VEC_COLV2 1, VEC_COLV3 1; TILE_T 16, TILE_W 4, TILE_K 16 (TILE_B = TILE_T * TILE_W).
 * The vec kernels share the one walk of dense_vec.h, the tiled kernels the one walk of gemm_tiled.h (with the
 * one-chain body of linear_tiled and backproject_tiled).
 */
#pragma OPENCL FP_CONTRACT OFF

#include "lrp_common.h"
#include "dense_vec.h"
#include "gemm_tiled.h"

/* ---------------------------------------------------------------- simple: one work-item per output */

__kernel void backproject_simple(__global const float* restrict g, __global const float* restrict w,
                                 __global const float* restrict x, const int has_x, __global float* restrict r,
                                 const int rows, const int N, const int K)
{
    const int i = get_global_id(0);
    const int b = get_global_id(1);
    if (i >= K || b >= rows) {
        return;
    }
    const __global float* gr = g + b * N;
    float c = 0.0f;
    for (int j = 0; j < N; j++) {
        c = fma(w[j * K + i], gr[j], c);
    }
    r[b * K + i] = has_x ? x[b * K + i] * c : c;
}

LRP_INLINE void backproject_signed_one(const __global float* restrict hp, const __global float* restrict hn,
                                       const __global float* restrict u, const __global float* restrict v,
                                       const __global float* restrict x, __global float* restrict r,
                                       const int rows, const int N, const int K, const int with_n)
{
    const int i = get_global_id(0);
    const int b = get_global_id(1);
    if (i >= K || b >= rows) {
        return;
    }
    float c1 = 0.0f;
    float c2 = 0.0f;
    for (int j = 0; j < N; j++) {
        const float uu = u[j * K + i];
        const float vv = v[j * K + i];
        const float gp = hp[b * N + j];
        c1 = fma(uu, gp, c1);
        c2 = fma(vv, gp, c2);
        if (with_n) {
            const float gn = hn[b * N + j];
            c1 = fma(vv, gn, c1);
            c2 = fma(uu, gn, c2);
        }
    }
    const float xi = x[b * K + i];
    r[b * K + i] = xi * (xi > 0.0f ? c1 : c2);
}

__kernel void backproject_signed_simple(__global const float* restrict hp, __global const float* restrict hn,
                                        __global const float* restrict u, __global const float* restrict v,
                                        __global const float* restrict x, __global float* restrict r,
                                        const int rows, const int N, const int K)
{
    backproject_signed_one(hp, hn, u, v, x, r, rows, N, K, 1);
}

__kernel void backproject_signed_p_simple(__global const float* restrict hp, __global const float* restrict u,
                                          __global const float* restrict v, __global const float* restrict x,
                                          __global float* restrict r, const int rows, const int N, const int K)
{
    backproject_signed_one(hp, hp, u, v, x, r, rows, N, K, 0);
}

__kernel void backproject_zbox_simple(__global const float* restrict g, __global const float* restrict w,
                                      __global const float* restrict wpos, __global const float* restrict wneg,
                                      __global const float* restrict x, __global const float* restrict low,
                                      __global const float* restrict high, __global float* restrict r,
                                      const int rows, const int N, const int K)
{
    const int i = get_global_id(0);
    const int b = get_global_id(1);
    if (i >= K || b >= rows) {
        return;
    }
    const __global float* gr = g + b * N;
    float c0 = 0.0f;
    float cp = 0.0f;
    float cm = 0.0f;
    for (int j = 0; j < N; j++) {
        const float gj = gr[j];
        c0 = fma(w[j * K + i], gj, c0);
        cp = fma(wpos[j * K + i], gj, cp);
        cm = fma(wneg[j * K + i], gj, cm);
    }
    r[b * K + i] = (x[b * K + i] * c0 - low[i] * cp) - high[i] * cm;
}

/* ------------------------------------------------------- vec: float16 register tiles (CPU devices), dense_vec.h */

LRP_INLINE void backproject_v16(const __global float* restrict g, const __global float* restrict w,
                                const __global float* restrict ws, const int has_ws,
                                const __global float* restrict x, const int has_x, __global float* restrict r,
                                const int N, const int K, const int b0, const int nr, const int i0, const int nv,
                                const int skip)
{
    VEC_TILE(acc);
    const __global float* gr = g + b0 * N;
    VEC_WALK(wp, step, w, ws, has_ws, N, K, i0, nv)
    for (int j = 0; j < N; j++, wp += step) {
        float16 wv[VEC_COLV_MAX];
        #pragma unroll
        for (int c = 0; c < nv; c++) {
            wv[c] = vload16(c, wp);
        }
        #pragma unroll
        for (int q = 0; q < nr; q++) {
            const float16 gv = (float16)(gr[q * N + j]);
            #pragma unroll
            for (int c = 0; c < nv; c++) {
                acc[q][c] = fma(wv[c], gv, acc[q][c]);
            }
        }
    }
    #pragma unroll
    for (int q = 0; q < nr; q++) {
        const int o = (b0 + q) * K + i0;
        #pragma unroll
        for (int c = 0; c < nv; c++) {
            lrp_store16(has_x ? lrp_load16(c, x + o, skip) * acc[q][c] : acc[q][c], c, r + o, skip);
        }
    }
}

LRP_INLINE void backproject_c1(const __global float* restrict g, const __global float* restrict w,
                               const __global float* restrict ws, const int has_ws, const __global float* restrict x, const int has_x, __global float* restrict r,
                               const int N, const int K, const int b0, const int nr, const int i)
{
    float acc[VEC_ROWS];
    #pragma unroll
    for (int q = 0; q < nr; q++) {
        acc[q] = 0.0f;
    }
    const __global float* gr = g + b0 * N;
    for (int j = 0; j < N; j++) {
        const float wj = w[j * K + i];
        #pragma unroll
        for (int q = 0; q < nr; q++) {
            acc[q] = fma(wj, gr[q * N + j], acc[q]);
        }
    }
    #pragma unroll
    for (int q = 0; q < nr; q++) {
        const int o = (b0 + q) * K + i;
        r[o] = has_x ? x[o] * acc[q] : acc[q];
    }
}

__kernel void backproject_vec(__global const float* restrict g, __global const float* restrict w,
                              __global const float* restrict ws, const int has_ws,
                              __global const float* restrict x, const int has_x, __global float* restrict r,
                              const int rows, const int N, const int K)
{
    VEC_ITEM_N(backproject_v16, backproject_c1, rows, K, VEC_COLV, has_ws, g, w, ws, has_ws, x, has_x, r, N, K);
}

LRP_INLINE void backproject_signed_v16(const __global float* restrict hp, const __global float* restrict hn,
                                       const __global float* restrict u, const __global float* restrict v,
                                       const __global float* restrict x, __global float* restrict r,
                                       const int N, const int K, const int with_n, const int b0, const int nr,
                                       const int i0, const int nv, const int skip)
{
    VEC_TILE(c1);
    VEC_TILE(c2);
    const __global float* pr = hp + b0 * N;
    const __global float* nq = hn + b0 * N;
    const __global float* up = u + i0;
    const __global float* vp = v + i0;
    for (int j = 0; j < N; j++, up += K, vp += K) {
        float16 uv[VEC_COLV_MAX];
        float16 vv[VEC_COLV_MAX];
        #pragma unroll
        for (int c = 0; c < nv; c++) {
            uv[c] = vload16(c, up);
            vv[c] = vload16(c, vp);
        }
        #pragma unroll
        for (int q = 0; q < nr; q++) {
            const float16 gp = (float16)(pr[q * N + j]);
            if (with_n) {
                const float16 gn = (float16)(nq[q * N + j]);
                #pragma unroll
                for (int c = 0; c < nv; c++) {
                    c1[q][c] = fma(vv[c], gn, fma(uv[c], gp, c1[q][c]));
                    c2[q][c] = fma(uv[c], gn, fma(vv[c], gp, c2[q][c]));
                }
            } else {
                #pragma unroll
                for (int c = 0; c < nv; c++) {
                    c1[q][c] = fma(uv[c], gp, c1[q][c]);
                    c2[q][c] = fma(vv[c], gp, c2[q][c]);
                }
            }
        }
    }
    #pragma unroll
    for (int q = 0; q < nr; q++) {
        const int o = (b0 + q) * K + i0;
        #pragma unroll
        for (int c = 0; c < nv; c++) {
            const float16 xv = vload16(c, x + o);
            lrp_store16(xv * select(c2[q][c], c1[q][c], xv > 0.0f), c, r + o, skip);
        }
    }
}

LRP_INLINE void backproject_signed_c1(const __global float* restrict hp, const __global float* restrict hn,
                                      const __global float* restrict u, const __global float* restrict v,
                                      const __global float* restrict x, __global float* restrict r,
                                      const int N, const int K, const int with_n, const int b0, const int nr,
                                      const int i)
{
    float c1[VEC_ROWS];
    float c2[VEC_ROWS];
    #pragma unroll
    for (int q = 0; q < nr; q++) {
        c1[q] = 0.0f;
        c2[q] = 0.0f;
    }
    const __global float* pr = hp + b0 * N;
    const __global float* nq = hn + b0 * N;
    for (int j = 0; j < N; j++) {
        const float uu = u[j * K + i];
        const float vv = v[j * K + i];
        #pragma unroll
        for (int q = 0; q < nr; q++) {
            const float gp = pr[q * N + j];
            c1[q] = fma(uu, gp, c1[q]);
            c2[q] = fma(vv, gp, c2[q]);
            if (with_n) {
                const float gn = nq[q * N + j];
                c1[q] = fma(vv, gn, c1[q]);
                c2[q] = fma(uu, gn, c2[q]);
            }
        }
    }
    #pragma unroll
    for (int q = 0; q < nr; q++) {
        const int o = (b0 + q) * K + i;
        const float xi = x[o];
        r[o] = xi * (xi > 0.0f ? c1[q] : c2[q]);
    }
}

__kernel void backproject_signed_vec(__global const float* restrict hp, __global const float* restrict hn,
                                     __global const float* restrict u, __global const float* restrict v,
                                     __global const float* restrict x, __global float* restrict r,
                                     const int rows, const int N, const int K)
{
    VEC_ITEM(backproject_signed_v16, backproject_signed_c1, rows, K, VEC_COLV2, hp, hn, u, v, x, r, N, K, 1);
}

__kernel void backproject_signed_p_vec(__global const float* restrict hp, __global const float* restrict u,
                                       __global const float* restrict v, __global const float* restrict x,
                                       __global float* restrict r, const int rows, const int N, const int K)
{
    VEC_ITEM(backproject_signed_v16, backproject_signed_c1, rows, K, VEC_COLV2, hp, hp, u, v, x, r, N, K, 0);
}

LRP_INLINE void backproject_zbox_v16(const __global float* restrict g, const __global float* restrict w,
                                     const __global float* restrict wpos, const __global float* restrict wneg,
                                     const __global float* restrict x, const __global float* restrict low,
                                     const __global float* restrict high, __global float* restrict r,
                                     const int N, const int K, const int b0, const int nr, const int i0,
                                     const int nv, const int skip)
{
    VEC_TILE(c0);
    VEC_TILE(cp);
    VEC_TILE(cm);
    const __global float* gr = g + b0 * N;
    for (int j = 0; j < N; j++) {
        const int o = j * K + i0;
        float16 w0[VEC_COLV_MAX];
        float16 wp[VEC_COLV_MAX];
        float16 wm[VEC_COLV_MAX];
        #pragma unroll
        for (int c = 0; c < nv; c++) {
            w0[c] = vload16(c, w + o);
            wp[c] = vload16(c, wpos + o);
            wm[c] = vload16(c, wneg + o);
        }
        #pragma unroll
        for (int q = 0; q < nr; q++) {
            const float16 gv = (float16)(gr[q * N + j]);
            #pragma unroll
            for (int c = 0; c < nv; c++) {
                c0[q][c] = fma(w0[c], gv, c0[q][c]);
                cp[q][c] = fma(wp[c], gv, cp[q][c]);
                cm[q][c] = fma(wm[c], gv, cm[q][c]);
            }
        }
    }
    #pragma unroll
    for (int q = 0; q < nr; q++) {
        const int o = (b0 + q) * K + i0;
        #pragma unroll
        for (int c = 0; c < nv; c++) {
            const float16 xv = vload16(c, x + o);
            const float16 lo = vload16(c, low + i0);
            const float16 hi = vload16(c, high + i0);
            lrp_store16((xv * c0[q][c] - lo * cp[q][c]) - hi * cm[q][c], c, r + o, skip);
        }
    }
}

LRP_INLINE void backproject_zbox_c1(const __global float* restrict g, const __global float* restrict w,
                                    const __global float* restrict wpos, const __global float* restrict wneg,
                                    const __global float* restrict x, const __global float* restrict low,
                                    const __global float* restrict high, __global float* restrict r,
                                    const int N, const int K, const int b0, const int nr, const int i)
{
    float c0[VEC_ROWS];
    float cp[VEC_ROWS];
    float cm[VEC_ROWS];
    #pragma unroll
    for (int q = 0; q < nr; q++) {
        c0[q] = 0.0f;
        cp[q] = 0.0f;
        cm[q] = 0.0f;
    }
    const __global float* gr = g + b0 * N;
    for (int j = 0; j < N; j++) {
        const float w0 = w[j * K + i];
        const float wp = wpos[j * K + i];
        const float wm = wneg[j * K + i];
        #pragma unroll
        for (int q = 0; q < nr; q++) {
            const float gj = gr[q * N + j];
            c0[q] = fma(w0, gj, c0[q]);
            cp[q] = fma(wp, gj, cp[q]);
            cm[q] = fma(wm, gj, cm[q]);
        }
    }
    #pragma unroll
    for (int q = 0; q < nr; q++) {
        const int o = (b0 + q) * K + i;
        r[o] = (x[o] * c0[q] - low[i] * cp[q]) - high[i] * cm[q];
    }
}

__kernel void backproject_zbox_vec(__global const float* restrict g, __global const float* restrict w,
                                   __global const float* restrict wpos, __global const float* restrict wneg,
                                   __global const float* restrict x, __global const float* restrict low,
                                   __global const float* restrict high, __global float* restrict r,
                                   const int rows, const int N, const int K)
{
    VEC_ITEM(backproject_zbox_v16, backproject_zbox_c1, rows, K, VEC_COLV3, g, w, wpos, wneg, x, low, high, r, N, K);
}

/* ------------------------------------------------------- tiled: local-memory blocks (GPUs), gemm_tiled.h */

__kernel __attribute__((reqd_work_group_size(TILE_T, TILE_T, 1)))
void backproject_tiled(__global const float* restrict g, __global const float* restrict w,
                       __global const float* restrict x, const int has_x, __global float* restrict r,
                       const int rows, const int N, const int K)
{
    __local float gs[TILE_B * TILE_AS];
    __local float ws[TILE_K * TILE_B];
    lrp_gemm_tiled(g, w, x, has_x, r, rows, N, K, GEMM_BACKWARD, gs, ws);
}

LRP_INLINE void backproject_signed_block(const __global float* restrict hp, const __global float* restrict hn,
                                         const __global float* restrict u, const __global float* restrict v,
                                         const __global float* restrict x, __global float* restrict out,
                                         const int rows, const int N, const int K, const int with_n,
                                         __local float* ps, __local float* ns, __local float* us,
                                         __local float* vs)
{
    GEMM_TILED_ITEM;
    float c1[TILE_W][TILE_W];
    float c2[TILE_W][TILE_W];
    GEMM_TILED_ZERO(c1);
    GEMM_TILED_ZERO(c2);
    GEMM_TILED_WALK(N,
        lrp_stage_rows(ps, hp, rows, N, bb, k0);
        if (with_n) {
            lrp_stage_rows(ns, hn, rows, N, bb, k0);
        }
        lrp_stage_cols(us, u, N, K, k0, cb);
        lrp_stage_cols(vs, v, N, K, k0, cb);,
        float gp[TILE_W];
        float gn[TILE_W];
        float uu[TILE_W];
        float vv[TILE_W];
        _Pragma("unroll")
        for (int q = 0; q < TILE_W; q++) {
            gp[q] = GEMM_TILED_ROW(ps, q);
            gn[q] = with_n ? GEMM_TILED_ROW(ns, q) : 0.0f;
            uu[q] = GEMM_TILED_COL(us, q);
            vv[q] = GEMM_TILED_COL(vs, q);
        }
        _Pragma("unroll")
        for (int q = 0; q < TILE_W; q++) {
            _Pragma("unroll")
            for (int c = 0; c < TILE_W; c++) {
                c1[q][c] = fma(uu[c], gp[q], c1[q][c]);
                c2[q][c] = fma(vv[c], gp[q], c2[q][c]);
                if (with_n) {
                    c1[q][c] = fma(vv[c], gn[q], c1[q][c]);
                    c2[q][c] = fma(uu[c], gn[q], c2[q][c]);
                }
            }
        }
    )
    GEMM_TILED_STORE(rows, K,
        const float xi = x[b * K + col];
        out[b * K + col] = xi * (xi > 0.0f ? c1[r][c] : c2[r][c]);
    )
}

__kernel __attribute__((reqd_work_group_size(TILE_T, TILE_T, 1)))
void backproject_signed_tiled(__global const float* restrict hp, __global const float* restrict hn,
                              __global const float* restrict u, __global const float* restrict v,
                              __global const float* restrict x, __global float* restrict r,
                              const int rows, const int N, const int K)
{
    __local float ps[TILE_B * TILE_AS];
    __local float ns[TILE_B * TILE_AS];
    __local float us[TILE_K * TILE_B];
    __local float vs[TILE_K * TILE_B];
    backproject_signed_block(hp, hn, u, v, x, r, rows, N, K, 1, ps, ns, us, vs);
}

__kernel __attribute__((reqd_work_group_size(TILE_T, TILE_T, 1)))
void backproject_signed_p_tiled(__global const float* restrict hp, __global const float* restrict u,
                                __global const float* restrict v, __global const float* restrict x,
                                __global float* restrict r, const int rows, const int N, const int K)
{
    __local float ps[TILE_B * TILE_AS];
    __local float us[TILE_K * TILE_B];
    __local float vs[TILE_K * TILE_B];
    backproject_signed_block(hp, hp, u, v, x, r, rows, N, K, 0, ps, ps, us, vs);
}

__kernel __attribute__((reqd_work_group_size(TILE_T, TILE_T, 1)))
void backproject_zbox_tiled(__global const float* restrict g, __global const float* restrict w,
                            __global const float* restrict wpos, __global const float* restrict wneg,
                            __global const float* restrict x, __global const float* restrict low,
                            __global const float* restrict high, __global float* restrict out,
                            const int rows, const int N, const int K)
{
    __local float gs[TILE_B * TILE_AS];
    __local float ws0[TILE_K * TILE_B];
    __local float wsp[TILE_K * TILE_B];
    __local float wsm[TILE_K * TILE_B];
    GEMM_TILED_ITEM;
    float c0[TILE_W][TILE_W];
    float cp[TILE_W][TILE_W];
    float cm[TILE_W][TILE_W];
    GEMM_TILED_ZERO(c0);
    GEMM_TILED_ZERO(cp);
    GEMM_TILED_ZERO(cm);
    GEMM_TILED_WALK(N,
        lrp_stage_rows(gs, g, rows, N, bb, k0);
        lrp_stage_cols(ws0, w, N, K, k0, cb);
        lrp_stage_cols(wsp, wpos, N, K, k0, cb);
        lrp_stage_cols(wsm, wneg, N, K, k0, cb);,
        float a[TILE_W];
        float w0[TILE_W];
        float wp[TILE_W];
        float wm[TILE_W];
        _Pragma("unroll")
        for (int q = 0; q < TILE_W; q++) {
            a[q] = GEMM_TILED_ROW(gs, q);
            w0[q] = GEMM_TILED_COL(ws0, q);
            wp[q] = GEMM_TILED_COL(wsp, q);
            wm[q] = GEMM_TILED_COL(wsm, q);
        }
        _Pragma("unroll")
        for (int q = 0; q < TILE_W; q++) {
            _Pragma("unroll")
            for (int c = 0; c < TILE_W; c++) {
                c0[q][c] = fma(w0[c], a[q], c0[q][c]);
                cp[q][c] = fma(wp[c], a[q], cp[q][c]);
                cm[q][c] = fma(wm[c], a[q], cm[q][c]);
            }
        }
    )
    GEMM_TILED_STORE(rows, K,
        out[b * K + col] = (x[b * K + col] * c0[r][c] - low[col] * cp[r][c]) - high[col] * cm[r][c];
    )
}
