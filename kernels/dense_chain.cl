/*
 * dense_chain.cl: a narrow chain of dense layers (ReLUs between them), explained with the epsilon rule, one kernel for
 * the forward pass and one for the relevance pass (chain_forward, chain_backward). Each row's values stay in
 * registers and private memory from the input to the top, so a pass reads the input and writes one array, where the
 * per-layer primitives send every layer's values and signals through memory (docs/DESIGN.md section 4.4).
 *
 * Math: exactly the per-layer primitives' chains, so the same bits (lrp_common.h). Layer l (0 <= l < L) has in_l
 * inputs, out_l outputs, weights w_l[out_l, in_l] (PyTorch's layout), bias b_l[out_l], stabilizer eps_l and a ReLU
 * after it or not; a_0 = x, and per row:
 *   forward:  z_l[j] = chain_i fma(a_l[i], w_l[j,i]) from +0.0f, i ascending, then + b_l[j] (its own add);
 *             a_{l+1}[j] = relu_l ? (z_l[j] > 0 ? z_l[j] : 0) : z_l[j]
 *   chain_forward writes z_{L-1} (the chain's top);
 *   backward: R_{L-1} = r_top; for l = L-1 .. 0: g[j] = safe_div(R_l[j], stab(z_l[j], eps_l));
 *             R_{l-1}[i] = a_l[i] * chain_j fma(w_l[j,i], g[j]) from +0.0f, j ascending
 *             (a ReLU passes relevance unchanged); chain_backward computes the forward values again (the same chains)
 *             and writes R_{-1}, the relevance at the input.
 * params: the description, 4 ints a layer stored as float bit patterns (in_l, out_l, the offset of w_l in params,
 * then 1 when a ReLU follows), then eps_l for every layer, then each layer's w_l, its transpose wt_l[in_l, out_l]
 * (the forward chains read it) and b_l. At most CHAIN_MAX_W features a layer and CHAIN_MAX_Z values a row over
 * all layers' outputs (the host checks both).
 * Layout: x[B, in_0], z_top and r_top [B, out_{L-1}], r_in [B, in_0], row-major. One work-item takes CHAIN_LANES
 * consecutive rows, one per lane (lanes past the last row read the last row again and write nothing); global
 * ceil(B / CHAIN_LANES) rounded up to the local size.
 * Tuning parameters: CHAIN_LANES, 16 (float16: CPU devices) or 1 (one row a work-item: GPUs), from the variant.
 */
#pragma OPENCL FP_CONTRACT OFF

#include "lrp_common.h"

#ifndef CHAIN_LANES
#define CHAIN_LANES 16
#endif
#define CHAIN_MAX_W 64
#define CHAIN_MAX_Z 256

#if CHAIN_LANES == 16
typedef float16 lanes_t;
#define CHAIN_LOAD(p) vload16(0, p)
#define CHAIN_STORE(v, p) vstore16(v, 0, p)
#elif CHAIN_LANES == 1
typedef float lanes_t;
#define CHAIN_LOAD(p) ((p)[0])
#define CHAIN_STORE(v, p) ((p)[0] = (v))
#else
#error "CHAIN_LANES must be 16 or 1"
#endif

/* The contract's helpers on lanes: select() keeps each lane's own comparison (v > 0 is false for NaN and -0.0). */
LRP_INLINE lanes_t chain_relu(lanes_t v) {
    return select((lanes_t)(0.0f), v, v > (lanes_t)(0.0f));
}

LRP_INLINE lanes_t chain_signal(lanes_t r, lanes_t d, float eps) {
    const lanes_t s = d + select((lanes_t)(-eps), (lanes_t)(eps), d >= (lanes_t)(0.0f));
    return select(r / s, (lanes_t)(0.0f), s == (lanes_t)(0.0f));
}

/* Column col of rows r0 .. r0 + CHAIN_LANES - 1 of m[rows, width], one row a lane. */
LRP_INLINE lanes_t chain_gather(__global const float* restrict m, const int r0, const int rows, const int width,
                                const int col) {
    float t[CHAIN_LANES];
    for (int q = 0; q < CHAIN_LANES; q++) {
        t[q] = m[min(r0 + q, rows - 1) * width + col];
    }
    return CHAIN_LOAD(t);
}

LRP_INLINE void chain_scatter(lanes_t v, __global float* restrict m, const int r0, const int rows, const int width,
                              const int col) {
    float t[CHAIN_LANES];
    CHAIN_STORE(v, t);
    for (int q = 0; q < CHAIN_LANES && r0 + q < rows; q++) {
        m[(r0 + q) * width + col] = t[q];
    }
}

/* Field k of layer l's description (a bit pattern: no arithmetic touches it as a float). */
#define CHAIN_DESC(l, k) as_int(params[4 * (l) + (k)])

/* Layer l's inputs a_l into act: the chain's input, or the layer below's z through its ReLU where one follows. */
LRP_INLINE void chain_inputs(lanes_t* act, const lanes_t* a0, const lanes_t* z, __global const float* restrict params,
                             const int l, const int zin) {
    const int in = CHAIN_DESC(l, 0);
    if (l == 0) {
        for (int i = 0; i < in; i++) {
            act[i] = a0[i];
        }
    } else if (CHAIN_DESC(l - 1, 3)) {
        for (int i = 0; i < in; i++) {
            act[i] = chain_relu(z[zin + i]);
        }
    } else {
        for (int i = 0; i < in; i++) {
            act[i] = z[zin + i];
        }
    }
}

/*
 * A layer's forward chains for outputs j0, j0 + B, ... while B of them fit (B independent chains a trip: with B a
 * literal, the accumulators are registers); returns the first output left. zl is the layer's part of z.
 */
LRP_INLINE int chain_forward_block(const lanes_t* act, __global const float* restrict wt,
                                   __global const float* restrict b, lanes_t* zl, const int in, const int out,
                                   int j, const int B) {
    for (; j + B <= out; j += B) {
        lanes_t c[8];
        _Pragma("unroll") for (int q = 0; q < B; q++) {
            c[q] = (lanes_t)(0.0f);
        }
        for (int i = 0; i < in; i++) {
            const lanes_t ai = act[i];
            _Pragma("unroll") for (int q = 0; q < B; q++) {
                c[q] = fma(ai, (lanes_t)(wt[i * out + j + q]), c[q]);
            }
        }
        _Pragma("unroll") for (int q = 0; q < B; q++) {
            zl[j + q] = c[q] + (lanes_t)(b[j + q]);
        }
    }
    return j;
}

/*
 * A layer's backprojection for inputs i0, i0 + B, ... while B of them fit, as chain_forward_block: r[i] = act[i] *
 * chain_j fma(w[j,i], g[j]); returns the first input left.
 */
LRP_INLINE int chain_backward_block(const lanes_t* act, __global const float* restrict w, const lanes_t* g,
                                    lanes_t* r, const int in, const int out, int i, const int B) {
    for (; i + B <= in; i += B) {
        lanes_t c[8];
        _Pragma("unroll") for (int q = 0; q < B; q++) {
            c[q] = (lanes_t)(0.0f);
        }
        for (int j = 0; j < out; j++) {
            const lanes_t gj = g[j];
            _Pragma("unroll") for (int q = 0; q < B; q++) {
                c[q] = fma((lanes_t)(w[j * in + i + q]), gj, c[q]);
            }
        }
        _Pragma("unroll") for (int q = 0; q < B; q++) {
            r[i + q] = act[i + q] * c[q];
        }
    }
    return i;
}

/*
 * Every layer's forward chains for one work-item's rows: z holds each layer's outputs one after the other (layer l
 * at zoff_l = out_0 + ... + out_{l-1}); outputs in blocks of 8, 4, 2 and 1 independent chains.
 */
LRP_INLINE void chain_run_forward(const lanes_t* a0, lanes_t* act, lanes_t* z, __global const float* restrict params,
                                  const int layers) {
    int zin = 0;
    int zoff = 0;
    for (int l = 0; l < layers; l++) {
        const int in = CHAIN_DESC(l, 0);
        const int out = CHAIN_DESC(l, 1);
        const __global float* wt = params + CHAIN_DESC(l, 2) + out * in;
        const __global float* b = wt + out * in;
        chain_inputs(act, a0, z, params, l, zin);
        int j = chain_forward_block(act, wt, b, z + zoff, in, out, 0, 8);
        j = chain_forward_block(act, wt, b, z + zoff, in, out, j, 4);
        j = chain_forward_block(act, wt, b, z + zoff, in, out, j, 2);
        chain_forward_block(act, wt, b, z + zoff, in, out, j, 1);
        zin = zoff;
        zoff += out;
    }
}

/* Columns 0 .. width - 1 of a work-item's rows of m, one vector a column. */
LRP_INLINE void chain_load_rows(lanes_t* a, __global const float* restrict m, const int r0, const int rows,
                                const int width) {
    for (int col = 0; col < width; col++) {
        a[col] = chain_gather(m, r0, rows, width, col);
    }
}

/* Where the top layer's outputs start in z. */
LRP_INLINE int chain_top(__global const float* restrict params, const int layers) {
    int top = 0;
    for (int l = 0; l + 1 < layers; l++) {
        top += CHAIN_DESC(l, 1);
    }
    return top;
}

__kernel void chain_forward(__global const float* restrict x, __global const float* restrict params,
                            const int layers, __global float* restrict z_top, const int rows)
{
    const int r0 = get_global_id(0) * CHAIN_LANES;
    if (r0 >= rows) {
        return;
    }
    lanes_t a0[CHAIN_MAX_W];
    lanes_t act[CHAIN_MAX_W];
    lanes_t z[CHAIN_MAX_Z];
    chain_load_rows(a0, x, r0, rows, CHAIN_DESC(0, 0));
    chain_run_forward(a0, act, z, params, layers);
    const int top = chain_top(params, layers);
    const int outTop = CHAIN_DESC(layers - 1, 1);
    for (int j = 0; j < outTop; j++) {
        chain_scatter(z[top + j], z_top, r0, rows, outTop, j);
    }
}

__kernel void chain_backward(__global const float* restrict x, __global const float* restrict params,
                             const int layers, __global const float* restrict r_top, __global float* restrict r_in,
                             const int rows)
{
    const int r0 = get_global_id(0) * CHAIN_LANES;
    if (r0 >= rows) {
        return;
    }
    lanes_t a0[CHAIN_MAX_W];
    lanes_t act[CHAIN_MAX_W];
    lanes_t z[CHAIN_MAX_Z];
    lanes_t r[CHAIN_MAX_W];
    lanes_t g[CHAIN_MAX_W];
    const int in0 = CHAIN_DESC(0, 0);
    chain_load_rows(a0, x, r0, rows, in0);
    chain_run_forward(a0, act, z, params, layers);
    int zoff = chain_top(params, layers);
    chain_load_rows(r, r_top, r0, rows, CHAIN_DESC(layers - 1, 1));
    for (int l = layers - 1; l >= 0; l--) {
        const int in = CHAIN_DESC(l, 0);
        const int out = CHAIN_DESC(l, 1);
        const __global float* w = params + CHAIN_DESC(l, 2);
        const float e = params[4 * layers + l];
        for (int j = 0; j < out; j++) {
            g[j] = chain_signal(r[j], z[zoff + j], e);
        }
        const int zin = l == 0 ? 0 : zoff - CHAIN_DESC(l - 1, 1);
        chain_inputs(act, a0, z, params, l, zin);
        int i = chain_backward_block(act, w, g, r, in, out, 0, 8);
        i = chain_backward_block(act, w, g, r, in, out, i, 4);
        i = chain_backward_block(act, w, g, r, in, out, i, 2);
        chain_backward_block(act, w, g, r, in, out, i, 1);
        zoff = zin;
    }
    for (int i = 0; i < in0; i++) {
        chain_scatter(r[i], r_in, r0, rows, in0, i);
    }
}
