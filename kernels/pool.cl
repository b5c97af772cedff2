/*
 * pool.cl: 2-D max pooling over NCHW samples and its relevance routing (maxPool, maxPoolRoute).
 *
 * Geometry (PyTorch's MaxPool2d, no dilation): input [C, H, W], output [C, OH, OW], OH and OW given by the host:
 * OH = (H + 2 PH - KH) / SH + 1 in floor mode, one more in ceil mode where the last window starts inside the input
 * (OW likewise); window (oh, ow) covers ih = oh SH - PH + kh, iw = ow SW - PW + kw, taps outside the input skipped.
 *
 * Math:
 *   max_pool:       y[b,c,oh,ow] = the window's maximum in scan order (kh, then kw, ascending), the FIRST one on
 *                   ties (only a strictly greater value replaces it); padding taps are skipped (count as -inf);
 *                   arg[b,c,oh,ow] = its flat index within the sample, (c H + ih) W + iw, as a float (exact: the
 *                   host keeps C*H*W <= 2^24).
 *   max_pool_route: rIn[b,i] = a chain of plain adds from +0.0f of r[b,o] over the outputs o whose arg is i, in
 *                   ascending o. Each work-item owns one input element and scans, in ascending (oh, ow), the
 *                   outputs of its channel whose window can contain it: no atomics, no scatter, the CPU's order.
 *   max_pool_route_windows: the same where windows do not overlap (SH >= KH, SW >= KW: each input is in at most
 *                   one window, so its chain is +0.0f, or +0.0f + r[b,o] for the window o whose arg it is). Each
 *                   work-item owns one output's window and the inputs up to the next window (from the input's
 *                   start for the first, to its end for the last), and writes them all: fewer work-items, and none
 *                   scans for its window.
 * Layout (row-major): x, rIn[B, C*H*W]; y, arg, r[B, C*OH*OW].
 * Work: one work-item per output (max_pool, max_pool_route_windows) or per input element (max_pool_route), over
 * three dimensions: global (OW or W, OH or H, B * C), each rounded up to the host's local size (a row's width, some
 * rows, some planes: ClLaunches.pool); so a work-item finds its column and row without dividing, and its sample and
 * channel with one division. The integer divisions of a flat index were most of these kernels' time on CPU devices
 * (PoCL: 0.03 GFLOP/s).
 * Tuning parameters: none (memory-bound).
 */
#pragma OPENCL FP_CONTRACT OFF

#include "lrp_common.h"

#define POOL_GEOMETRY const int C, const int H, const int W, const int KH, const int KW, const int SH, \
    const int SW, const int PH, const int PW, const int OH, const int OW

/* This work-item's column X < NX, row Y < NY, sample b and channel c; returns past the end. */
#define POOL_ITEM(X, Y, NX, NY) \
    const int X = get_global_id(0); \
    const int Y = get_global_id(1); \
    const int b = get_global_id(2) / C; \
    const int c = get_global_id(2) % C; \
    if (X >= (NX) || Y >= (NY) || b >= rows) { \
        return; \
    }

__kernel void max_pool(__global const float* restrict x, __global float* restrict y, __global float* restrict arg,
                       const int rows, POOL_GEOMETRY)
{
    POOL_ITEM(ow, oh, OW, OH);
    const int o = (c * OH + oh) * OW + ow;
    const __global float* xb = x + b * (C * H * W);
    int best = -1;
    float m = 0.0f;
    const int top = oh * SH - PH;
    const int left = ow * SW - PW;
    const bool inside2x2 = KH == 2 && KW == 2 && top >= 0 && left >= 0 && top + 1 < H && left + 1 < W;
    if (inside2x2) {
        /* A 2x2 window inside the input (the usual pooling): the same scan, written out. */
        const int e = (c * H + top) * W + left;
        best = e;
        m = xb[e];
        if (xb[e + 1] > m) {
            best = e + 1;
            m = xb[e + 1];
        }
        if (xb[e + W] > m) {
            best = e + W;
            m = xb[e + W];
        }
        if (xb[e + W + 1] > m) {
            best = e + W + 1;
            m = xb[e + W + 1];
        }
    }
    for (int i = 0; i < (inside2x2 ? 0 : KH); i++) {
        const int ih = oh * SH - PH + i;
        if (ih < 0 || ih >= H) {
            continue;
        }
        for (int j = 0; j < KW; j++) {
            const int iw = ow * SW - PW + j;
            if (iw < 0 || iw >= W) {
                continue;
            }
            const int e = (c * H + ih) * W + iw;
            const float v = xb[e];
            if (best < 0 || v > m) {
                best = e;
                m = v;
            }
        }
    }
    const int k = b * (C * OH * OW) + o;
    y[k] = m;
    arg[k] = (float) best;
}

__kernel void max_pool_route(__global const float* restrict r, __global const float* restrict arg,
                             __global float* restrict rIn, const int rows, POOL_GEOMETRY)
{
    POOL_ITEM(iw, ih, W, H);
    const int e = (c * H + ih) * W + iw;
    /* Windows containing row ih: oh SH - PH <= ih <= oh SH - PH + KH - 1. */
    const int tlo = ih + PH - KH + 1;
    const int ohLo = tlo <= 0 ? 0 : (tlo + SH - 1) / SH;
    const int ohHi = min(OH - 1, (ih + PH) / SH);
    const int tlw = iw + PW - KW + 1;
    const int owLo = tlw <= 0 ? 0 : (tlw + SW - 1) / SW;
    const int owHi = min(OW - 1, (iw + PW) / SW);
    const float me = (float) e;
    const int ob = b * (C * OH * OW) + c * OH * OW;
    float acc = 0.0f;
    for (int oh = ohLo; oh <= ohHi; oh++) {
        for (int ow = owLo; ow <= owHi; ow++) {
            const int k = ob + oh * OW + ow;
            if (arg[k] == me) {
                acc = acc + r[k];
            }
        }
    }
    rIn[b * (C * H * W) + e] = acc;
}

__kernel void max_pool_route_windows(__global const float* restrict r, __global const float* restrict arg,
                                     __global float* restrict rIn, const int rows, POOL_GEOMETRY)
{
    POOL_ITEM(ow, oh, OW, OH);
    const int k = b * (C * OH * OW) + (c * OH + oh) * OW + ow;
    const int a = (int) arg[k];
    const float v = 0.0f + r[k];
    const int h0 = oh == 0 ? 0 : oh * SH - PH;
    const int h1 = oh == OH - 1 ? H : min(H, (oh + 1) * SH - PH);
    const int w0 = ow == 0 ? 0 : ow * SW - PW;
    const int w1 = ow == OW - 1 ? W : min(W, (ow + 1) * SW - PW);
    __global float* rb = rIn + b * (C * H * W);
    for (int ih = h0; ih < h1; ih++) {
        for (int iw = w0; iw < w1; iw++) {
            const int e = (c * H + ih) * W + iw;
            rb[e] = e == a ? v : 0.0f;
        }
    }
}

/*
 * max_pool_2x2, max_pool_route_2x2: max_pool and max_pool_route_windows for 2x2 windows at stride 2 without padding
 * that tile the input exactly (H = 2 OH, W = 2 OW; the usual pooling), on CPU devices (where the convolutions take
 * the vector variant), with 16 outputs of a row in float16 lanes per work-item (global (ceil(OW / 16), OH, B * C)):
 * the same comparisons and selects per output as the scalar kernels, in the same order, so the same bits. Loads past
 * a row's end read the next elements where they lie in the buffer (those lanes are never stored); stores write
 * exactly the tile's elements, in pieces of 16, 8, 4, 2 and 1.
 */
#define POOL_2X2_ITEM \
    POOL_ITEM(xg, oh, (OW + 15) / 16, OH); \
    const int ow0 = 16 * xg; \
    const int n = min(16, OW - ow0); \
    const int16 lane = (int16)(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15); \
    const int top = (c * H + 2 * oh) * W + 2 * ow0; \
    const int k = b * (C * OH * OW) + (c * OH + oh) * OW + ow0

/*
 * 16 floats from p, of which the first n are used: one load where the 16 lie in the buffer (ok), else lane by lane
 * (the others 0).
 */
LRP_INLINE float16 pool_load16(const __global float* restrict p, const int n, const int ok)
{
    if (n == 16 || ok) {
        return vload16(0, p);
    }
    float t[16];
    for (int l = 0; l < 16; l++) {
        t[l] = l < n ? p[l] : 0.0f;
    }
    return vload16(0, t);
}

/* Stores the first c (0..16) lanes of v at p, in stores of 16, 8, 4, 2 and 1 floats (no lane past c is written). */
LRP_INLINE void pool_store_first(__global float* restrict p, const float16 v, const int c)
{
    if (c == 16) {
        vstore16(v, 0, p);
        return;
    }
    float t[16];
    vstore16(v, 0, t);
    int at = 0;
    if (c & 8) {
        vstore8(vload8(0, t), 0, p);
        at = 8;
    }
    if (c & 4) {
        vstore4(vload4(0, t + at), 0, p + at);
        at += 4;
    }
    if (c & 2) {
        vstore2(vload2(0, t + at), 0, p + at);
        at += 2;
    }
    if (c & 1) {
        p[at] = t[at];
    }
}

/*
 * The 2n inputs of a row from p (n outputs' windows) as two float16s: even and odd columns; ok: the 32 floats from p
 * lie in the buffer.
 */
LRP_INLINE void pool_row_pairs(const __global float* restrict p, const int n, const int ok, float16* even,
                               float16* odd)
{
    const float16 lo = pool_load16(p, min(16, 2 * n), ok);
    const float16 hi = pool_load16(p + 16, max(0, 2 * n - 16), ok);
    *even = shuffle2(lo, hi, (uint16)(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30));
    *odd = shuffle2(lo, hi, (uint16)(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31));
}

/* Stores the first 2n floats of the interleaved row (even[0], odd[0], even[1], ...) at p. */
LRP_INLINE void pool_row_store(__global float* restrict p, const int n, const float16 even, const float16 odd)
{
    const float16 lo = shuffle2(even, odd, (uint16)(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23));
    const float16 hi = shuffle2(even, odd, (uint16)(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31));
    pool_store_first(p, lo, min(16, 2 * n));
    pool_store_first(p + 16, hi, max(0, 2 * n - 16));
}

__kernel void max_pool_2x2(__global const float* restrict x, __global float* restrict y,
                           __global float* restrict arg, const int rows, POOL_GEOMETRY)
{
    POOL_2X2_ITEM;
    const __global float* xb = x + b * (C * H * W);
    float16 a;
    float16 bb;
    float16 cc;
    float16 d;
    const int last = (rows - b) * (C * H * W); /* the elements from xb to the buffer's end */
    pool_row_pairs(xb + top, n, top + 32 <= last, &a, &bb);
    pool_row_pairs(xb + top + W, n, top + W + 32 <= last, &cc, &d);
    const int16 e = (int16)(top) + 2 * lane;
    /* the scan order (kh, kw), the first maximum on ties: only a strictly greater value replaces it */
    float16 m = a;
    int16 best = e;
    int16 gt = bb > m;
    m = select(m, bb, gt);
    best = select(best, e + 1, gt);
    gt = cc > m;
    m = select(m, cc, gt);
    best = select(best, e + W, gt);
    gt = d > m;
    m = select(m, d, gt);
    best = select(best, e + W + 1, gt);
    pool_store_first(y + k, m, n);
    pool_store_first(arg + k, convert_float16(best), n);
}

__kernel void max_pool_route_2x2(__global const float* restrict r, __global const float* restrict arg,
                                 __global float* restrict rIn, const int rows, POOL_GEOMETRY)
{
    POOL_2X2_ITEM;
    const int ok = k + 16 <= rows * (C * OH * OW);
    const float16 rv = pool_load16(r + k, n, ok);
    const float16 av = pool_load16(arg + k, n, ok); /* lanes past n: never stored */
    const float16 v = (float16)(0.0f) + rv;
    const float16 zero = (float16)(0.0f);
    const float16 e = convert_float16((int16)(top) + 2 * lane); /* exact: C H W <= 2^24 */
    __global float* rb = rIn + b * (C * H * W);
    pool_row_store(rb + top, n, select(zero, v, av == e), select(zero, v, av == e + 1.0f));
    pool_row_store(rb + top + W, n, select(zero, v, av == e + (float) W), select(zero, v, av == e + (float) (W + 1)));
}
