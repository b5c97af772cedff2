/*
 * normalize.cl: relevance over stabilized denominators (normalize, normalizeSigned).
 *
 * Math, per element k = b*N + j of a [B,N] array (stab and safe_div from lrp_common.h):
 *   normalize_relevance: g[k] = safe_div(r[k], stab(d[b*d_stride + j], eps))
 *                        (d_stride = N, or 0 for one denominator row shared by the batch)
 *   normalize_signed:    gp = safe_div(r, stab(p, eps)); hp = gamma_mask ? (z > 0 ? gp : 0) : scale_p * gp;
 *                        when has_n: gn = safe_div(r, stab(n, eps)); hn = gamma_mask ? (z < 0 ? gn : 0) : scale_n * gn
 *                        (z is read only when gamma_mask)
 * (The first kernel is not called "normalize": that is an OpenCL C built-in.)
 * Layout: row-major [B,N]; one work-item per element, global size rounded up to the host's fixed local size.
 * Division is IEEE, correctly rounded: the program is built with -cl-fp32-correctly-rounded-divide-sqrt.
 * Tuning parameters: none (memory-bound).
 */
#pragma OPENCL FP_CONTRACT OFF

#include "lrp_common.h"

__kernel void normalize_relevance(__global const float* restrict r, __global const float* restrict d,
                                  const int d_stride, const float eps, __global float* restrict g, const int rows,
                                  const int N)
{
    const int k = get_global_id(0);
    if (k >= rows * N) {
        return;
    }
    int dk = k; /* d_stride == N, the usual case: no integer division (CPU devices cannot vectorize one) */
    if (d_stride != N) {
        const int b = k / N;
        dk = b * d_stride + (k - b * N);
    }
    g[k] = lrp_safe_div(r[k], lrp_stab(d[dk], eps));
}

__kernel void normalize_signed(__global const float* restrict r, __global const float* restrict z,
                               __global const float* restrict p, __global const float* restrict n, const int has_n,
                               const float eps, const float scale_p, const float scale_n, const int gamma_mask,
                               __global float* restrict hp, __global float* restrict hn, const int length)
{
    const int k = get_global_id(0);
    if (k >= length) {
        return;
    }
    const float rk = r[k];
    const float gp = lrp_safe_div(rk, lrp_stab(p[k], eps));
    if (gamma_mask) {
        const float zk = z[k];
        hp[k] = zk > 0.0f ? gp : 0.0f;
        if (has_n) {
            const float gn = lrp_safe_div(rk, lrp_stab(n[k], eps));
            hn[k] = zk < 0.0f ? gn : 0.0f;
        }
    } else {
        hp[k] = scale_p * gp;
        if (has_n) {
            const float gn = lrp_safe_div(rk, lrp_stab(n[k], eps));
            hn[k] = scale_n * gn;
        }
    }
}
