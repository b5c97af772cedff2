/*
 * conv_walk.h: the geometry and walks every convolution kernel shares (conv_simple.cl, conv_vector.cl,
 * conv_tiled.cl).
 *
 * Geometry (PyTorch's Conv2d): input [C, H, W], weight w[OC, C/G, KH, KW], output [OC, OH, OW] with
 * OH = (H + 2 PH - DH (KH-1) - 1) / SH + 1 (OW likewise); output channel oc reads the C/G input channels of group
 * oc / (OC/G). Output (oc, oh, ow) meets input (ci, ih, iw) through tap (kh, kw) when
 * ih = oh SH - PH + kh DH and iw = ow SW - PW + kw DW. Every convolution kernel ends with the CONV_GEOMETRY
 * arguments, in this order (the host passes them so).
 *
 * The walks visit a chain's taps in the contract's ascending order, (channel, kh, kw), and skip a tap outside the
 * input or output (never an fma with 0). A walk's BODY sees the tap's indices as named below.
 */
#pragma OPENCL FP_CONTRACT OFF

#ifndef CONV_WALK_H
#define CONV_WALK_H

#include "lrp_common.h"

#define CONV_GEOMETRY const int C, const int H, const int W, const int OC, const int KH, const int KW, \
    const int SH, const int SW, const int PH, const int PW, const int DH, const int DW, const int G

/* The output size, from the CONV_GEOMETRY arguments. */
#define CONV_OUT_DIMS \
    const int OH = (H + 2 * PH - DH * (KH - 1) - 1) / SH + 1; \
    const int OW = (W + 2 * PW - DW * (KW - 1) - 1) / SW + 1

/*
 * The block of BLOCK channels (of CHANNELS per group: output channels forward, input channels backward) that
 * cb = get_global_id(1) names: its group grp, its first channel l0 within the group and its width nl. Declares
 * cin and cout (channels per group, which CHANNELS may name), nb (blocks per group), grp, l0 and nl.
 */
#define CONV_CHANNEL_BLOCK(CHANNELS, BLOCK) \
    const int cin = C / G; \
    const int cout = OC / G; \
    const int nb = (CHANNELS + (BLOCK) - 1) / (BLOCK); \
    const int grp = cb / nb; \
    const int l0 = cb % nb * (BLOCK); \
    const int nl = min((BLOCK), CHANNELS - l0)

/*
 * One work-item per output element o = (oc, oh, ow) of sample b (global (sample size, B)); returns past the end.
 * Declares OH, OW, o, b, oc, oh, ow, cin (input channels per group) and c0 (the group's first input channel).
 */
#define CONV_OUTPUT_ITEM \
    CONV_OUT_DIMS; \
    const int o = get_global_id(0); \
    const int b = get_global_id(1); \
    if (o >= OC * OH * OW || b >= rows) { \
        return; \
    } \
    const int oc = o / (OH * OW); \
    const int oh = o / OW % OH; \
    const int ow = o % OW; \
    const int cin = C / G; \
    const int c0 = oc / (OC / G) * cin

/*
 * One work-item per input element e = (ci, ih, iw) of sample b (global (sample size, B)); returns past the end.
 * Declares OH, OW, e, b, ci, ih, iw, cin, cout (output channels per group), grp and cl (ci within its group).
 */
#define CONV_INPUT_ITEM \
    CONV_OUT_DIMS; \
    const int e = get_global_id(0); \
    const int b = get_global_id(1); \
    if (e >= C * H * W || b >= rows) { \
        return; \
    } \
    const int ci = e / (H * W); \
    const int ih = e / W % H; \
    const int iw = e % W; \
    const int cin = C / G; \
    const int cout = OC / G; \
    const int grp = ci / cin; \
    const int cl = ci - grp * cin

/*
 * The forward chain of output (oc, oh, ow) (after CONV_OUTPUT_ITEM): over (cl < cin, kh, kw) ascending, the taps
 * inside the input. BODY sees xe, the input element within the sample ((c0 + cl) H W + ih W + iw), and wk, the
 * weight index ((oc cin + cl) KH KW + kh KW + kw).
 */
#define CONV_FWD_WALK(BODY) \
    for (int cl = 0; cl < cin; cl++) { \
        const int xc = (c0 + cl) * H * W; \
        const int wc = (oc * cin + cl) * KH * KW; \
        for (int i = 0; i < KH; i++) { \
            const int ih = oh * SH - PH + i * DH; \
            if (ih < 0 || ih >= H) { \
                continue; \
            } \
            for (int j = 0; j < KW; j++) { \
                const int iw = ow * SW - PW + j * DW; \
                if (iw < 0 || iw >= W) { \
                    continue; \
                } \
                const int xe = xc + ih * W + iw; \
                const int wk = wc + i * KW + j; \
                BODY \
            } \
        } \
    }

/*
 * The backward chain of input (ci, ih, iw) (after CONV_INPUT_ITEM): over (oc in ci's group, kh, kw) ascending, the
 * taps whose oh = (ih + PH - kh DH) / SH is an exact integer in [0, OH) (ow likewise). BODY sees go, the output
 * element within the sample (oc OH OW + oh OW + ow), and wk, the weight index ((oc cin + cl) KH KW + kh KW + kw).
 */
#define CONV_BACK_WALK(BODY) \
    for (int oc = grp * cout; oc < (grp + 1) * cout; oc++) { \
        const int gc = oc * OH * OW; \
        const int wc = (oc * cin + cl) * KH * KW; \
        for (int i = 0; i < KH; i++) { \
            const int th = ih + PH - i * DH; \
            if (th < 0 || th % SH != 0 || th / SH >= OH) { \
                continue; \
            } \
            const int gr = gc + th / SH * OW; \
            for (int j = 0; j < KW; j++) { \
                const int tw = iw + PW - j * DW; \
                if (tw < 0 || tw % SW != 0 || tw / SW >= OW) { \
                    continue; \
                } \
                const int go = gr + tw / SW; \
                const int wk = wc + i * KW + j; \
                BODY \
            } \
        } \
    }

#endif /* CONV_WALK_H */
