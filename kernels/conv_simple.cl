/*
 * conv_simple.cl: 2-D convolution over NCHW samples and its relevance backprojection, one work-item per output
 * element: the reference statement of the contract, run on every device for what the other families leave (and
 * everywhere with conv.variant=simple). conv_vector.cl and conv_tiled.cl compute the same bits faster.
 *
 * Geometry and tap walks: conv_walk.h. Math, each chain from +0.0f in the walk's ascending order, a tap outside
 * the input SKIPPED (never fma'd with 0):
 *   conv_fwd:         z = chain over (ci in oc's group, kh, kw) fma(x, w); then + bias[oc] when has_bias
 *   conv_signed:      per tap x > 0 ? (p = fma(x,u,p); n = fma(x,v,n)) : (p = fma(x,v,p); n = fma(x,u,n));
 *                     outP = p (+ biasP[oc]); outN = n (+ biasN[oc]) when has_n
 *   conv_zbox:        per tap t = w > 0 ? x - low[e] : x - high[e]; acc = fma(t, w, acc)  (e: the input element)
 *   conv_back:        c[ci,ih,iw] = chain over (oc in ci's group, kh, kw) fma(w, g[oc,oh,ow]) over the taps whose
 *                     oh = (ih + PH - kh DH) / SH is an exact integer in [0, OH) (ow likewise);
 *                     r = has_x ? x * c : c
 *   conv_back_signed: per tap c1 = fma(u,hp,c1), then (has_n) c1 = fma(v,hn,c1); c2 = fma(v,hp,c2), then (has_n)
 *                     c2 = fma(u,hn,c2); r = x * (x > 0 ? c1 : c2)
 *   conv_back_zbox:   c0, cp, cm = the chains of w, wpos, wneg against g; r = (x c0 - low cp) - high cm
 * Layout (row-major): x, r[B, C*H*W]; z, g, hp, hn, outP, outN, d[B, OC*OH*OW]; low, high[C*H*W] (per input
 * element); bias[OC]. Absent optional buffers are replaced by a dummy and their has_* flag is 0.
 * Global (sample size rounded up to the host's local size, B). No tuning parameters.
 */
#pragma OPENCL FP_CONTRACT OFF

#include "lrp_common.h"
#include "conv_walk.h"

/* ---------------------------------------------------------------- forward: one work-item per output */

__kernel void conv_fwd(__global const float* restrict x, __global const float* restrict w,
                       __global const float* restrict bias, const int has_bias, __global float* restrict z,
                       const int rows, CONV_GEOMETRY)
{
    CONV_OUTPUT_ITEM;
    const __global float* xb = x + b * (C * H * W);
    float acc = 0.0f;
    CONV_FWD_WALK(
        acc = fma(xb[xe], w[wk], acc);
    )
    z[b * (OC * OH * OW) + o] = has_bias ? acc + bias[oc] : acc;
}

__kernel void conv_signed(__global const float* restrict x, __global const float* restrict u,
                          __global const float* restrict v, __global const float* restrict biasP,
                          const int has_bp, __global const float* restrict biasN, const int has_bn,
                          __global float* restrict outP, __global float* restrict outN, const int has_n,
                          const int rows, CONV_GEOMETRY)
{
    CONV_OUTPUT_ITEM;
    const __global float* xb = x + b * (C * H * W);
    float p = 0.0f;
    float n = 0.0f;
    CONV_FWD_WALK(
        const float xi = xb[xe];
        const float uu = u[wk];
        const float vv = v[wk];
        if (xi > 0.0f) {
            p = fma(xi, uu, p);
            n = fma(xi, vv, n);
        } else {
            p = fma(xi, vv, p);
            n = fma(xi, uu, n);
        }
    )
    const int k = b * (OC * OH * OW) + o;
    outP[k] = has_bp ? p + biasP[oc] : p;
    if (has_n) {
        outN[k] = has_bn ? n + biasN[oc] : n;
    }
}

__kernel void conv_zbox(__global const float* restrict x, __global const float* restrict w,
                        __global const float* restrict low, __global const float* restrict high,
                        __global float* restrict d, const int rows, CONV_GEOMETRY)
{
    CONV_OUTPUT_ITEM;
    const __global float* xb = x + b * (C * H * W);
    float acc = 0.0f;
    CONV_FWD_WALK(
        const float ww = w[wk];
        const float t = ww > 0.0f ? xb[xe] - low[xe] : xb[xe] - high[xe];
        acc = fma(t, ww, acc);
    )
    d[b * (OC * OH * OW) + o] = acc;
}

/* ---------------------------------------------------------------- backward: one work-item per input element */

__kernel void conv_back(__global const float* restrict g, __global const float* restrict w,
                        __global const float* restrict x, const int has_x, __global float* restrict r,
                        const int rows, CONV_GEOMETRY)
{
    CONV_INPUT_ITEM;
    const __global float* gb = g + b * (OC * OH * OW);
    float c = 0.0f;
    CONV_BACK_WALK(
        c = fma(w[wk], gb[go], c);
    )
    const int k = b * (C * H * W) + e;
    r[k] = has_x ? x[k] * c : c;
}

__kernel void conv_back_signed(__global const float* restrict hp, __global const float* restrict hn,
                               const int has_n, __global const float* restrict u, __global const float* restrict v,
                               __global const float* restrict x, __global float* restrict r, const int rows,
                               CONV_GEOMETRY)
{
    CONV_INPUT_ITEM;
    const int gb = b * (OC * OH * OW);
    float c1 = 0.0f;
    float c2 = 0.0f;
    CONV_BACK_WALK(
        const float uu = u[wk];
        const float vv = v[wk];
        const float gp = hp[gb + go];
        c1 = fma(uu, gp, c1);
        c2 = fma(vv, gp, c2);
        if (has_n) {
            const float gn = hn[gb + go];
            c1 = fma(vv, gn, c1);
            c2 = fma(uu, gn, c2);
        }
    )
    const int k = b * (C * H * W) + e;
    const float xi = x[k];
    r[k] = xi * (xi > 0.0f ? c1 : c2);
}

__kernel void conv_back_zbox(__global const float* restrict g, __global const float* restrict w,
                             __global const float* restrict wpos, __global const float* restrict wneg,
                             __global const float* restrict x, __global const float* restrict low,
                             __global const float* restrict high, __global float* restrict r, const int rows,
                             CONV_GEOMETRY)
{
    CONV_INPUT_ITEM;
    const __global float* gb = g + b * (OC * OH * OW);
    float c0 = 0.0f;
    float cp = 0.0f;
    float cm = 0.0f;
    CONV_BACK_WALK(
        const float gj = gb[go];
        c0 = fma(w[wk], gj, c0);
        cp = fma(wpos[wk], gj, cp);
        cm = fma(wneg[wk], gj, cm);
    )
    const int k = b * (C * H * W) + e;
    r[k] = (x[k] * c0 - low[e] * cp) - high[e] * cm;
}

/*
 * ------------------------------------------------------- the stride grid of a 1x1 layer (backend/StrideGrid.java)
 * A 1x1 layer with a stride above 1 and no padding runs as the stride-1 layer of its grid's pixels:
 *   conv_grid_gather:  xs[b, c, oy, ox] = x[b, c, oy SH, ox SW]        (xs: the grid's input, [B, C*OH*OW])
 *   conv_grid_scatter: r[b, c, iy, ix] = has_x ? x * v : v, v = cs[b, c, iy / SH, ix / SW] on the grid, +0.0f off
 *                      it (an input no tap reaches: its chain is empty)  (cs: the grid's chains)
 * Work: one work-item per element written, global (columns, rows, B * C) rounded up to the host's local size
 * (ClLaunches.pool's shape), so a work-item finds its column and row without dividing.
 */
__kernel void conv_grid_gather(__global const float* restrict x, __global float* restrict xs, const int rows,
                               const int C, const int H, const int W, const int SH, const int SW, const int OH,
                               const int OW)
{
    const int ox = get_global_id(0);
    const int oy = get_global_id(1);
    const int b = get_global_id(2) / C;
    const int c = get_global_id(2) % C;
    if (ox >= OW || oy >= OH || b >= rows) {
        return;
    }
    xs[((b * C + c) * OH + oy) * OW + ox] = x[((b * C + c) * H + oy * SH) * W + ox * SW];
}

__kernel void conv_grid_scatter(__global const float* restrict cs, __global const float* restrict x,
                                const int has_x, __global float* restrict r, const int rows, const int C, const int H,
                                const int W, const int SH, const int SW, const int OH, const int OW)
{
    const int ix = get_global_id(0);
    const int iy = get_global_id(1);
    const int b = get_global_id(2) / C;
    const int c = get_global_id(2) % C;
    if (ix >= W || iy >= H || b >= rows) {
        return;
    }
    const int oy = iy / SH;
    const int ox = ix / SW;
    const float v = oy * SH == iy && ox * SW == ix ? cs[((b * C + c) * OH + oy) * OW + ox] : 0.0f;
    const int k = ((b * C + c) * H + iy) * W + ix;
    r[k] = has_x ? x[k] * v : v;
}
