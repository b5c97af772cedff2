/*
 * conv_pixels.cl: the pixel-lane backprojections for CPU devices (PoCL, conv.variant=vector), the same bits as the
 * reference kernels of conv_simple.cl, whose header states the math; geometry and walks: conv_walk.h.
 *   *_px     backprojections onto fewer input channels (the first layer): 16 input columns of one column phase
 *            (every SW-th column; with unit column stride, consecutive columns) in float16 lanes x CONV_VEC_PIX rows
 *            per work-item, and those of patch convolutions (kernel = stride: a ViT's patch embedding onto its 3
 *            colour channels) in 16 consecutive columns (the channel-lane kernels of conv_vector.cl would fill few
 *            lanes there).
 * Tuning parameter (#ifndef default below, overridden by the host's #define): CONV_VEC_PIX 8.
 */
#pragma OPENCL FP_CONTRACT OFF

#include "lrp_common.h"
#include "conv_walk.h"

#ifndef CONV_VEC_PIX
#define CONV_VEC_PIX 8
#endif

/* ================================================================ vector, pixel lanes: few input channels
 *
 * The backprojection onto few input channels per group (the first layer: 1 or 3) fills few channel lanes, so these
 * kernels put input columns in the lanes instead: a work-item computes input channel ci, CONV_VEC_PIX rows of one
 * row phase, ih0 + SH * r, and 16 columns of one phase, iw0 + SW * l for lanes l (iw0 = SW * j0 + p, the phase
 * p < SW); a kernel row reaches all the tile's rows or none, row r meeting one output row further than row r - 1.
 * Kernel column kw reaches the phase's columns only where p + PW - kw * DW is a multiple of SW, and then reaches
 * output column j + (p + PW - kw * DW) / SW from phase column j: consecutive lanes read consecutive outputs, as
 * with unit stride (SW = 1: one phase, consecutive columns), and a tap that reaches none of the phase is skipped for
 * the whole tile, as each lane's chain skips it. A lane whose tap falls outside the output row keeps its chain as it
 * is (a lane blend, never an fma with 0); lanes past W are never stored. Patch convolutions (kernel = stride, no
 * padding or dilation) put 16 consecutive columns in the lanes instead (conv_px_patch).
 * Global (row tiles * column tiles rounded up to the local size, C, B): row tiles SH * ceil(ceil(H / SH) /
 * CONV_VEC_PIX), column tiles SW * ceil(ceil(W / SW) / 16), both with stride 1 for patches (ClLaunches.pixelTiles).
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
 * One tap's products for row r of the tile: mode 0: a0 = w.g (conv_back); 1: a0 = u.hp, a1 = v.hp (conv_back_signed
 * without hn); 2: a0 = u.hp then v.hn, a1 = v.hp then u.hn; 3: a0, a1, a2 = w.g, wpos.g, wneg.g (conv_back_zbox).
 * wa, wb, wc: the tap's weights (w, u, v or w, wpos, wneg), p and n the upper gradients (g or hp, and hn); lanes
 * not in `valid` keep their chains unless `full`.
 */
LRP_INLINE void conv_px_tap(const int mode, const float16 wa, const float16 wb, const float16 wc, const float16 p,
                            const float16 n, float16* a0, float16* a1, float16* a2, const int r, const int full,
                            const int16 valid)
{
    if (mode == 0) {
        a0[r] = full ? fma(wa, p, a0[r]) : select(a0[r], fma(wa, p, a0[r]), valid);
    } else if (mode == 1 || mode == 2) {
        float16 c1 = fma(wa, p, a0[r]);
        float16 c2 = fma(wb, p, a1[r]);
        if (mode == 2) {
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

/*
 * The chains of a patch convolution's tile (kernel = stride, no padding or dilation: a ViT's patch embedding): each
 * input meets one tap per output channel, kw = iw % SW at output column iw / SW (kh, oh likewise by rows), so a
 * chain runs over the output channels alone, as PatchConv's on the CPU path. Lanes in columns no patch covers keep
 * +0. With 16-column patches a tile's 16 lanes are one patch row: the weights one load, the gradient one value;
 * otherwise both are read lane by lane.
 */
LRP_INLINE void conv_px_patch(const int mode, const __global float* restrict g1, const __global float* restrict g2,
                              const __global float* restrict w0, const __global float* restrict w1,
                              const __global float* restrict w2, float16* a0, float16* a1, float16* a2,
                              const int ih0, const int iw0, const int cl, const int cin, const int cout, const int KH,
                              const int KW, const int SH, const int SW, const int OH, const int OW)
{
    const int16 lane = (int16)(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    const int16 owv = ((int16)(iw0) + lane) / (int16)(SW);
    const int16 kwv = (int16)(iw0) + lane - owv * (int16)(SW);
    const int16 valid = owv < (int16)(OW);
    const int16 owc = select((int16)(OW - 1), owv, valid); /* clamped: what a lane outside reads is never used */
    const int one = SW == 16 && iw0 / 16 < OW; /* the tile is one whole patch row */
    for (int ocl = 0; ocl < cout; ocl++) {
        const int go = ocl * (OH * OW);
        const int wo = (ocl * cin + cl) * (KH * KW);
        #pragma unroll
        for (int r = 0; r < CONV_VEC_PIX; r++) {
            const int oh = (ih0 + r) / SH;
            if (oh >= OH) {
                continue;
            }
            const int wk = wo + (ih0 + r - oh * SH) * KW;
            const int gk = go + oh * OW;
            float16 wa;
            float16 wb;
            float16 wc;
            float16 p;
            float16 n;
            if (one) {
                wa = vload16(0, w0 + wk);
                wb = mode != 0 ? vload16(0, w1 + wk) : wa;
                wc = mode == 3 ? vload16(0, w2 + wk) : wa;
                p = (float16)(g1[gk + iw0 / 16]);
                n = mode == 2 ? (float16)(g2[gk + iw0 / 16]) : p;
            } else {
                float t[5][16];
                for (int l = 0; l < 16; l++) {
                    t[0][l] = w0[wk + kwv[l]];
                    t[1][l] = mode != 0 ? w1[wk + kwv[l]] : 0.0f;
                    t[2][l] = mode == 3 ? w2[wk + kwv[l]] : 0.0f;
                    t[3][l] = g1[gk + owc[l]];
                    t[4][l] = mode == 2 ? g2[gk + owc[l]] : 0.0f;
                }
                wa = vload16(0, t[0]);
                wb = mode != 0 ? vload16(0, t[1]) : wa;
                wc = mode == 3 ? vload16(0, t[2]) : wa;
                p = vload16(0, t[3]);
                n = mode == 2 ? vload16(0, t[4]) : p;
            }
            conv_px_tap(mode, wa, wb, wc, p, n, a0, a1, a2, r, one, valid);
        }
    }
}

/*
 * The chains of one work-item, in conv_px_tap's modes: the walk over (output channel, kh, kw) of a column phase
 * (tw0 = iw0 + PW), or a patch convolution's (conv_px_patch).
 */
LRP_INLINE void conv_px_chains(const int mode, const __global float* restrict g1, const __global float* restrict g2,
                               const __global float* restrict w0, const __global float* restrict w1,
                               const __global float* restrict w2, float16* a0, float16* a1, float16* a2,
                               const int ih0, const int tw0, const int cl, const int cin, const int cout,
                               const int KH, const int KW, const int SH, const int SW, const int PH, const int DH,
                               const int DW, const int OH, const int OW, const int gbase, const int total,
                               const int patch)
{
    if (patch) {
        conv_px_patch(mode, g1, g2, w0, w1, w2, a0, a1, a2, ih0, tw0, cl, cin, cout, KH, KW, SH, SW, OH, OW);
        return;
    }
    const int16 lane = (int16)(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    for (int ocl = 0; ocl < cout; ocl++) {
        const int go = ocl * (OH * OW);
        const int wo = (ocl * cin + cl) * (KH * KW);
        for (int i = 0; i < KH; i++) {
            /* the tile's rows are one row phase (ih0 + r * SH): kernel row i reaches all of them or none, row r
               meeting output row ob + r */
            const int tb = ih0 + PH - i * DH;
            if (SH != 1 && tb % SH != 0) {
                continue;
            }
            const int ob = SH == 1 ? tb : tb / SH;
            for (int j = 0; j < KW; j++) {
                const int tj = tw0 - j * DW;
                if (SW != 1 && tj % SW != 0) {
                    continue; /* this kernel column reaches no column of the phase */
                }
                const int wk = wo + i * KW + j;
                const float16 wa = (float16)(w0[wk]);
                const float16 wb = mode != 0 ? (float16)(w1[wk]) : wa;
                const float16 wc = mode == 3 ? (float16)(w2[wk]) : wa;
                const int owb = SW == 1 ? tj : tj / SW;
                const int full = owb >= 0 && owb + 16 <= OW;
                const int16 owv = (int16)(owb) + lane;
                const int16 valid = (owv >= 0) & (owv < (int16)(OW));
                #pragma unroll
                for (int r = 0; r < CONV_VEC_PIX; r++) {
                    const int oh = ob + r;
                    if (oh < 0 || oh >= OH) {
                        continue;
                    }
                    const int at = go + oh * OW;
                    const float16 p = conv_row16(g1 + at, owb, OW, full, gbase + at + owb, total);
                    const float16 n = mode == 2 ? conv_row16(g2 + at, owb, OW, full, gbase + at + owb, total) : p;
                    conv_px_tap(mode, wa, wb, wc, p, n, a0, a1, a2, r, full, valid);
                }
            }
        }
    }
}

#define CONV_PX_TILE \
    CONV_OUT_DIMS; \
    const int OHW = OH * OW; \
    const int HW = H * W; \
    const int patch = KH == SH && KW == SW && SW > 1 && PH == 0 && PW == 0 && DH == 1 && DW == 1; \
    const int sw = patch ? 1 : SW; /* input columns between lanes */ \
    const int sh = patch ? 1 : SH; /* input rows between a tile's rows */ \
    const int nb = ((W + sw - 1) / sw + 15) / 16; /* column tiles per phase */ \
    const int ncb = sw * nb; \
    const int nrb = ((H + sh - 1) / sh + CONV_VEC_PIX - 1) / CONV_VEC_PIX; /* row tiles per row phase */ \
    const int t = get_global_id(0); \
    const int ci = get_global_id(1); \
    const int b = get_global_id(2); \
    if (t >= sh * nrb * ncb || b >= rows) { \
        return; \
    } \
    const int ih0 = t / ncb % nrb * CONV_VEC_PIX * sh + t / ncb / nrb; \
    const int iw0 = t % ncb % nb * 16 * sw + t % ncb / nb; \
    const int cin = C / G; \
    const int cout = OC / G; \
    const int grp = ci / cin; \
    const int cl = ci - grp * cin; \
    const int gg = b * (OC * OHW) + grp * cout * OHW; \
    const int wg = grp * cout * cin * (KH * KW); \
    const int nr = min(CONV_VEC_PIX, (H - ih0 + sh - 1) / sh); /* at most 0 past the last row */ \
    const int nc = min(16, (W - iw0 + sw - 1) / sw); /* at most 0 where the phase has no column here */ \
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
            const int e = ci * HW + (ih0 + q * sh) * W + iw0 + l * sw; \
            const int o = b * (C * HW) + e; \
            STORE \
        } \
    }

__kernel void conv_back_px(__global const float* restrict g, __global const float* restrict w,
                           __global const float* restrict x, const int has_x, __global float* restrict r,
                           const int rows, CONV_GEOMETRY)
{
    CONV_PX_TILE;
    conv_px_chains(0, g + gg, g, w + wg, w, w, a0, a1, a2, ih0, iw0 + PW, cl, cin, cout, KH, KW, SH, SW, PH, DH, DW,
                   OH, OW, gg, rows * OC * OHW, patch);
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
                       SW, PH, DH, DW, OH, OW, gg, rows * OC * OHW, patch);
    } else {
        conv_px_chains(1, hp + gg, hp, u + wg, v + wg, u, a0, a1, a2, ih0, iw0 + PW, cl, cin, cout, KH, KW, SH, SW,
                       PH, DH, DW, OH, OW, gg, rows * OC * OHW, patch);
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
                   SW, PH, DH, DW, OH, OW, gg, rows * OC * OHW, patch);
    CONV_PX_STORE(r[o] = (x[o] * t0[l] - low[e] * t1[l]) - high[e] * t2[l];)
}
