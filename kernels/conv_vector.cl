/*
 * conv_vector.cl: the convolution kernels for CPU devices (PoCL, conv.variant=vector), the same bits as the
 * reference kernels of conv_simple.cl, whose header states the math; geometry and walks: conv_walk.h.
 *   *_vec    channels in float16 lanes x CONV_VEC_PIX pixels per work-item, CONV_VEC_OCV float16 blocks per
 *            work-item in the one-chain kernels (conv_fwd_vec, conv_signed_p_vec: conv_signed without outN,
 *            conv_zbox_vec, conv_back_vec) and in conv_back_signed_vec (with CONV_PIX2 pixels, so the register
 *            tile stays the same), one in the others; the weights are first re-arranged by conv_arrange into a
 *            scratch buffer so one tap's channels are contiguous; pixel tiles whose taps all fall inside the input
 *            run without bounds checks. Used where a group has at least conv.vec.min channels (output channels
 *            forward, input channels backward).
 *   *_px     backprojections onto fewer input channels (the first layer) with unit column stride: 16 consecutive
 *            input columns in float16 lanes x CONV_VEC_PIX rows per work-item.
 * Tuning parameters (#ifndef defaults below, overridden by the host's #defines): CONV_VEC_PIX 8, CONV_VEC_OCV 2.
 */
#pragma OPENCL FP_CONTRACT OFF

#include "lrp_common.h"
#include "conv_walk.h"

/* ================================================================ vector: channel lanes, for CPU devices (PoCL)
 *
 * A work-item computes 16 channels (float16 lanes) x CONV_VEC_PIX consecutive pixels of one sample, the forward
 * kernels over output channels of one group and output pixels (flattened oh*OW + ow), the backward kernels over
 * input channels of one group and input pixels. Each lane of each pixel is one output with its own chain, in the
 * simple kernels' order; a tap outside the input is skipped for the whole vector of that pixel (every lane shares
 * the pixel). The weights are first arranged by conv_arrange into a scratch buffer so that the 16 channels of one
 * tap are contiguous; lanes past the group's channel count read zero weights and are never stored.
 * Global (ceil(pixels / CONV_VEC_PIX) rounded up to the local size, G * ceil(channels per group / 16), B).
 */
#ifndef CONV_VEC_PIX
#define CONV_VEC_PIX 8
#endif
/* float16 channel blocks per work-item of the one-chain kernels (conv_fwd_vec, conv_zbox_vec, conv_back_vec). */
#ifndef CONV_VEC_OCV
#define CONV_VEC_OCV 2
#endif
#define CONV_LANE_BLOCK (16 * CONV_VEC_OCV)
/* Pixels per work-item of conv_back_signed_vec (two chains over CONV_VEC_OCV blocks): the same register tile. */
#define CONV_PIX2 ((CONV_VEC_PIX + CONV_VEC_OCV - 1) / CONV_VEC_OCV)

/* The channel lanes a group's arranged weights take: channels rounded up to whole blocks of CONV_VEC_OCV float16s. */
LRP_INLINE int conv_lanes(const int n) {
    return (n + CONV_LANE_BLOCK - 1) / CONV_LANE_BLOCK * CONV_LANE_BLOCK;
}

/*
 * wt[off + ...] = w arranged for channel lanes. Forward (back == 0): [G][cin][KH*KW][lanes(cout)], lane = ocl.
 * Backward (back == 1): [G][cout][KH*KW][lanes(cin)], lane = cl. Padding lanes are 0. One work-item per element.
 */
__kernel void conv_arrange(__global const float* restrict w, __global float* restrict wt, const int off,
                           const int back, const int OC, const int cin, const int KK, const int G)
{
    const int cout = OC / G;
    const int lanes = conv_lanes(back ? cin : cout);
    const int inner = back ? cout : cin;
    const int e = get_global_id(0);
    if (e >= G * inner * KK * lanes) {
        return;
    }
    const int lane = e % lanes;
    int rest = e / lanes;
    const int k = rest % KK;
    rest /= KK;
    const int a = rest % inner;
    const int grp = rest / inner;
    float v = 0.0f;
    if (back ? lane < cin : lane < cout) {
        const int ocl = back ? a : lane;
        const int cl = back ? lane : a;
        v = w[((grp * cout + ocl) * cin + cl) * KK + k];
    }
    wt[off + e] = v;
}

/* Pixel tile setup shared by the forward vector kernels: the first tap's input row/column of each pixel. */
#define CONV_FWD_TILE(NB) \
    CONV_OUT_DIMS; \
    const int OHW = OH * OW; \
    const int p0 = get_global_id(0) * CONV_VEC_PIX; \
    const int cb = get_global_id(1); \
    const int b = get_global_id(2); \
    if (p0 >= OHW || b >= rows) { \
        return; \
    } \
    CONV_CHANNEL_BLOCK(cout, 16 * (NB)); \
    const int lanes = conv_lanes(cout); \
    const int np = min(CONV_VEC_PIX, OHW - p0); \
    const int oc0 = grp * cout + l0; \
    int ih0[CONV_VEC_PIX]; \
    int iw0[CONV_VEC_PIX]; \
    int interior = 1; \
    _Pragma("unroll") \
    for (int k = 0; k < CONV_VEC_PIX; k++) { \
        const int p = min(p0 + k, OHW - 1); \
        ih0[k] = p / OW * SH - PH; \
        iw0[k] = p % OW * SW - PW; \
        interior &= ih0[k] >= 0 && ih0[k] + (KH - 1) * DH < H && iw0[k] >= 0 && iw0[k] + (KW - 1) * DW < W; \
    } \
    const __global float* xg = x + b * (C * H * W) + grp * cin * (H * W); \
    const __global float* wg = wt + grp * cin * (KH * KW) * lanes + l0

/* The tap (i, j) of pixel k reads input row ih0[k] + i*DH, column iw0[k] + j*DW; `edge` checks the bounds. */
#define CONV_TAP_OK(k) (!edge || ((uint)(ih0[k] + i * DH) < (uint)H && (uint)(iw0[k] + j * DW) < (uint)W))
#define CONV_TAP_AT(k) ((ih0[k] + i * DH) * W + iw0[k] + j * DW)

LRP_INLINE void conv_fwd_chains(const __global float* restrict xg, const __global float* restrict wg,
                                float16* acc, const int* ih0, const int* iw0, const int cin, const int H,
                                const int W, const int KH, const int KW, const int DH, const int DW,
                                const int lanes, const int edge)
{
    for (int cl = 0; cl < cin; cl++) {
        const __global float* xc = xg + cl * (H * W);
        const __global float* wc = wg + cl * (KH * KW) * lanes;
        for (int i = 0; i < KH; i++) {
            for (int j = 0; j < KW; j++) {
                float16 wv[CONV_VEC_OCV];
                #pragma unroll
                for (int v = 0; v < CONV_VEC_OCV; v++) {
                    wv[v] = vload16(v, wc + (i * KW + j) * lanes);
                }
                #pragma unroll
                for (int k = 0; k < CONV_VEC_PIX; k++) {
                    if (CONV_TAP_OK(k)) {
                        const float16 xv = (float16)(xc[CONV_TAP_AT(k)]);
                        #pragma unroll
                        for (int v = 0; v < CONV_VEC_OCV; v++) {
                            acc[k * CONV_VEC_OCV + v] = fma(xv, wv[v], acc[k * CONV_VEC_OCV + v]);
                        }
                    }
                }
            }
        }
    }
}

/* Stores lanes [0, nl) of pixel tile v[0..np) (nvb float16 blocks per pixel) at out[(oc0 + l) * OHW + p0 + k]. */
LRP_INLINE void conv_store_lanes(const float16* v, __global float* restrict out, const int OHW, const int p0,
                                 const int np, const int nl, const int nvb)
{
    for (int k = 0; k < np; k++) {
        for (int vb = 0; vb < nvb; vb++) {
            float t[16];
            vstore16(v[k * nvb + vb], 0, t);
            for (int l = 0; l < min(16, nl - 16 * vb); l++) {
                out[(16 * vb + l) * OHW + p0 + k] = t[l];
            }
        }
    }
}

/* acc[k * nvb + vb] += the bias of lanes [0, nl) (its own rounded add), for every pixel of the tile. */
LRP_INLINE void conv_add_bias(float16* acc, const __global float* restrict bias, const int nl, const int nvb)
{
    for (int vb = 0; vb < nvb; vb++) {
        float t[16];
        for (int l = 0; l < 16; l++) {
            t[l] = 16 * vb + l < nl ? bias[16 * vb + l] : 0.0f;
        }
        const float16 bv = vload16(0, t);
        for (int k = 0; k < CONV_VEC_PIX; k++) {
            acc[k * nvb + vb] = acc[k * nvb + vb] + bv;
        }
    }
}

__kernel void conv_fwd_vec(__global const float* restrict x, __global const float* restrict wt,
                           __global const float* restrict bias, const int has_bias, __global float* restrict z,
                           const int rows, CONV_GEOMETRY)
{
    CONV_FWD_TILE(CONV_VEC_OCV);
    float16 acc[CONV_VEC_PIX * CONV_VEC_OCV];
    #pragma unroll
    for (int k = 0; k < CONV_VEC_PIX * CONV_VEC_OCV; k++) {
        acc[k] = (float16)(0.0f);
    }
    if (interior) {
        conv_fwd_chains(xg, wg, acc, ih0, iw0, cin, H, W, KH, KW, DH, DW, lanes, 0);
    } else {
        conv_fwd_chains(xg, wg, acc, ih0, iw0, cin, H, W, KH, KW, DH, DW, lanes, 1);
    }
    if (has_bias) {
        conv_add_bias(acc, bias + oc0, nl, CONV_VEC_OCV);
    }
    conv_store_lanes(acc, z + b * (OC * OHW) + oc0 * OHW, OHW, p0, np, nl, CONV_VEC_OCV);
}

LRP_INLINE void conv_signed_chains(const __global float* restrict xg, const __global float* restrict ug,
                                   const __global float* restrict vg, float16* p, float16* n, const int* ih0,
                                   const int* iw0, const int cin, const int H, const int W, const int KH,
                                   const int KW, const int DH, const int DW, const int lanes, const int edge,
                                   const int with_n, const int nvb)
{
    for (int cl = 0; cl < cin; cl++) {
        const __global float* xc = xg + cl * (H * W);
        const int wc = cl * (KH * KW) * lanes;
        for (int i = 0; i < KH; i++) {
            for (int j = 0; j < KW; j++) {
                float16 uv[CONV_VEC_OCV];
                float16 vv[CONV_VEC_OCV];
                #pragma unroll
                for (int v = 0; v < nvb; v++) {
                    uv[v] = vload16(v, ug + wc + (i * KW + j) * lanes);
                    vv[v] = vload16(v, vg + wc + (i * KW + j) * lanes);
                }
                #pragma unroll
                for (int k = 0; k < CONV_VEC_PIX; k++) {
                    if (CONV_TAP_OK(k)) {
                        const float16 xv = (float16)(xc[CONV_TAP_AT(k)]);
                        const int16 pos = xv > 0.0f; /* the sign picks by a lane blend, not a branch */
                        #pragma unroll
                        for (int v = 0; v < nvb; v++) {
                            p[k * nvb + v] = fma(xv, select(vv[v], uv[v], pos), p[k * nvb + v]);
                            if (with_n) {
                                n[k * nvb + v] = fma(xv, select(uv[v], vv[v], pos), n[k * nvb + v]);
                            }
                        }
                    }
                }
            }
        }
    }
}

/* ut, vt: u and v arranged (forward), at offsets 0 and vt_off of one scratch buffer. */
__kernel void conv_signed_vec(__global const float* restrict x, __global const float* restrict wt,
                              const int vt_off, __global const float* restrict biasP, const int has_bp,
                              __global const float* restrict biasN, const int has_bn,
                              __global float* restrict outP, __global float* restrict outN, const int has_n,
                              const int rows, CONV_GEOMETRY)
{
    CONV_FWD_TILE(1);
    float16 p[CONV_VEC_PIX];
    float16 n[CONV_VEC_PIX];
    #pragma unroll
    for (int k = 0; k < CONV_VEC_PIX; k++) {
        p[k] = (float16)(0.0f);
        n[k] = (float16)(0.0f);
    }
    const __global float* vg = wg + vt_off;
    if (has_n) {
        if (interior) {
            conv_signed_chains(xg, wg, vg, p, n, ih0, iw0, cin, H, W, KH, KW, DH, DW, lanes, 0, 1, 1);
        } else {
            conv_signed_chains(xg, wg, vg, p, n, ih0, iw0, cin, H, W, KH, KW, DH, DW, lanes, 1, 1, 1);
        }
    } else {
        if (interior) {
            conv_signed_chains(xg, wg, vg, p, n, ih0, iw0, cin, H, W, KH, KW, DH, DW, lanes, 0, 0, 1);
        } else {
            conv_signed_chains(xg, wg, vg, p, n, ih0, iw0, cin, H, W, KH, KW, DH, DW, lanes, 1, 0, 1);
        }
    }
    const int o = b * (OC * OHW) + oc0 * OHW;
    if (has_bp) {
        conv_add_bias(p, biasP + oc0, nl, 1);
    }
    conv_store_lanes(p, outP + o, OHW, p0, np, nl, 1);
    if (has_n) {
        if (has_bn) {
            conv_add_bias(n, biasN + oc0, nl, 1);
        }
        conv_store_lanes(n, outN + o, OHW, p0, np, nl, 1);
    }
}

/* conv_signed_vec's P chains alone (outN absent), over CONV_VEC_OCV channel blocks per work-item; same arguments. */
__kernel void conv_signed_p_vec(__global const float* restrict x, __global const float* restrict wt,
                                const int vt_off, __global const float* restrict biasP, const int has_bp,
                                __global const float* restrict biasN, const int has_bn,
                                __global float* restrict outP, __global float* restrict outN, const int has_n,
                                const int rows, CONV_GEOMETRY)
{
    CONV_FWD_TILE(CONV_VEC_OCV);
    float16 p[CONV_VEC_PIX * CONV_VEC_OCV];
    #pragma unroll
    for (int k = 0; k < CONV_VEC_PIX * CONV_VEC_OCV; k++) {
        p[k] = (float16)(0.0f);
    }
    const __global float* vg = wg + vt_off;
    if (interior) {
        conv_signed_chains(xg, wg, vg, p, p, ih0, iw0, cin, H, W, KH, KW, DH, DW, lanes, 0, 0, CONV_VEC_OCV);
    } else {
        conv_signed_chains(xg, wg, vg, p, p, ih0, iw0, cin, H, W, KH, KW, DH, DW, lanes, 1, 0, CONV_VEC_OCV);
    }
    if (has_bp) {
        conv_add_bias(p, biasP + oc0, nl, CONV_VEC_OCV);
    }
    conv_store_lanes(p, outP + b * (OC * OHW) + oc0 * OHW, OHW, p0, np, nl, CONV_VEC_OCV);
}

LRP_INLINE void conv_zbox_chains(const __global float* restrict xg, const __global float* restrict lg,
                                 const __global float* restrict hg, const __global float* restrict wg,
                                 float16* acc, const int* ih0, const int* iw0, const int cin, const int H,
                                 const int W, const int KH, const int KW, const int DH, const int DW,
                                 const int lanes, const int edge)
{
    for (int cl = 0; cl < cin; cl++) {
        const int xc = cl * (H * W);
        const __global float* wc = wg + cl * (KH * KW) * lanes;
        for (int i = 0; i < KH; i++) {
            for (int j = 0; j < KW; j++) {
                float16 wv[CONV_VEC_OCV];
                #pragma unroll
                for (int v = 0; v < CONV_VEC_OCV; v++) {
                    wv[v] = vload16(v, wc + (i * KW + j) * lanes);
                }
                #pragma unroll
                for (int k = 0; k < CONV_VEC_PIX; k++) {
                    if (CONV_TAP_OK(k)) {
                        const int e = xc + CONV_TAP_AT(k);
                        const float xs = xg[e];
                        const float16 tl = (float16)(xs - lg[e]);
                        const float16 th = (float16)(xs - hg[e]);
                        #pragma unroll
                        for (int v = 0; v < CONV_VEC_OCV; v++) {
                            const float16 t = select(th, tl, wv[v] > 0.0f);
                            acc[k * CONV_VEC_OCV + v] = fma(t, wv[v], acc[k * CONV_VEC_OCV + v]);
                        }
                    }
                }
            }
        }
    }
}

__kernel void conv_zbox_vec(__global const float* restrict x, __global const float* restrict wt,
                            __global const float* restrict low, __global const float* restrict high,
                            __global float* restrict d, const int rows, CONV_GEOMETRY)
{
    CONV_FWD_TILE(CONV_VEC_OCV);
    float16 acc[CONV_VEC_PIX * CONV_VEC_OCV];
    #pragma unroll
    for (int k = 0; k < CONV_VEC_PIX * CONV_VEC_OCV; k++) {
        acc[k] = (float16)(0.0f);
    }
    const __global float* lg = low + grp * cin * (H * W);
    const __global float* hg = high + grp * cin * (H * W);
    if (interior) {
        conv_zbox_chains(xg, lg, hg, wg, acc, ih0, iw0, cin, H, W, KH, KW, DH, DW, lanes, 0);
    } else {
        conv_zbox_chains(xg, lg, hg, wg, acc, ih0, iw0, cin, H, W, KH, KW, DH, DW, lanes, 1);
    }
    conv_store_lanes(acc, d + b * (OC * OHW) + oc0 * OHW, OHW, p0, np, nl, CONV_VEC_OCV);
}

/*
 * Backward vector kernels: lanes over the input channels of one group, CONV_VEC_PIX consecutive input pixels.
 * Pixel k's tap (i, j) meets output row th = th0[k] - i*DH over SH (when exact and in range), column likewise.
 */
#define CONV_BACK_TILE(NB, NP) \
    CONV_OUT_DIMS; \
    const int OHW = OH * OW; \
    const int HW = H * W; \
    const int p0 = get_global_id(0) * (NP); \
    const int cb = get_global_id(1); \
    const int b = get_global_id(2); \
    if (p0 >= HW || b >= rows) { \
        return; \
    } \
    CONV_CHANNEL_BLOCK(cin, 16 * (NB)); \
    const int lanes = conv_lanes(cin); \
    const int np = min((NP), HW - p0); \
    const int ci0 = grp * cin + l0; \
    const int unit = SH == 1 && SW == 1; \
    int th0[NP]; \
    int tw0[NP]; \
    int interior = unit; \
    _Pragma("unroll") \
    for (int k = 0; k < (NP); k++) { \
        const int p = min(p0 + k, HW - 1); \
        th0[k] = p / W + PH; \
        tw0[k] = p % W + PW; \
        interior &= th0[k] - (KH - 1) * DH >= 0 && th0[k] < OH && tw0[k] - (KW - 1) * DW >= 0 && tw0[k] < OW; \
    } \
    const int gg = b * (OC * OHW) + grp * cout * OHW; \
    const int wg = grp * cout * (KH * KW) * lanes + l0

/*
 * Whether pixel k's tap (i, j) meets an output, and at which flattened output pixel: mode 0 interior (unit
 * stride, always), 1 unit stride with bounds, 2 any stride.
 */
LRP_INLINE int conv_back_tap(const int mode, const int th, const int tw, const int SH, const int SW, const int OH,
                             const int OW, int* at)
{
    if (mode == 0) {
        *at = th * OW + tw;
        return 1;
    }
    if (mode == 1) {
        *at = th * OW + tw;
        return (uint)th < (uint)OH && (uint)tw < (uint)OW;
    }
    if (th < 0 || tw < 0 || th % SH != 0 || tw % SW != 0 || th / SH >= OH || tw / SW >= OW) {
        return 0;
    }
    *at = th / SH * OW + tw / SW;
    return 1;
}

/* The mode for conv_back_tap. */
#define CONV_BACK_MODE (interior ? 0 : unit ? 1 : 2)

LRP_INLINE void conv_back_chains(const __global float* restrict gs, const __global float* restrict ws,
                                 float16* acc, const int* th0, const int* tw0, const int cout, const int KH,
                                 const int KW, const int SH, const int SW, const int DH, const int DW, const int OH,
                                 const int OW, const int lanes, const int mode)
{
    for (int ocl = 0; ocl < cout; ocl++) {
        const __global float* go = gs + ocl * (OH * OW);
        const __global float* wo = ws + ocl * (KH * KW) * lanes;
        for (int i = 0; i < KH; i++) {
            for (int j = 0; j < KW; j++) {
                float16 wv[CONV_VEC_OCV];
                #pragma unroll
                for (int v = 0; v < CONV_VEC_OCV; v++) {
                    wv[v] = vload16(v, wo + (i * KW + j) * lanes);
                }
                #pragma unroll
                for (int k = 0; k < CONV_VEC_PIX; k++) {
                    int at;
                    if (conv_back_tap(mode, th0[k] - i * DH, tw0[k] - j * DW, SH, SW, OH, OW, &at)) {
                        const float16 gv = (float16)(go[at]);
                        #pragma unroll
                        for (int v = 0; v < CONV_VEC_OCV; v++) {
                            acc[k * CONV_VEC_OCV + v] = fma(wv[v], gv, acc[k * CONV_VEC_OCV + v]);
                        }
                    }
                }
            }
        }
    }
}

__kernel void conv_back_vec(__global const float* restrict g, __global const float* restrict wt,
                            __global const float* restrict x, const int has_x, __global float* restrict r,
                            const int rows, CONV_GEOMETRY)
{
    CONV_BACK_TILE(CONV_VEC_OCV, CONV_VEC_PIX);
    float16 acc[CONV_VEC_PIX * CONV_VEC_OCV];
    #pragma unroll
    for (int k = 0; k < CONV_VEC_PIX * CONV_VEC_OCV; k++) {
        acc[k] = (float16)(0.0f);
    }
    const int mode = CONV_BACK_MODE;
    if (mode == 0) {
        conv_back_chains(g + gg, wt + wg, acc, th0, tw0, cout, KH, KW, SH, SW, DH, DW, OH, OW, lanes, 0);
    } else if (mode == 1) {
        conv_back_chains(g + gg, wt + wg, acc, th0, tw0, cout, KH, KW, SH, SW, DH, DW, OH, OW, lanes, 1);
    } else {
        conv_back_chains(g + gg, wt + wg, acc, th0, tw0, cout, KH, KW, SH, SW, DH, DW, OH, OW, lanes, 2);
    }
    const int base = b * (C * HW) + ci0 * HW + p0;
    for (int k = 0; k < np; k++) {
        for (int vb = 0; vb < CONV_VEC_OCV; vb++) {
            float t[16];
            vstore16(acc[k * CONV_VEC_OCV + vb], 0, t);
            for (int l = 0; l < min(16, nl - 16 * vb); l++) {
                const int e = base + (16 * vb + l) * HW + k;
                r[e] = has_x ? x[e] * t[l] : t[l];
            }
        }
    }
}

LRP_INLINE void conv_back_signed_chains(const __global float* restrict hps, const __global float* restrict hns,
                                        const __global float* restrict us, const __global float* restrict vs,
                                        float16* c1, float16* c2, const int* th0, const int* tw0, const int cout,
                                        const int KH, const int KW, const int SH, const int SW, const int DH,
                                        const int DW, const int OH, const int OW, const int lanes, const int mode,
                                        const int with_n)
{
    for (int ocl = 0; ocl < cout; ocl++) {
        const int go = ocl * (OH * OW);
        const int wo = ocl * (KH * KW) * lanes;
        for (int i = 0; i < KH; i++) {
            for (int j = 0; j < KW; j++) {
                float16 uv[CONV_VEC_OCV];
                float16 vv[CONV_VEC_OCV];
                #pragma unroll
                for (int v = 0; v < CONV_VEC_OCV; v++) {
                    uv[v] = vload16(v, us + wo + (i * KW + j) * lanes);
                    vv[v] = vload16(v, vs + wo + (i * KW + j) * lanes);
                }
                #pragma unroll
                for (int k = 0; k < CONV_PIX2; k++) {
                    int at;
                    if (conv_back_tap(mode, th0[k] - i * DH, tw0[k] - j * DW, SH, SW, OH, OW, &at)) {
                        const float16 p = (float16)(hps[go + at]);
                        const float16 n = with_n ? (float16)(hns[go + at]) : p;
                        #pragma unroll
                        for (int v = 0; v < CONV_VEC_OCV; v++) {
                            const int a = k * CONV_VEC_OCV + v;
                            c1[a] = fma(uv[v], p, c1[a]);
                            c2[a] = fma(vv[v], p, c2[a]);
                            if (with_n) {
                                c1[a] = fma(vv[v], n, c1[a]);
                                c2[a] = fma(uv[v], n, c2[a]);
                            }
                        }
                    }
                }
            }
        }
    }
}

/* ut, vt: u and v arranged (backward), at offsets 0 and vt_off of one scratch buffer. */
__kernel void conv_back_signed_vec(__global const float* restrict hp, __global const float* restrict hn,
                                   const int has_n, __global const float* restrict wt, const int vt_off,
                                   __global const float* restrict x, __global float* restrict r, const int rows,
                                   CONV_GEOMETRY)
{
    CONV_BACK_TILE(CONV_VEC_OCV, CONV_PIX2);
    float16 c1[CONV_PIX2 * CONV_VEC_OCV];
    float16 c2[CONV_PIX2 * CONV_VEC_OCV];
    #pragma unroll
    for (int k = 0; k < CONV_PIX2 * CONV_VEC_OCV; k++) {
        c1[k] = (float16)(0.0f);
        c2[k] = (float16)(0.0f);
    }
    const int mode = CONV_BACK_MODE;
    const __global float* us = wt + wg;
    const __global float* vs = wt + vt_off + wg;
    if (has_n) {
        if (mode == 0) {
            conv_back_signed_chains(hp + gg, hn + gg, us, vs, c1, c2, th0, tw0, cout, KH, KW, SH, SW, DH, DW, OH, OW,
                                    lanes, 0, 1);
        } else if (mode == 1) {
            conv_back_signed_chains(hp + gg, hn + gg, us, vs, c1, c2, th0, tw0, cout, KH, KW, SH, SW, DH, DW, OH, OW,
                                    lanes, 1, 1);
        } else {
            conv_back_signed_chains(hp + gg, hn + gg, us, vs, c1, c2, th0, tw0, cout, KH, KW, SH, SW, DH, DW, OH, OW,
                                    lanes, 2, 1);
        }
    } else {
        if (mode == 0) {
            conv_back_signed_chains(hp + gg, hp, us, vs, c1, c2, th0, tw0, cout, KH, KW, SH, SW, DH, DW, OH, OW,
                                    lanes, 0, 0);
        } else if (mode == 1) {
            conv_back_signed_chains(hp + gg, hp, us, vs, c1, c2, th0, tw0, cout, KH, KW, SH, SW, DH, DW, OH, OW,
                                    lanes, 1, 0);
        } else {
            conv_back_signed_chains(hp + gg, hp, us, vs, c1, c2, th0, tw0, cout, KH, KW, SH, SW, DH, DW, OH, OW,
                                    lanes, 2, 0);
        }
    }
    const int base = b * (C * HW) + ci0 * HW + p0;
    for (int k = 0; k < np; k++) {
        for (int vb = 0; vb < CONV_VEC_OCV; vb++) {
            float t1[16];
            float t2[16];
            vstore16(c1[k * CONV_VEC_OCV + vb], 0, t1);
            vstore16(c2[k * CONV_VEC_OCV + vb], 0, t2);
            for (int l = 0; l < min(16, nl - 16 * vb); l++) {
                const int e = base + (16 * vb + l) * HW + k;
                const float xi = x[e];
                r[e] = xi * (xi > 0.0f ? t1[l] : t2[l]);
            }
        }
    }
}

LRP_INLINE void conv_back_zbox_chains(const __global float* restrict gs, const __global float* restrict ws,
                                      const __global float* restrict ps, const __global float* restrict ms,
                                      float16* c0, float16* cp, float16* cm, const int* th0, const int* tw0,
                                      const int cout, const int KH, const int KW, const int SH, const int SW,
                                      const int DH, const int DW, const int OH, const int OW, const int lanes,
                                      const int mode)
{
    for (int ocl = 0; ocl < cout; ocl++) {
        const __global float* go = gs + ocl * (OH * OW);
        const int wo = ocl * (KH * KW) * lanes;
        for (int i = 0; i < KH; i++) {
            for (int j = 0; j < KW; j++) {
                const int wk = wo + (i * KW + j) * lanes;
                const float16 wv = vload16(0, ws + wk);
                const float16 pv = vload16(0, ps + wk);
                const float16 mv = vload16(0, ms + wk);
                #pragma unroll
                for (int k = 0; k < CONV_VEC_PIX; k++) {
                    int at;
                    if (conv_back_tap(mode, th0[k] - i * DH, tw0[k] - j * DW, SH, SW, OH, OW, &at)) {
                        const float16 gv = (float16)(go[at]);
                        c0[k] = fma(wv, gv, c0[k]);
                        cp[k] = fma(pv, gv, cp[k]);
                        cm[k] = fma(mv, gv, cm[k]);
                    }
                }
            }
        }
    }
}

/* wt: w, wpos, wneg arranged (backward), at offsets 0, arr and 2*arr of one scratch buffer. */
__kernel void conv_back_zbox_vec(__global const float* restrict g, __global const float* restrict wt,
                                 const int arr, __global const float* restrict x, __global const float* restrict low,
                                 __global const float* restrict high, __global float* restrict r, const int rows,
                                 CONV_GEOMETRY)
{
    CONV_BACK_TILE(1, CONV_VEC_PIX);
    float16 c0[CONV_VEC_PIX];
    float16 cp[CONV_VEC_PIX];
    float16 cm[CONV_VEC_PIX];
    #pragma unroll
    for (int k = 0; k < CONV_VEC_PIX; k++) {
        c0[k] = (float16)(0.0f);
        cp[k] = (float16)(0.0f);
        cm[k] = (float16)(0.0f);
    }
    const int mode = CONV_BACK_MODE;
    const __global float* ws = wt + wg;
    if (mode == 0) {
        conv_back_zbox_chains(g + gg, ws, ws + arr, ws + 2 * arr, c0, cp, cm, th0, tw0, cout, KH, KW, SH, SW, DH, DW,
                              OH, OW, lanes, 0);
    } else if (mode == 1) {
        conv_back_zbox_chains(g + gg, ws, ws + arr, ws + 2 * arr, c0, cp, cm, th0, tw0, cout, KH, KW, SH, SW, DH, DW,
                              OH, OW, lanes, 1);
    } else {
        conv_back_zbox_chains(g + gg, ws, ws + arr, ws + 2 * arr, c0, cp, cm, th0, tw0, cout, KH, KW, SH, SW, DH, DW,
                              OH, OW, lanes, 2);
    }
    const int e0 = ci0 * HW + p0;
    const int base = b * (C * HW) + e0;
    for (int k = 0; k < np; k++) {
        float t0[16];
        float tp[16];
        float tm[16];
        vstore16(c0[k], 0, t0);
        vstore16(cp[k], 0, tp);
        vstore16(cm[k], 0, tm);
        for (int l = 0; l < nl; l++) {
            const int e = e0 + l * HW + k;
            const int o = base + l * HW + k;
            r[o] = (x[o] * t0[l] - low[e] * tp[l]) - high[e] * tm[l];
        }
    }
}

/* ================================================================ vector, pixel lanes: few input channels
 *
 * The backprojection onto few input channels per group (the first layer: 1 or 3) fills few channel lanes, so these
 * kernels put 16 consecutive input columns in the lanes instead, for unit column stride (ow = iw + PW - kw*DW
 * walks the upper gradient's row contiguously): a work-item computes input channel ci, rows ih0 .. ih0 +
 * CONV_VEC_PIX - 1, columns iw0 .. iw0 + 15. A lane whose tap falls outside the output row keeps its chain as it
 * is (a lane blend, never an fma with 0); lanes past W are never stored.
 * Global (ceil(H / CONV_VEC_PIX) * ceil(W / 16) rounded up to the local size, C, B).
 */

/*
 * The upper gradient row at columns owb .. owb+15. Lanes outside [0, OW) are masked out by the caller: they read
 * the neighbouring elements where all 16 lie inside the buffer (abs: the first one's index in it, of total), else a
 * clamped column of the row.
 */
LRP_INLINE float16 conv_row16(const __global float* restrict row, const int owb, const int OW, const int full,
                              const int abs, const int total)
{
    if (full || (abs >= 0 && abs + 16 <= total)) {
        return vload16(0, row + owb);
    }
    float t[16];
    for (int l = 0; l < 16; l++) {
        t[l] = row[clamp(owb + l, 0, OW - 1)];
    }
    return vload16(0, t);
}

/*
 * The chains of one work-item. mode 0: a0 = w.g (conv_back); 1: a0 = u.hp, a1 = v.hp (conv_back_signed without
 * hn); 2: a0 = u.hp then v.hn per tap, a1 = v.hp then u.hn; 3: a0, a1, a2 = w.g, wpos.g, wneg.g (conv_back_zbox).
 */
LRP_INLINE void conv_px_chains(const int mode, const __global float* restrict g1, const __global float* restrict g2,
                               const __global float* restrict w0, const __global float* restrict w1,
                               const __global float* restrict w2, float16* a0, float16* a1, float16* a2,
                               const int ih0, const int tw0, const int cl, const int cin, const int cout,
                               const int KH, const int KW, const int SH, const int PH, const int DH, const int DW,
                               const int OH, const int OW, const int gbase, const int total)
{
    const int16 lane = (int16)(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    for (int ocl = 0; ocl < cout; ocl++) {
        const int go = ocl * (OH * OW);
        const int wo = (ocl * cin + cl) * (KH * KW);
        for (int i = 0; i < KH; i++) {
            for (int j = 0; j < KW; j++) {
                const int wk = wo + i * KW + j;
                const float16 wa = (float16)(w0[wk]);
                const float16 wb = mode != 0 ? (float16)(w1[wk]) : wa;
                const float16 wc = mode == 3 ? (float16)(w2[wk]) : wa;
                const int owb = tw0 - j * DW;
                const int full = owb >= 0 && owb + 16 <= OW;
                const int16 owv = (int16)(owb) + lane;
                const int16 valid = (owv >= 0) & (owv < (int16)(OW));
                #pragma unroll
                for (int r = 0; r < CONV_VEC_PIX; r++) {
                    const int th = ih0 + r + PH - i * DH;
                    if (th < 0 || th % SH != 0 || th / SH >= OH) {
                        continue;
                    }
                    const int at = go + th / SH * OW;
                    const float16 p = conv_row16(g1 + at, owb, OW, full, gbase + at + owb, total);
                    if (mode == 0) {
                        a0[r] = full ? fma(wa, p, a0[r]) : select(a0[r], fma(wa, p, a0[r]), valid);
                    } else if (mode == 1 || mode == 2) {
                        float16 c1 = fma(wa, p, a0[r]);
                        float16 c2 = fma(wb, p, a1[r]);
                        if (mode == 2) {
                            const float16 n = conv_row16(g2 + at, owb, OW, full, gbase + at + owb, total);
                            c1 = fma(wb, n, c1);
                            c2 = fma(wa, n, c2);
                        }
                        a0[r] = full ? c1 : select(a0[r], c1, valid);
                        a1[r] = full ? c2 : select(a1[r], c2, valid);
                    } else {
                        const float16 c0 = fma(wa, p, a0[r]);
                        const float16 cp = fma(wb, p, a1[r]);
                        const float16 cm = fma(wc, p, a2[r]);
                        a0[r] = full ? c0 : select(a0[r], c0, valid);
                        a1[r] = full ? cp : select(a1[r], cp, valid);
                        a2[r] = full ? cm : select(a2[r], cm, valid);
                    }
                }
            }
        }
    }
}

#define CONV_PX_TILE \
    CONV_OUT_DIMS; \
    const int OHW = OH * OW; \
    const int HW = H * W; \
    const int ncb = (W + 15) / 16; \
    const int t = get_global_id(0); \
    const int ci = get_global_id(1); \
    const int b = get_global_id(2); \
    if (t >= (H + CONV_VEC_PIX - 1) / CONV_VEC_PIX * ncb || b >= rows) { \
        return; \
    } \
    const int ih0 = t / ncb * CONV_VEC_PIX; \
    const int iw0 = t % ncb * 16; \
    const int cin = C / G; \
    const int cout = OC / G; \
    const int grp = ci / cin; \
    const int cl = ci - grp * cin; \
    const int gg = b * (OC * OHW) + grp * cout * OHW; \
    const int wg = grp * cout * cin * (KH * KW); \
    const int nr = min(CONV_VEC_PIX, H - ih0); \
    const int nc = min(16, W - iw0); \
    float16 a0[CONV_VEC_PIX]; \
    float16 a1[CONV_VEC_PIX]; \
    float16 a2[CONV_VEC_PIX]; \
    _Pragma("unroll") \
    for (int r = 0; r < CONV_VEC_PIX; r++) { \
        a0[r] = (float16)(0.0f); \
        a1[r] = (float16)(0.0f); \
        a2[r] = (float16)(0.0f); \
    }

/* Stores a tile's valid outputs through per-lane scalar code: out(e, l, r) with e the element index. */
#define CONV_PX_STORE(STORE) \
    for (int q = 0; q < nr; q++) { \
        float t0[16]; \
        float t1[16]; \
        float t2[16]; \
        vstore16(a0[q], 0, t0); \
        vstore16(a1[q], 0, t1); \
        vstore16(a2[q], 0, t2); \
        for (int l = 0; l < nc; l++) { \
            const int e = ci * HW + (ih0 + q) * W + iw0 + l; \
            const int o = b * (C * HW) + e; \
            STORE \
        } \
    }

__kernel void conv_back_px(__global const float* restrict g, __global const float* restrict w,
                           __global const float* restrict x, const int has_x, __global float* restrict r,
                           const int rows, CONV_GEOMETRY)
{
    CONV_PX_TILE;
    conv_px_chains(0, g + gg, g, w + wg, w, w, a0, a1, a2, ih0, iw0 + PW, cl, cin, cout, KH, KW, SH, PH, DH, DW, OH,
                   OW, gg, rows * OC * OHW);
    CONV_PX_STORE(r[o] = has_x ? x[o] * t0[l] : t0[l];)
}

__kernel void conv_back_signed_px(__global const float* restrict hp, __global const float* restrict hn,
                                  const int has_n, __global const float* restrict u, __global const float* restrict v,
                                  __global const float* restrict x, __global float* restrict r, const int rows,
                                  CONV_GEOMETRY)
{
    CONV_PX_TILE;
    if (has_n) {
        conv_px_chains(2, hp + gg, hn + gg, u + wg, v + wg, u, a0, a1, a2, ih0, iw0 + PW, cl, cin, cout, KH, KW, SH,
                       PH, DH, DW, OH, OW, gg, rows * OC * OHW);
    } else {
        conv_px_chains(1, hp + gg, hp, u + wg, v + wg, u, a0, a1, a2, ih0, iw0 + PW, cl, cin, cout, KH, KW, SH, PH,
                       DH, DW, OH, OW, gg, rows * OC * OHW);
    }
    CONV_PX_STORE(r[o] = x[o] * (x[o] > 0.0f ? t0[l] : t1[l]);)
}

__kernel void conv_back_zbox_px(__global const float* restrict g, __global const float* restrict w,
                                __global const float* restrict wpos, __global const float* restrict wneg,
                                __global const float* restrict x, __global const float* restrict low,
                                __global const float* restrict high, __global float* restrict r, const int rows,
                                CONV_GEOMETRY)
{
    CONV_PX_TILE;
    conv_px_chains(3, g + gg, g, w + wg, wpos + wg, wneg + wg, a0, a1, a2, ih0, iw0 + PW, cl, cin, cout, KH, KW, SH,
                   PH, DH, DW, OH, OW, gg, rows * OC * OHW);
    CONV_PX_STORE(r[o] = (x[o] * t0[l] - low[e] * t1[l]) - high[e] * t2[l];)
}
