/*
 * conv.cl: 2-D convolution over NCHW samples and its relevance backprojection (conv, convSigned, convZBox,
 * convBackproject, convBackprojectSigned, convBackprojectZBox).
 *
 * Geometry (PyTorch's Conv2d): input [C, H, W], weight w[OC, C/G, KH, KW], output [OC, OH, OW] with
 * OH = (H + 2 PH - DH (KH-1) - 1) / SH + 1 (OW likewise); output channel oc reads the C/G input channels of group
 * oc / (OC/G). Output (oc, oh, ow) meets input (ci, ih, iw) through tap (kh, kw) when
 * ih = oh SH - PH + kh DH and iw = ow SW - PW + kw DW.
 *
 * Math, each chain from +0.0f in the stated ascending order, a tap outside the input SKIPPED (never fma'd with 0):
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
 * Work: one work-item per output element; global (sample size rounded up to the host's local size, B).
 * Tuning parameters: none yet (the simple shape; a tiled variant may add some).
 * Compiled after lrp_common.h, which the host prepends.
 */
#pragma OPENCL FP_CONTRACT OFF

#define CONV_GEOMETRY const int C, const int H, const int W, const int OC, const int KH, const int KW, \
    const int SH, const int SW, const int PH, const int PW, const int DH, const int DW, const int G

/* ---------------------------------------------------------------- forward: one work-item per output */

__kernel void conv_fwd(__global const float* restrict x, __global const float* restrict w,
                       __global const float* restrict bias, const int has_bias, __global float* restrict z,
                       const int rows, CONV_GEOMETRY)
{
    const int OH = (H + 2 * PH - DH * (KH - 1) - 1) / SH + 1;
    const int OW = (W + 2 * PW - DW * (KW - 1) - 1) / SW + 1;
    const int o = get_global_id(0);
    const int b = get_global_id(1);
    if (o >= OC * OH * OW || b >= rows) {
        return;
    }
    const int oc = o / (OH * OW);
    const int oh = o / OW % OH;
    const int ow = o % OW;
    const int cin = C / G;
    const int c0 = oc / (OC / G) * cin;
    const __global float* xb = x + b * (C * H * W);
    float acc = 0.0f;
    for (int cl = 0; cl < cin; cl++) {
        const __global float* xc = xb + (c0 + cl) * H * W;
        const __global float* wc = w + (oc * cin + cl) * KH * KW;
        for (int i = 0; i < KH; i++) {
            const int ih = oh * SH - PH + i * DH;
            if (ih < 0 || ih >= H) {
                continue;
            }
            for (int j = 0; j < KW; j++) {
                const int iw = ow * SW - PW + j * DW;
                if (iw < 0 || iw >= W) {
                    continue;
                }
                acc = fma(xc[ih * W + iw], wc[i * KW + j], acc);
            }
        }
    }
    z[b * (OC * OH * OW) + o] = has_bias ? acc + bias[oc] : acc;
}

__kernel void conv_signed(__global const float* restrict x, __global const float* restrict u,
                          __global const float* restrict v, __global const float* restrict biasP,
                          const int has_bp, __global const float* restrict biasN, const int has_bn,
                          __global float* restrict outP, __global float* restrict outN, const int has_n,
                          const int rows, CONV_GEOMETRY)
{
    const int OH = (H + 2 * PH - DH * (KH - 1) - 1) / SH + 1;
    const int OW = (W + 2 * PW - DW * (KW - 1) - 1) / SW + 1;
    const int o = get_global_id(0);
    const int b = get_global_id(1);
    if (o >= OC * OH * OW || b >= rows) {
        return;
    }
    const int oc = o / (OH * OW);
    const int oh = o / OW % OH;
    const int ow = o % OW;
    const int cin = C / G;
    const int c0 = oc / (OC / G) * cin;
    const __global float* xb = x + b * (C * H * W);
    float p = 0.0f;
    float n = 0.0f;
    for (int cl = 0; cl < cin; cl++) {
        const __global float* xc = xb + (c0 + cl) * H * W;
        const int wc = (oc * cin + cl) * KH * KW;
        for (int i = 0; i < KH; i++) {
            const int ih = oh * SH - PH + i * DH;
            if (ih < 0 || ih >= H) {
                continue;
            }
            for (int j = 0; j < KW; j++) {
                const int iw = ow * SW - PW + j * DW;
                if (iw < 0 || iw >= W) {
                    continue;
                }
                const float xi = xc[ih * W + iw];
                const float uu = u[wc + i * KW + j];
                const float vv = v[wc + i * KW + j];
                if (xi > 0.0f) {
                    p = fma(xi, uu, p);
                    n = fma(xi, vv, n);
                } else {
                    p = fma(xi, vv, p);
                    n = fma(xi, uu, n);
                }
            }
        }
    }
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
    const int OH = (H + 2 * PH - DH * (KH - 1) - 1) / SH + 1;
    const int OW = (W + 2 * PW - DW * (KW - 1) - 1) / SW + 1;
    const int o = get_global_id(0);
    const int b = get_global_id(1);
    if (o >= OC * OH * OW || b >= rows) {
        return;
    }
    const int oc = o / (OH * OW);
    const int oh = o / OW % OH;
    const int ow = o % OW;
    const int cin = C / G;
    const int c0 = oc / (OC / G) * cin;
    const __global float* xb = x + b * (C * H * W);
    float acc = 0.0f;
    for (int cl = 0; cl < cin; cl++) {
        const int lc = (c0 + cl) * H * W;
        const __global float* wc = w + (oc * cin + cl) * KH * KW;
        for (int i = 0; i < KH; i++) {
            const int ih = oh * SH - PH + i * DH;
            if (ih < 0 || ih >= H) {
                continue;
            }
            for (int j = 0; j < KW; j++) {
                const int iw = ow * SW - PW + j * DW;
                if (iw < 0 || iw >= W) {
                    continue;
                }
                const int e = lc + ih * W + iw;
                const float ww = wc[i * KW + j];
                const float t = ww > 0.0f ? xb[e] - low[e] : xb[e] - high[e];
                acc = fma(t, ww, acc);
            }
        }
    }
    d[b * (OC * OH * OW) + o] = acc;
}

/* ---------------------------------------------------------------- backward: one work-item per input element */

__kernel void conv_back(__global const float* restrict g, __global const float* restrict w,
                        __global const float* restrict x, const int has_x, __global float* restrict r,
                        const int rows, CONV_GEOMETRY)
{
    const int OH = (H + 2 * PH - DH * (KH - 1) - 1) / SH + 1;
    const int OW = (W + 2 * PW - DW * (KW - 1) - 1) / SW + 1;
    const int e = get_global_id(0);
    const int b = get_global_id(1);
    if (e >= C * H * W || b >= rows) {
        return;
    }
    const int ci = e / (H * W);
    const int ih = e / W % H;
    const int iw = e % W;
    const int cin = C / G;
    const int cout = OC / G;
    const int grp = ci / cin;
    const int cl = ci - grp * cin;
    const __global float* gb = g + b * (OC * OH * OW);
    float c = 0.0f;
    for (int oc = grp * cout; oc < (grp + 1) * cout; oc++) {
        const __global float* go = gb + oc * OH * OW;
        const __global float* wc = w + (oc * cin + cl) * KH * KW;
        for (int i = 0; i < KH; i++) {
            const int th = ih + PH - i * DH;
            if (th < 0 || th % SH != 0 || th / SH >= OH) {
                continue;
            }
            const __global float* gro = go + th / SH * OW;
            for (int j = 0; j < KW; j++) {
                const int tw = iw + PW - j * DW;
                if (tw < 0 || tw % SW != 0 || tw / SW >= OW) {
                    continue;
                }
                c = fma(wc[i * KW + j], gro[tw / SW], c);
            }
        }
    }
    const int k = b * (C * H * W) + e;
    r[k] = has_x ? x[k] * c : c;
}

__kernel void conv_back_signed(__global const float* restrict hp, __global const float* restrict hn,
                               const int has_n, __global const float* restrict u, __global const float* restrict v,
                               __global const float* restrict x, __global float* restrict r, const int rows,
                               CONV_GEOMETRY)
{
    const int OH = (H + 2 * PH - DH * (KH - 1) - 1) / SH + 1;
    const int OW = (W + 2 * PW - DW * (KW - 1) - 1) / SW + 1;
    const int e = get_global_id(0);
    const int b = get_global_id(1);
    if (e >= C * H * W || b >= rows) {
        return;
    }
    const int ci = e / (H * W);
    const int ih = e / W % H;
    const int iw = e % W;
    const int cin = C / G;
    const int cout = OC / G;
    const int grp = ci / cin;
    const int cl = ci - grp * cin;
    const int gb = b * (OC * OH * OW);
    float c1 = 0.0f;
    float c2 = 0.0f;
    for (int oc = grp * cout; oc < (grp + 1) * cout; oc++) {
        const int go = gb + oc * OH * OW;
        const int wc = (oc * cin + cl) * KH * KW;
        for (int i = 0; i < KH; i++) {
            const int th = ih + PH - i * DH;
            if (th < 0 || th % SH != 0 || th / SH >= OH) {
                continue;
            }
            const int gro = go + th / SH * OW;
            for (int j = 0; j < KW; j++) {
                const int tw = iw + PW - j * DW;
                if (tw < 0 || tw % SW != 0 || tw / SW >= OW) {
                    continue;
                }
                const int k = gro + tw / SW;
                const float uu = u[wc + i * KW + j];
                const float vv = v[wc + i * KW + j];
                const float gp = hp[k];
                c1 = fma(uu, gp, c1);
                c2 = fma(vv, gp, c2);
                if (has_n) {
                    const float gn = hn[k];
                    c1 = fma(vv, gn, c1);
                    c2 = fma(uu, gn, c2);
                }
            }
        }
    }
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
    const int OH = (H + 2 * PH - DH * (KH - 1) - 1) / SH + 1;
    const int OW = (W + 2 * PW - DW * (KW - 1) - 1) / SW + 1;
    const int e = get_global_id(0);
    const int b = get_global_id(1);
    if (e >= C * H * W || b >= rows) {
        return;
    }
    const int ci = e / (H * W);
    const int ih = e / W % H;
    const int iw = e % W;
    const int cin = C / G;
    const int cout = OC / G;
    const int grp = ci / cin;
    const int cl = ci - grp * cin;
    const __global float* gb = g + b * (OC * OH * OW);
    float c0 = 0.0f;
    float cp = 0.0f;
    float cm = 0.0f;
    for (int oc = grp * cout; oc < (grp + 1) * cout; oc++) {
        const __global float* go = gb + oc * OH * OW;
        const int wc = (oc * cin + cl) * KH * KW;
        for (int i = 0; i < KH; i++) {
            const int th = ih + PH - i * DH;
            if (th < 0 || th % SH != 0 || th / SH >= OH) {
                continue;
            }
            const __global float* gro = go + th / SH * OW;
            for (int j = 0; j < KW; j++) {
                const int tw = iw + PW - j * DW;
                if (tw < 0 || tw % SW != 0 || tw / SW >= OW) {
                    continue;
                }
                const int wk = wc + i * KW + j;
                const float gj = gro[tw / SW];
                c0 = fma(w[wk], gj, c0);
                cp = fma(wpos[wk], gj, cp);
                cm = fma(wneg[wk], gj, cm);
            }
        }
    }
    const int k = b * (C * H * W) + e;
    r[k] = (x[k] * c0 - low[e] * cp) - high[e] * cm;
}
