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
 * Layout (row-major): x, rIn[B, C*H*W]; y, arg, r[B, C*OH*OW].
 * Work: one work-item per output (max_pool) or per input element (max_pool_route); global (sample size rounded up
 * to the host's local size, B).
 * Tuning parameters: none (memory-bound).
 */
#pragma OPENCL FP_CONTRACT OFF

#include "lrp_common.h"

#define POOL_GEOMETRY const int C, const int H, const int W, const int KH, const int KW, const int SH, \
    const int SW, const int PH, const int PW, const int OH, const int OW

__kernel void max_pool(__global const float* restrict x, __global float* restrict y, __global float* restrict arg,
                       const int rows, POOL_GEOMETRY)
{
    const int o = get_global_id(0);
    const int b = get_global_id(1);
    if (o >= C * OH * OW || b >= rows) {
        return;
    }
    const int c = o / (OH * OW);
    const int oh = o / OW % OH;
    const int ow = o % OW;
    const __global float* xb = x + b * (C * H * W);
    int best = -1;
    float m = 0.0f;
    for (int i = 0; i < KH; i++) {
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
    const int e = get_global_id(0);
    const int b = get_global_id(1);
    if (e >= C * H * W || b >= rows) {
        return;
    }
    const int c = e / (H * W);
    const int ih = e / W % H;
    const int iw = e % W;
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
