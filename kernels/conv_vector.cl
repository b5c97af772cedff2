/*
 * conv_vector.cl: the convolution kernels for CPU devices (PoCL, conv.variant=vector), the same bits as the
 * reference kernels of conv_simple.cl, whose header states the math; geometry and walks: conv_walk.h.
 *   *_vec    channels in float16 lanes x CONV_VEC_PIX pixels per work-item, CONV_VEC_OCV float16 blocks per
 *            work-item in the one-chain kernels (conv_fwd_vec, conv_signed_p_vec: conv_signed without outN,
 *            conv_zbox_vec, conv_back_vec) and in conv_back_signed_vec (with CONV_PIX2 pixels, so the register
 *            tile stays the same), one in the others; the weights are read as conv_arrange arranged them, so one
 *            tap's channels are contiguous (once per prepared weight combination, kept on the device with the
 *            weights; per call only for weights nobody prepared); pixel tiles whose taps all fall inside the input
 *            run without bounds checks. Used where a group has at least conv.vec.min channels (output channels
 *            forward, input channels backward).
 *   The pixel-lane backprojections (*_px, for few input channels) are in conv_pixels.cl.
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
 * the pixel). The weights are read arranged by conv_arrange (Backend.prepareConv: once, kept with the weights) so
 * that the 16 channels of one tap are contiguous; lanes past the group's channel count read zero weights and are
 * never stored.
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
    int ohk = p0 / OW; /* pixel p0 + k's output row and column, stepped instead of divided per pixel */ \
    int owk = p0 - ohk * OW; \
    _Pragma("unroll") \
    for (int k = 0; k < CONV_VEC_PIX; k++) { \
        if (k == 0 || p0 + k < OHW) { \
            ih0[k] = ohk * SH - PH; \
            iw0[k] = owk * SW - PW; \
        } else { /* past the last pixel: repeat it */ \
            ih0[k] = ih0[k - 1]; \
            iw0[k] = iw0[k - 1]; \
        } \
        interior &= ih0[k] >= 0 && ih0[k] + (KH - 1) * DH < H && iw0[k] >= 0 && iw0[k] + (KW - 1) * DW < W; \
        owk++; \
        if (owk == OW) { \
            owk = 0; \
            ohk++; \
        } \
    } \
    const __global float* xg = x + b * (C * H * W) + grp * cin * (H * W); \
    const __global float* wg = wt + grp * cin * (KH * KW) * lanes + l0

/* The tap (i, j) of pixel k reads input row ih0[k] + i*DH, column iw0[k] + j*DW; `edge` checks the bounds. */
#define CONV_TAP_OK(k) (!edge || ((uint)(ih0[k] + i * DH) < (uint)H && (uint)(iw0[k] + j * DW) < (uint)W))
#define CONV_TAP_AT(k) (at[k] + toff)

/*
 * Declares at[k], pixel k's first tap (ih0[k] * W + iw0[k]): a tap's input is at[k] + toff with the tap's offset
 * toff = i * DH * W + j * DW, one add per pixel (PoCL's compiler kept the full product per pixel and tap: the forward
 * chains ran 1.5x slower).
 */
#define CONV_FIRST_TAPS \
    int at[CONV_VEC_PIX]; \
    _Pragma("unroll") \
    for (int k = 0; k < CONV_VEC_PIX; k++) { \
        at[k] = ih0[k] * W + iw0[k]; \
    }

LRP_INLINE void conv_fwd_chains(const __global float* restrict xg, const __global float* restrict wg,
                                float16* acc, const int* ih0, const int* iw0, const int cin, const int H,
                                const int W, const int KH, const int KW, const int DH, const int DW,
                                const int lanes, const int edge)
{
    CONV_FIRST_TAPS;
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
                const int toff = i * DH * W + j * DW;
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
    CONV_FIRST_TAPS;
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
                const int toff = i * DH * W + j * DW;
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

/* ut, vt: u and v arranged (forward), at offsets 0 and vt_off of one buffer. */
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
    CONV_FIRST_TAPS;
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
                const int toff = i * DH * W + j * DW;
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
    const int unit = SH == 1 && SW == 1; \
    const int patch = KH == SH && KW == SW && SW > 1 && PH == 0 && PW == 0 && DH == 1 && DW == 1; \
    const int phased = !unit && !patch; /* a tile: NP columns of one row and stride phase (mode 4) */ \
    const int nbk = ((W + SW - 1) / SW + (NP) - 1) / (NP); /* phased: tiles per phase of a row */ \
    const int tile = get_global_id(0); \
    const int cb = get_global_id(1); \
    const int b = get_global_id(2); \
    /* phased: the tile's first column (a phase's last tile of a row may start past W: no pixel) */ \
    const int iw0 = phased ? tile % nbk * (NP) * SW + tile % (SW * nbk) / nbk : 0; \
    /* pixel 0 of the tile (flattened), and the pixels' step */ \
    const int p0 = phased ? tile / (SW * nbk) * W + iw0 : tile * (NP); \
    const int pstep = phased ? SW : 1; \
    if ((phased ? tile >= H * SW * nbk || iw0 >= W : p0 >= HW) || b >= rows) { \
        return; \
    } \
    CONV_CHANNEL_BLOCK(cin, 16 * (NB)); \
    const int lanes = conv_lanes(cin); \
    const int np = phased ? min((NP), (W - iw0 + SW - 1) / SW) : min((NP), HW - p0); \
    const int ci0 = grp * cin + l0; \
    int th0[NP]; \
    int tw0[NP]; \
    int interior = unit; \
    int ihk = p0 / W; /* pixel p0 + k's row and column, stepped instead of divided per pixel */ \
    int iwk = p0 - ihk * W; \
    _Pragma("unroll") \
    for (int k = 0; k < (NP); k++) { \
        if (phased) { /* one row; columns past W are computed, never stored */ \
            th0[k] = ihk + PH; \
            tw0[k] = iwk + k * SW + PW; \
        } else if (k == 0 || p0 + k < HW) { \
            th0[k] = ihk + PH; \
            tw0[k] = iwk + PW; \
        } else { /* past the last pixel: repeat it */ \
            th0[k] = th0[k - 1]; \
            tw0[k] = tw0[k - 1]; \
        } \
        interior &= th0[k] - (KH - 1) * DH >= 0 && th0[k] < OH && tw0[k] - (KW - 1) * DW >= 0 && tw0[k] < OW; \
        if (!phased) { \
            iwk++; \
            if (iwk == W) { \
                iwk = 0; \
                ihk++; \
            } \
        } \
    } \
    const int gg = b * (OC * OHW) + grp * cout * OHW; \
    const int wg = grp * cout * (KH * KW) * lanes + l0

/*
 * Whether pixel k's tap (i, j) meets an output, and at which flattened output pixel: mode 0 interior (unit
 * stride, always), 1 unit stride with bounds, 2 any stride (one pixel at a time; mode 4 is its form for a tile of one
 * row and stride phase, CONV_PHASE_TAP).
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

/* The mode for conv_back_tap: 0, 1, 3 (a patch convolution, conv_patch_tap) or 4 (any other stride). */
#define CONV_BACK_MODE (interior ? 0 : unit ? 1 : patch ? 3 : 4)

/*
 * Mode 4, the first statement of a tap's iteration: the tile's pixels share a row and a column phase (pixel k at
 * column tw0[0] - PW + k * SW), so whether tap (i, j) meets an output row, and whether its column lands on the
 * output grid, hold for every pixel of the tile alike: a tap that does not is skipped for the whole tile (before its
 * weights are read), as each pixel's chain skips it. Where it does, pixel k meets output column ow4 + k (at4 + k
 * flattened), if that is inside [0, OW) (CONV_BACK_AT). Divisions per tap instead of per pixel and tap.
 */
#define CONV_PHASE_TAP \
    int at4 = 0; \
    int ow4 = 0; \
    if (mode == 4) { \
        const int th = th0[0] - i * DH; \
        const int tj = tw0[0] - j * DW; \
        if (th < 0 || th % SH != 0 || th / SH >= OH || tj % SW != 0) { \
            continue; \
        } \
        ow4 = tj / SW; \
        at4 = th / SH * OW + ow4; \
    }

/*
 * Declares at0[k] = th0[k] * OW + tw0[k] for pixels [0, NPIX): with unit strides (modes 0 and 1) a tap's output is
 * at0[k] - toff with the tap's offset toff = i * DH * OW + j * DW (see CONV_FIRST_TAPS).
 */
#define CONV_BACK_FIRST(NPIX) \
    int at0[NPIX]; \
    _Pragma("unroll") \
    for (int k = 0; k < (NPIX); k++) { \
        at0[k] = th0[k] * OW + tw0[k]; \
    }

/* conv_back_tap for pixel k's tap (i, j), taking the unit-stride modes' output from at0 and toff. */
#define CONV_BACK_AT(k) \
    (mode == 0 ? (at = at0[k] - toff, 1) \
     : mode == 1 ? (at = at0[k] - toff, (uint)(th0[k] - i * DH) < (uint)OH && (uint)(tw0[k] - j * DW) < (uint)OW) \
     : mode == 4 ? (at = at4 + (k), (uint)(ow4 + (k)) < (uint)OW) \
     : conv_back_tap(mode, th0[k] - i * DH, tw0[k] - j * DW, SH, SW, OH, OW, &at))

/*
 * Mode 3, a patch convolution (kernel = stride, no padding, dilation 1): pixel (th, tw) meets exactly one output,
 * (th / SH, tw / SW), through tap (th % SH, tw % SW), or none past the last whole patch. The chains visit that tap
 * alone per output channel, ascending: the order and bits of mode 2, without testing the other taps.
 */
LRP_INLINE int conv_patch_tap(const int th, const int tw, const int SH, const int SW, const int OH, const int OW,
                              int* at, int* tap)
{
    if (th / SH >= OH || tw / SW >= OW) {
        return 0;
    }
    *at = th / SH * OW + tw / SW;
    *tap = th % SH * SW + tw % SW;
    return 1;
}

LRP_INLINE void conv_back_chains(const __global float* restrict gs, const __global float* restrict ws,
                                 float16* acc, const int* th0, const int* tw0, const int cout, const int KH,
                                 const int KW, const int SH, const int SW, const int DH, const int DW, const int OH,
                                 const int OW, const int lanes, const int mode)
{
    if (mode == 3) {
        for (int ocl = 0; ocl < cout; ocl++) {
            const __global float* go = gs + ocl * (OH * OW);
            const __global float* wo = ws + ocl * (KH * KW) * lanes;
            #pragma unroll
            for (int k = 0; k < CONV_VEC_PIX; k++) {
                int at;
                int tap;
                if (conv_patch_tap(th0[k], tw0[k], SH, SW, OH, OW, &at, &tap)) {
                    const float16 gv = (float16)(go[at]);
                    #pragma unroll
                    for (int v = 0; v < CONV_VEC_OCV; v++) {
                        acc[k * CONV_VEC_OCV + v] = fma(vload16(v, wo + tap * lanes), gv, acc[k * CONV_VEC_OCV + v]);
                    }
                }
            }
        }
        return;
    }
    CONV_BACK_FIRST(CONV_VEC_PIX);
    for (int ocl = 0; ocl < cout; ocl++) {
        const __global float* go = gs + ocl * (OH * OW);
        const __global float* wo = ws + ocl * (KH * KW) * lanes;
        for (int i = 0; i < KH; i++) {
            for (int j = 0; j < KW; j++) {
                CONV_PHASE_TAP;
                float16 wv[CONV_VEC_OCV];
                #pragma unroll
                for (int v = 0; v < CONV_VEC_OCV; v++) {
                    wv[v] = vload16(v, wo + (i * KW + j) * lanes);
                }
                const int toff = i * DH * OW + j * DW;
                #pragma unroll
                for (int k = 0; k < CONV_VEC_PIX; k++) {
                    int at;
                    if (CONV_BACK_AT(k)) {
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
    } else if (mode == 3) {
        conv_back_chains(g + gg, wt + wg, acc, th0, tw0, cout, KH, KW, SH, SW, DH, DW, OH, OW, lanes, 3);
    } else {
        conv_back_chains(g + gg, wt + wg, acc, th0, tw0, cout, KH, KW, SH, SW, DH, DW, OH, OW, lanes, 4);
    }
    const int base = b * (C * HW) + ci0 * HW + p0;
    for (int k = 0; k < np; k++) {
        for (int vb = 0; vb < CONV_VEC_OCV; vb++) {
            float t[16];
            vstore16(acc[k * CONV_VEC_OCV + vb], 0, t);
            for (int l = 0; l < min(16, nl - 16 * vb); l++) {
                const int e = base + (16 * vb + l) * HW + k * pstep;
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
    if (mode == 3) {
        for (int ocl = 0; ocl < cout; ocl++) {
            const int go = ocl * (OH * OW);
            const int wo = ocl * (KH * KW) * lanes;
            #pragma unroll
            for (int k = 0; k < CONV_PIX2; k++) {
                int at;
                int tap;
                if (conv_patch_tap(th0[k], tw0[k], SH, SW, OH, OW, &at, &tap)) {
                    const float16 p = (float16)(hps[go + at]);
                    const float16 n = with_n ? (float16)(hns[go + at]) : p;
                    #pragma unroll
                    for (int v = 0; v < CONV_VEC_OCV; v++) {
                        const float16 uv = vload16(v, us + wo + tap * lanes);
                        const float16 vv = vload16(v, vs + wo + tap * lanes);
                        const int a = k * CONV_VEC_OCV + v;
                        c1[a] = fma(uv, p, c1[a]);
                        c2[a] = fma(vv, p, c2[a]);
                        if (with_n) {
                            c1[a] = fma(vv, n, c1[a]);
                            c2[a] = fma(uv, n, c2[a]);
                        }
                    }
                }
            }
        }
        return;
    }
    CONV_BACK_FIRST(CONV_PIX2);
    for (int ocl = 0; ocl < cout; ocl++) {
        const int go = ocl * (OH * OW);
        const int wo = ocl * (KH * KW) * lanes;
        for (int i = 0; i < KH; i++) {
            for (int j = 0; j < KW; j++) {
                CONV_PHASE_TAP;
                float16 uv[CONV_VEC_OCV];
                float16 vv[CONV_VEC_OCV];
                #pragma unroll
                for (int v = 0; v < CONV_VEC_OCV; v++) {
                    uv[v] = vload16(v, us + wo + (i * KW + j) * lanes);
                    vv[v] = vload16(v, vs + wo + (i * KW + j) * lanes);
                }
                const int toff = i * DH * OW + j * DW;
                #pragma unroll
                for (int k = 0; k < CONV_PIX2; k++) {
                    int at;
                    if (CONV_BACK_AT(k)) {
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

/* ut, vt: u and v arranged (backward), at offsets 0 and vt_off of one buffer. */
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
        } else if (mode == 3) {
            conv_back_signed_chains(hp + gg, hn + gg, us, vs, c1, c2, th0, tw0, cout, KH, KW, SH, SW, DH, DW, OH, OW,
                                    lanes, 3, 1);
        } else {
            conv_back_signed_chains(hp + gg, hn + gg, us, vs, c1, c2, th0, tw0, cout, KH, KW, SH, SW, DH, DW, OH, OW,
                                    lanes, 4, 1);
        }
    } else {
        if (mode == 0) {
            conv_back_signed_chains(hp + gg, hp, us, vs, c1, c2, th0, tw0, cout, KH, KW, SH, SW, DH, DW, OH, OW,
                                    lanes, 0, 0);
        } else if (mode == 1) {
            conv_back_signed_chains(hp + gg, hp, us, vs, c1, c2, th0, tw0, cout, KH, KW, SH, SW, DH, DW, OH, OW,
                                    lanes, 1, 0);
        } else if (mode == 3) {
            conv_back_signed_chains(hp + gg, hp, us, vs, c1, c2, th0, tw0, cout, KH, KW, SH, SW, DH, DW, OH, OW,
                                    lanes, 3, 0);
        } else {
            conv_back_signed_chains(hp + gg, hp, us, vs, c1, c2, th0, tw0, cout, KH, KW, SH, SW, DH, DW, OH, OW,
                                    lanes, 4, 0);
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
                const int e = base + (16 * vb + l) * HW + k * pstep;
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
    CONV_BACK_FIRST(CONV_VEC_PIX);
    for (int ocl = 0; ocl < cout; ocl++) {
        const __global float* go = gs + ocl * (OH * OW);
        const int wo = ocl * (KH * KW) * lanes;
        for (int i = 0; i < KH; i++) {
            for (int j = 0; j < KW; j++) {
                CONV_PHASE_TAP;
                const int wk = wo + (i * KW + j) * lanes;
                const float16 wv = vload16(0, ws + wk);
                const float16 pv = vload16(0, ps + wk);
                const float16 mv = vload16(0, ms + wk);
                const int toff = i * DH * OW + j * DW;
                #pragma unroll
                for (int k = 0; k < CONV_VEC_PIX; k++) {
                    int at;
                    if (CONV_BACK_AT(k)) {
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

/* wt: w, wpos, wneg arranged (backward), at offsets 0, arr and 2*arr of one buffer. */
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
    } else if (mode == 4) {
        conv_back_zbox_chains(g + gg, ws, ws + arr, ws + 2 * arr, c0, cp, cm, th0, tw0, cout, KH, KW, SH, SW, DH, DW,
                              OH, OW, lanes, 4);
    } else { /* a patch convolution (mode 3): its taps one by one */
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
            const int e = e0 + l * HW + k * pstep;
            const int o = base + l * HW + k * pstep;
            r[o] = (x[o] * t0[l] - low[e] * tp[l]) - high[e] * tm[l];
        }
    }
}
