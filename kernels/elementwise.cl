/*
 * elementwise.cl: the element-wise tensor helpers of residual and concatenating networks (add, mul, copyRows).
 *
 * Math, per element (each op one rounded IEEE operation, nothing fused):
 *   add_elements: out[k] = a[k] + b[k]            (k < n)
 *   mul_elements: out[k] = a[k] * b[k]            (k < n)
 *   copy_rows:    dst[b * dst_width + dst_off + k] = src[b * src_width + src_off + k]   (k < width, b < rows)
 * Layout: flat arrays (add, mul); row-major [rows, *_width] (copy_rows).
 * Work: one work-item per element; global (n) or (width, rows) rounded up to the host's fixed local size.
 * Tuning parameters: none (memory-bound).
 */
#pragma OPENCL FP_CONTRACT OFF

#include "lrp_common.h"

__kernel void add_elements(__global const float* restrict a, __global const float* restrict b,
                           __global float* restrict out, const int n)
{
    const int k = get_global_id(0);
    if (k < n) {
        out[k] = a[k] + b[k];
    }
}

__kernel void mul_elements(__global const float* restrict a, __global const float* restrict b,
                           __global float* restrict out, const int n)
{
    const int k = get_global_id(0);
    if (k < n) {
        out[k] = a[k] * b[k];
    }
}

__kernel void copy_rows(__global const float* restrict src, const int src_width, const int src_off,
                        __global float* restrict dst, const int dst_width, const int dst_off, const int width,
                        const int rows)
{
    const int k = get_global_id(0);
    const int b = get_global_id(1);
    if (k < width && b < rows) {
        dst[b * dst_width + dst_off + k] = src[b * src_width + src_off + k];
    }
}
