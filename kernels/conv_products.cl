/*
 * conv_products.cl: the plain forward map and the plain backprojection of stride-1 convolutions whose planes keep
 * their size, as products with pixels in lanes, for CPU devices (conv.variant=vector); the same bits as the reference
 * kernels of conv_simple.cl, whose header states the math (docs/DESIGN.md section 3).
 *
 * A work-item computes CONV_MM_ROWS rows (output channels forward, input channels backward, of one group) x
 * CONV_MM_VECS float16 vectors of consecutive pixels of one sample's plane, as c[row, p] = chain_k A[row, k] X[k, p]:
 * k runs over the contract's order ((in-channel, kh, kw) forward, (out-channel, kh, kw) backward), A is the weights
 * arranged by conv_panels (the rows' weights of one tap contiguous), and X[k, p] is the source plane's pixel p + d(k):
 * where the plane keeps its size and the stride is 1, a tap is a constant offset d within the plane, so a tap's 16
 * pixels are one vector load. A lane whose tap falls outside the plane keeps its chain as it is (a lane select on the
 * accumulator, so the tap is skipped, as the contract asks, never multiplied by zero): each lane carries a word with
 * one bit per tap that is inside (kernels of at most 32 taps; the host's table per geometry). Tiles whose every
 * pixel has every tap inside run without the selects. Loads that would leave the source buffer (the first and last
 * rows of the batch) read their lanes one by one, clamped into it; what a masked lane loads is never used.
 * Tuning parameters (#ifndef defaults below, overridden by the host's #defines): CONV_MM_ROWS 12, CONV_MM_VECS 2.
 */
#pragma OPENCL FP_CONTRACT OFF

#include "lrp_common.h"
#include "conv_walk.h"

#ifndef CONV_MM_ROWS
#define CONV_MM_ROWS 12
#endif
#ifndef CONV_MM_VECS
#define CONV_MM_VECS 2
#endif
#define CONV_MM_PIX (16 * CONV_MM_VECS)

/*
 * a[off + ...] = w arranged as row panels: [G][ceil(rows / CONV_MM_ROWS)][inner * KH * KW][CONV_MM_ROWS], rows the
 * output channels forward (back == 0), the input channels backward (back == 1), inner the other channels of the
 * group; rows past the group's are 0. One work-item per element.
 */
__kernel void conv_panels(__global const float* restrict w, __global float* restrict a, const int off,
                          const int back, const int OC, const int cin, const int KK, const int G)
{
    const int cout = OC / G;
    const int rows = back ? cin : cout;
    const int K = (back ? cout : cin) * KK;
    const int nrb = (rows + CONV_MM_ROWS - 1) / CONV_MM_ROWS;
    const int e = get_global_id(0);
    if (e >= G * nrb * K * CONV_MM_ROWS) {
        return;
    }
    const int r = e % CONV_MM_ROWS;
    int rest = e / CONV_MM_ROWS;
    const int k = rest % K;
    rest /= K;
    const int row = rest % nrb * CONV_MM_ROWS + r;
    const int grp = rest / nrb;
    float v = 0.0f;
    if (row < rows) {
        const int ch = k / KK;
        const int oc = back ? ch : row;
        const int c = back ? row : ch;
        v = w[((grp * cout + oc) * cin + c) * KK + k % KK];
    }
    a[off + e] = v;
}

/*
 * The chains of one tile: src is the sample's first source plane of the group (inner planes of HW pixels), ap the
 * tile's row panel. Tap (i, j) reads pixel p + off0 + i * ti + j * tj. mode 0: every tap of every pixel inside, plain
 * loads; 1: lanes selected by their tap bits; 2: as 1, each lane loaded on its own at an index clamped to
 * [0, len) of the buffer base (src - base elements in).
 */
LRP_INLINE void conv_mm_chains(const __global float* restrict base, const int src, const int len,
                               const __global float* restrict ap, float16* acc, const int16* bits, const int p0,
                               const int inner, const int KH, const int KW, const int HW, const int off0,
                               const int ti, const int tj, const int mode)
{
    for (int a = 0; a < inner; a++) {
        const int s = src + a * HW + p0;
        const __global float* wa = ap + a * (KH * KW) * CONV_MM_ROWS;
        int t = 0;
        for (int i = 0; i < KH; i++) {
            for (int j = 0; j < KW; j++) {
                const int at = s + off0 + i * ti + j * tj;
                float16 xv[CONV_MM_VECS];
                int16 m[CONV_MM_VECS];
                #pragma unroll
                for (int v = 0; v < CONV_MM_VECS; v++) {
                    if (mode == 2) {
                        float lanes[16];
                        for (int l = 0; l < 16; l++) {
                            lanes[l] = base[clamp(at + 16 * v + l, 0, len - 1)];
                        }
                        xv[v] = vload16(0, lanes);
                    } else {
                        xv[v] = vload16(0, base + at + 16 * v);
                    }
                    if (mode != 0) {
                        /* tap t's bit in the sign: select() reads the sign, which lets the compiler merge the
                           select into the fused multiply-add (a compare with zero did not: three instructions) */
                        m[v] = bits[v] << (31 - t);
                    }
                }
                const __global float* wk = wa + t * CONV_MM_ROWS;
                #pragma unroll
                for (int r = 0; r < CONV_MM_ROWS; r++) {
                    const float16 wv = (float16)(wk[r]);
                    #pragma unroll
                    for (int v = 0; v < CONV_MM_VECS; v++) {
                        const int q = r * CONV_MM_VECS + v;
                        const float16 f = fma(xv[v], wv, acc[q]);
                        acc[q] = mode == 0 ? f : select(acc[q], f, m[v]);
                    }
                }
                t++;
            }
        }
    }
}

/*
 * The tile setup of both kernels: the row block (global 0), the pixel tile (global 1) and the sample (global 2); the
 * tile's tap bits (bits[v], lane l: tb[p0 + 16 v + l], whose bit t is set where that pixel has tap t inside the
 * plane; the host's table, 0 past the plane), its mode (conv_mm_chains) and its chains, run over the inner planes of
 * src. Tap (i, j) is at a row shift of sr0 + i * sri and a column shift of sc0 + j * scj.
 */
#define CONV_MM_TILE(ROWS, INNER, SRC_PLANES, SR0, SRI, SC0, SCJ, BASE, SRC) \
    const int HW = H * W; \
    const int rb = get_global_id(0); \
    const int p0 = get_global_id(1) * CONV_MM_PIX; \
    const int b = get_global_id(2); \
    const int cin = C / G; \
    const int cout = OC / G; \
    const int nrb = ((ROWS) + CONV_MM_ROWS - 1) / CONV_MM_ROWS; \
    if (rb >= G * nrb || p0 >= HW || b >= rows) { \
        return; \
    } \
    const int grp = rb / nrb; \
    const int row0 = rb % nrb * CONV_MM_ROWS; \
    const int nr = min(CONV_MM_ROWS, (ROWS) - row0); \
    const int np = min(CONV_MM_PIX, HW - p0); \
    const int16 lane = (int16)(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15); \
    const int full = (int)(0xffffffffu >> (32 - KH * KW)); \
    int16 bits[CONV_MM_VECS]; \
    int inside = 1; \
    _Pragma("unroll") \
    for (int v = 0; v < CONV_MM_VECS; v++) { \
        bits[v] = vload16(0, tb + p0 + 16 * v); \
        inside &= all(bits[v] == (int16)(full) | lane >= (int16)(np - 16 * v)); \
    } \
    const int ti = (SRI) * W; \
    const int tj = (SCJ); \
    const int off0 = (SR0) * W + (SC0); \
    const int dlo = off0 + min(0, (KH - 1) * ti) + min(0, (KW - 1) * tj); \
    const int dhi = off0 + max(0, (KH - 1) * ti) + max(0, (KW - 1) * tj); \
    const int src = (b * (SRC_PLANES) + grp * (INNER)) * HW; \
    const int len = rows * (SRC_PLANES) * HW; \
    const int safe = src + p0 + dlo >= 0 && src + ((INNER) - 1) * HW + p0 + CONV_MM_PIX - 1 + dhi < len; \
    const __global float* ap = (BASE) + rb * ((INNER) * KH * KW * CONV_MM_ROWS); \
    float16 acc[CONV_MM_ROWS * CONV_MM_VECS]; \
    _Pragma("unroll") \
    for (int q = 0; q < CONV_MM_ROWS * CONV_MM_VECS; q++) { \
        acc[q] = (float16)(0.0f); \
    } \
    if (!safe) { \
        conv_mm_chains(SRC, src, len, ap, acc, bits, p0, INNER, KH, KW, HW, off0, ti, tj, 2); \
    } else if (inside) { \
        conv_mm_chains(SRC, src, len, ap, acc, bits, p0, INNER, KH, KW, HW, off0, ti, tj, 0); \
    } else { \
        conv_mm_chains(SRC, src, len, ap, acc, bits, p0, INNER, KH, KW, HW, off0, ti, tj, 1); \
    }

/*
 * z = the chain + bias (its own rounded add), for outputs of stride-1 layers whose planes keep their size (OH = H,
 * OW = W); at (global) the row blocks of every group, the pixel tiles, the samples; a: conv_panels(back = 0).
 */
__kernel void conv_fwd_mm(__global const float* restrict x, __global const float* restrict a,
                          __global const float* restrict bias, const int has_bias, __global float* restrict z,
                          const int rows, CONV_GEOMETRY, __global const int* restrict tb)
{
    CONV_MM_TILE(cout, cin, C, -PH, DH, -PW, DW, a, x);
    const int oc0 = grp * cout + row0;
    for (int r = 0; r < nr; r++) {
        const float bv = has_bias ? bias[oc0 + r] : 0.0f;
        __global float* zr = z + (b * OC + oc0 + r) * HW + p0;
        #pragma unroll
        for (int v = 0; v < CONV_MM_VECS; v++) {
            const float16 o = has_bias ? acc[r * CONV_MM_VECS + v] + (float16)(bv) : acc[r * CONV_MM_VECS + v];
            if (16 * v + 16 <= np) {
                vstore16(o, v, zr);
            } else {
                float t[16];
                vstore16(o, 0, t);
                for (int l = 0; 16 * v + l < np; l++) {
                    zr[16 * v + l] = t[l];
                }
            }
        }
    }
}

/*
 * r = x * the chain (has_x), else the chain, for inputs of stride-1 layers whose planes keep their size; at (global)
 * the row blocks of every group, the pixel tiles, the samples; a: conv_panels(back = 1); tb as conv_fwd_mm's.
 */
__kernel void conv_back_mm(__global const float* restrict g, __global const float* restrict a,
                           __global const float* restrict x, const int has_x, __global float* restrict r,
                           const int rows, CONV_GEOMETRY, __global const int* restrict tb)
{
    CONV_MM_TILE(cin, cout, OC, PH, -DH, PW, -DW, a, g);
    const int ci0 = grp * cin + row0;
    for (int q = 0; q < nr; q++) {
        const int e = (b * C + ci0 + q) * HW + p0;
        #pragma unroll
        for (int v = 0; v < CONV_MM_VECS; v++) {
            const float16 c = acc[q * CONV_MM_VECS + v];
            if (16 * v + 16 <= np) {
                vstore16(has_x ? vload16(v, x + e) * c : c, v, r + e);
            } else {
                float t[16];
                vstore16(c, 0, t);
                for (int l = 0; 16 * v + l < np; l++) {
                    r[e + 16 * v + l] = has_x ? x[e + 16 * v + l] * t[l] : t[l];
                }
            }
        }
    }
}
