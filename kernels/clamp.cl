/*
 * clamp.cl: elementwise clamps (relu, splitSign, gammaWeights).
 *
 * Math, per element k < length:
 *   relu:          out[k] = in[k] > 0 ? in[k] : 0
 *   split_sign:    pos[k] = w[k] > 0 ? w[k] : 0;  neg[k] = w[k] < 0 ? w[k] : 0
 *   gamma_weights: wp[k] = w > 0 ? fma(gamma, w, w) : w;  wn[k] = w < 0 ? fma(gamma, w, w) : w
 * Layout: flat arrays of `length` floats; one work-item per element, global size rounded up to the host's fixed
 * local size (out-of-range work-items return). Clamps are comparisons, never fmax/fmin (NaN, -0.0).
 * Tuning parameters: none (memory-bound).
 */
#pragma OPENCL FP_CONTRACT OFF

#include "lrp_common.h"

__kernel void relu(__global const float* restrict in, __global float* restrict out, const int length)
{
    const int k = get_global_id(0);
    if (k >= length) {
        return;
    }
    const float v = in[k];
    out[k] = v > 0.0f ? v : 0.0f;
}

__kernel void split_sign(__global const float* restrict w, __global float* restrict pos,
                         __global float* restrict neg, const int length)
{
    const int k = get_global_id(0);
    if (k >= length) {
        return;
    }
    const float v = w[k];
    pos[k] = v > 0.0f ? v : 0.0f;
    neg[k] = v < 0.0f ? v : 0.0f;
}

__kernel void gamma_weights(__global const float* restrict w, const float gamma, __global float* restrict wp,
                            __global float* restrict wn, const int length)
{
    const int k = get_global_id(0);
    if (k >= length) {
        return;
    }
    const float v = w[k];
    const float m = fma(gamma, v, v);
    wp[k] = v > 0.0f ? m : v;
    wn[k] = v < 0.0f ? m : v;
}
