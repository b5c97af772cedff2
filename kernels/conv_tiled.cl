/*
 * conv_tiled.cl: the convolution kernels for GPUs (conv.variant=tiled), the same bits as the reference kernels of
 * conv_simple.cl, whose header states the math; geometry and walks: conv_walk.h.
 *   *_tiled  CONV_TILE_P pixels per work-group, CONV_TILE_C channels per work-item, weight slices of CONV_TILE_K
 *            chain steps staged in local memory.
 * Tuning parameters (#ifndef defaults below, overridden by the host's #defines): CONV_TILE_P 64, CONV_TILE_C 8,
 * CONV_TILE_K 32.
 */
#pragma OPENCL FP_CONTRACT OFF

#include "lrp_common.h"
#include "conv_walk.h"

/* ================================================================ tiled: local-memory weights, for GPUs
 *
 * A work-group of CONV_TILE_P work-items covers CONV_TILE_P consecutive pixels of one sample and CONV_TILE_C
 * channels of one group; each work-item computes its pixel's CONV_TILE_C outputs in registers. The chain dimension
 * (ci, kh, kw) forward or (oc, kh, kw) backward, flattened, is walked in CONV_TILE_K-deep slices whose weights for
 * the block's channels the work-group stages in local memory; each work-item then reads its own input (or upper
 * gradient) from global memory, adjacent work-items at adjacent addresses. Staged weights of channels past the
 * group are 0 and never stored; each chain still visits its taps in ascending order and skips those outside.
 * Global (ceil(pixels / CONV_TILE_P) * CONV_TILE_P, G * ceil(channels per group / CONV_TILE_C), B); local
 * (CONV_TILE_P, 1, 1).
 */
#ifndef CONV_TILE_P
#define CONV_TILE_P 64
#endif
#ifndef CONV_TILE_C
#define CONV_TILE_C 8
#endif
#ifndef CONV_TILE_K
#define CONV_TILE_K 32
#endif

/*
 * dst[c][kk] = the weight of channel c0 + c (of cnt) at flattened chain index k0 + kk (of K): forward (back == 0)
 * w[(oc0 + c) * K + k]; backward w[((grp*cout + k / KK) * cin + c0 + c) * KK + k % KK], where the caller passes
 * w already offset to its group and cin.
 */
LRP_INLINE void conv_stage(__local float* dst, const __global float* restrict w, const int back, const int c0,
                           const int cnt, const int k0, const int K, const int cin, const int KK)
{
    for (int e = get_local_id(0); e < CONV_TILE_C * CONV_TILE_K; e += CONV_TILE_P) {
        const int c = e / CONV_TILE_K;
        const int kk = e - c * CONV_TILE_K;
        const int k = k0 + kk;
        float v = 0.0f;
        if (c < cnt && k < K) {
            v = back ? w[(k / KK * cin + c0 + c) * KK + k % KK] : w[(c0 + c) * K + k];
        }
        dst[e] = v;
    }
}

#define CONV_TILE_SETUP(PIXELS, CHANNELS) \
    CONV_OUT_DIMS; \
    const int OHW = OH * OW; \
    const int HW = H * W; \
    const int pix = get_global_id(0); \
    const int cb = get_global_id(1); \
    const int b = get_global_id(2); \
    CONV_CHANNEL_BLOCK(CHANNELS, CONV_TILE_C); \
    const int live = pix < PIXELS && b < rows; \
    const int KK = KH * KW

/*
 * Forward tiled: the chain [0, K) in CONV_TILE_K-deep slices k0; STAGE stages the slice's weights between barriers,
 * then BODY runs for each tap kk < kn of the slice inside the input, at flattened index k0 + kk of the pixel
 * (oh, ow), with e its input element; (cl, i, j) advance as the index grows by one.
 */
#define CONV_FWD_TILE_WALK(STAGE, BODY) \
    for (int k0 = 0; k0 < K; k0 += CONV_TILE_K) { \
        barrier(CLK_LOCAL_MEM_FENCE); \
        STAGE \
        barrier(CLK_LOCAL_MEM_FENCE); \
        const int kn = min(CONV_TILE_K, K - k0); \
        int cl = k0 / KK; \
        int i = k0 % KK / KW; \
        int j = k0 % KW; \
        for (int kk = 0; kk < kn; kk++) { \
            const int ih = ihb + i * DH; \
            const int iw = iwb + j * DW; \
            if ((uint)ih < (uint)H && (uint)iw < (uint)W) { \
                const int e = cl * HW + ih * W + iw; \
                BODY \
            } \
            if (++j == KW) { \
                j = 0; \
                if (++i == KH) { \
                    i = 0; \
                    cl++; \
                } \
            } \
        } \
    }

__kernel void conv_fwd_tiled(__global const float* restrict x, __global const float* restrict w,
                             __global const float* restrict bias, const int has_bias, __global float* restrict z,
                             const int rows, CONV_GEOMETRY)
{
    CONV_TILE_SETUP(OHW, cout);
    __local float ws[CONV_TILE_C * CONV_TILE_K];
    const int K = cin * KK;
    const int q = min(pix, OHW - 1);
    const int ihb = q / OW * SH - PH;
    const int iwb = q % OW * SW - PW;
    const __global float* xg = x + min(b, rows - 1) * (C * HW) + grp * cin * HW;
    const int oc0 = grp * cout + l0;
    float acc[CONV_TILE_C];
    #pragma unroll
    for (int c = 0; c < CONV_TILE_C; c++) {
        acc[c] = 0.0f;
    }
    CONV_FWD_TILE_WALK(
        conv_stage(ws, w, 0, oc0, nl, k0, K, cin, KK);,
        const float xs = xg[e];
        _Pragma("unroll")
        for (int c = 0; c < CONV_TILE_C; c++) {
            acc[c] = fma(xs, ws[c * CONV_TILE_K + kk], acc[c]);
        }
    )
    if (live) {
        for (int c = 0; c < nl; c++) {
            z[b * (OC * OHW) + (oc0 + c) * OHW + pix] = has_bias ? acc[c] + bias[oc0 + c] : acc[c];
        }
    }
}

__kernel void conv_signed_tiled(__global const float* restrict x, __global const float* restrict u,
                                __global const float* restrict v, __global const float* restrict biasP,
                                const int has_bp, __global const float* restrict biasN, const int has_bn,
                                __global float* restrict outP, __global float* restrict outN, const int has_n,
                                const int rows, CONV_GEOMETRY)
{
    CONV_TILE_SETUP(OHW, cout);
    __local float us[CONV_TILE_C * CONV_TILE_K];
    __local float vs[CONV_TILE_C * CONV_TILE_K];
    const int K = cin * KK;
    const int q = min(pix, OHW - 1);
    const int ihb = q / OW * SH - PH;
    const int iwb = q % OW * SW - PW;
    const __global float* xg = x + min(b, rows - 1) * (C * HW) + grp * cin * HW;
    const int oc0 = grp * cout + l0;
    float p[CONV_TILE_C];
    float n[CONV_TILE_C];
    #pragma unroll
    for (int c = 0; c < CONV_TILE_C; c++) {
        p[c] = 0.0f;
        n[c] = 0.0f;
    }
    CONV_FWD_TILE_WALK(
        conv_stage(us, u, 0, oc0, nl, k0, K, cin, KK);
        conv_stage(vs, v, 0, oc0, nl, k0, K, cin, KK);,
        const float xs = xg[e];
        const int pos = xs > 0.0f;
        _Pragma("unroll")
        for (int c = 0; c < CONV_TILE_C; c++) {
            const float uu = us[c * CONV_TILE_K + kk];
            const float vv = vs[c * CONV_TILE_K + kk];
            p[c] = fma(xs, pos ? uu : vv, p[c]);
            n[c] = fma(xs, pos ? vv : uu, n[c]);
        }
    )
    if (live) {
        for (int c = 0; c < nl; c++) {
            const int o = b * (OC * OHW) + (oc0 + c) * OHW + pix;
            outP[o] = has_bp ? p[c] + biasP[oc0 + c] : p[c];
            if (has_n) {
                outN[o] = has_bn ? n[c] + biasN[oc0 + c] : n[c];
            }
        }
    }
}

__kernel void conv_zbox_tiled(__global const float* restrict x, __global const float* restrict w,
                              __global const float* restrict low, __global const float* restrict high,
                              __global float* restrict d, const int rows, CONV_GEOMETRY)
{
    CONV_TILE_SETUP(OHW, cout);
    __local float ws[CONV_TILE_C * CONV_TILE_K];
    const int K = cin * KK;
    const int q = min(pix, OHW - 1);
    const int ihb = q / OW * SH - PH;
    const int iwb = q % OW * SW - PW;
    const int xo = grp * cin * HW;
    const __global float* xg = x + min(b, rows - 1) * (C * HW) + xo;
    const int oc0 = grp * cout + l0;
    float acc[CONV_TILE_C];
    #pragma unroll
    for (int c = 0; c < CONV_TILE_C; c++) {
        acc[c] = 0.0f;
    }
    CONV_FWD_TILE_WALK(
        conv_stage(ws, w, 0, oc0, nl, k0, K, cin, KK);,
        const float xs = xg[e];
        const float tl = xs - low[xo + e];
        const float th = xs - high[xo + e];
        _Pragma("unroll")
        for (int c = 0; c < CONV_TILE_C; c++) {
            const float ww = ws[c * CONV_TILE_K + kk];
            acc[c] = fma(ww > 0.0f ? tl : th, ww, acc[c]);
        }
    )
    if (live) {
        for (int c = 0; c < nl; c++) {
            d[b * (OC * OHW) + (oc0 + c) * OHW + pix] = acc[c];
        }
    }
}

/*
 * Backward tiled: as CONV_FWD_TILE_WALK, over the taps k0 + kk = (ocl, i, j) of input pixel (ih, iw) that meet an
 * output; `at` the output element (within the group's upper gradient).
 */
#define CONV_BACK_TILE_WALK(STAGE, BODY) \
    for (int k0 = 0; k0 < K; k0 += CONV_TILE_K) { \
        barrier(CLK_LOCAL_MEM_FENCE); \
        STAGE \
        barrier(CLK_LOCAL_MEM_FENCE); \
        const int kn = min(CONV_TILE_K, K - k0); \
        int ocl = k0 / KK; \
        int i = k0 % KK / KW; \
        int j = k0 % KW; \
        for (int kk = 0; kk < kn; kk++) { \
            const int th = thb - i * DH; \
            const int tw = twb - j * DW; \
            if (th >= 0 && tw >= 0 && th % SH == 0 && tw % SW == 0 && th / SH < OH && tw / SW < OW) { \
                const int at = ocl * OHW + th / SH * OW + tw / SW; \
                BODY \
            } \
            if (++j == KW) { \
                j = 0; \
                if (++i == KH) { \
                    i = 0; \
                    ocl++; \
                } \
            } \
        } \
    }

#define CONV_BACK_TILE_BASE \
    const int K = cout * KK; \
    const int q = min(pix, HW - 1); \
    const int thb = q / W + PH; \
    const int twb = q % W + PW; \
    const int gg = min(b, rows - 1) * (OC * OHW) + grp * cout * OHW; \
    const int wo = grp * cout * cin * KK; \
    const int ci0 = grp * cin + l0

__kernel void conv_back_tiled(__global const float* restrict g, __global const float* restrict w,
                              __global const float* restrict x, const int has_x, __global float* restrict r,
                              const int rows, CONV_GEOMETRY)
{
    CONV_TILE_SETUP(HW, cin);
    CONV_BACK_TILE_BASE;
    __local float ws[CONV_TILE_C * CONV_TILE_K];
    float acc[CONV_TILE_C];
    #pragma unroll
    for (int c = 0; c < CONV_TILE_C; c++) {
        acc[c] = 0.0f;
    }
    CONV_BACK_TILE_WALK(
        conv_stage(ws, w + wo, 1, l0, nl, k0, K, cin, KK);,
        const float gv = g[gg + at];
        _Pragma("unroll")
        for (int c = 0; c < CONV_TILE_C; c++) {
            acc[c] = fma(ws[c * CONV_TILE_K + kk], gv, acc[c]);
        }
    )
    if (live) {
        for (int c = 0; c < nl; c++) {
            const int e = b * (C * HW) + (ci0 + c) * HW + pix;
            r[e] = has_x ? x[e] * acc[c] : acc[c];
        }
    }
}

__kernel void conv_back_signed_tiled(__global const float* restrict hp, __global const float* restrict hn,
                                     const int has_n, __global const float* restrict u,
                                     __global const float* restrict v, __global const float* restrict x,
                                     __global float* restrict r, const int rows, CONV_GEOMETRY)
{
    CONV_TILE_SETUP(HW, cin);
    CONV_BACK_TILE_BASE;
    __local float us[CONV_TILE_C * CONV_TILE_K];
    __local float vs[CONV_TILE_C * CONV_TILE_K];
    float c1[CONV_TILE_C];
    float c2[CONV_TILE_C];
    #pragma unroll
    for (int c = 0; c < CONV_TILE_C; c++) {
        c1[c] = 0.0f;
        c2[c] = 0.0f;
    }
    CONV_BACK_TILE_WALK(
        conv_stage(us, u + wo, 1, l0, nl, k0, K, cin, KK);
        conv_stage(vs, v + wo, 1, l0, nl, k0, K, cin, KK);,
        const float pg = hp[gg + at];
        const float ng = has_n ? hn[gg + at] : 0.0f;
        _Pragma("unroll")
        for (int c = 0; c < CONV_TILE_C; c++) {
            const float uu = us[c * CONV_TILE_K + kk];
            const float vv = vs[c * CONV_TILE_K + kk];
            c1[c] = fma(uu, pg, c1[c]);
            c2[c] = fma(vv, pg, c2[c]);
            if (has_n) {
                c1[c] = fma(vv, ng, c1[c]);
                c2[c] = fma(uu, ng, c2[c]);
            }
        }
    )
    if (live) {
        for (int c = 0; c < nl; c++) {
            const int e = b * (C * HW) + (ci0 + c) * HW + pix;
            const float xi = x[e];
            r[e] = xi * (xi > 0.0f ? c1[c] : c2[c]);
        }
    }
}

__kernel void conv_back_zbox_tiled(__global const float* restrict g, __global const float* restrict w,
                                   __global const float* restrict wpos, __global const float* restrict wneg,
                                   __global const float* restrict x, __global const float* restrict low,
                                   __global const float* restrict high, __global float* restrict r, const int rows,
                                   CONV_GEOMETRY)
{
    CONV_TILE_SETUP(HW, cin);
    CONV_BACK_TILE_BASE;
    __local float ws[CONV_TILE_C * CONV_TILE_K];
    __local float ps[CONV_TILE_C * CONV_TILE_K];
    __local float ms[CONV_TILE_C * CONV_TILE_K];
    float c0[CONV_TILE_C];
    float cp[CONV_TILE_C];
    float cm[CONV_TILE_C];
    #pragma unroll
    for (int c = 0; c < CONV_TILE_C; c++) {
        c0[c] = 0.0f;
        cp[c] = 0.0f;
        cm[c] = 0.0f;
    }
    CONV_BACK_TILE_WALK(
        conv_stage(ws, w + wo, 1, l0, nl, k0, K, cin, KK);
        conv_stage(ps, wpos + wo, 1, l0, nl, k0, K, cin, KK);
        conv_stage(ms, wneg + wo, 1, l0, nl, k0, K, cin, KK);,
        const float gv = g[gg + at];
        _Pragma("unroll")
        for (int c = 0; c < CONV_TILE_C; c++) {
            c0[c] = fma(ws[c * CONV_TILE_K + kk], gv, c0[c]);
            cp[c] = fma(ps[c * CONV_TILE_K + kk], gv, cp[c]);
            cm[c] = fma(ms[c * CONV_TILE_K + kk], gv, cm[c]);
        }
    )
    if (live) {
        for (int c = 0; c < nl; c++) {
            const int e = (ci0 + c) * HW + pix;
            const int o = b * (C * HW) + e;
            r[o] = (x[o] * c0[c] - low[e] * cp[c]) - high[e] * cm[c];
        }
    }
}
