/*
 * dense_vec.h: the float16 register tiles of the dense kernels for CPU devices (variant=vector), one walk shared
 * by the forward chains (matmul.cl: columns the outputs N) and the backprojection (backproject.cl: columns the
 * inputs K).
 *
 * A work-item computes VEC_ROWS batch rows by 16*colv columns in float16 registers, where colv is VEC_COLV for
 * one-chain kernels, VEC_COLV2 for two chains per output (linear_signed, backproject_signed) and VEC_COLV3 for three
 * (backproject_zbox), so each tile fits the 32 AVX-512 registers. Global (ceil(cols / (16*colv)),
 * ceil(B / VEC_ROWS)) rounded up to the local size. Each kernel family has two helpers with the same leading
 * arguments (its buffers and sizes):
 *   NAME_v16(..., b0, nr, c0, nv, skip)  nr rows from b0 by nv float16 column blocks from c0, storing each block
 *                                        without its first `skip` lanes (lrp_store16)
 *   NAME_c1(..., b0, nr, c)              nr rows from b0 of the single column c
 * nr and nv are literals at every call site (VEC_ITEM's), so once inlined the tiles are registers. The last rows of
 * the batch (fewer than VEC_ROWS) go one at a time (nr = 1); the last columns go in float16 blocks, the final
 * partial one shifted left to end at the last column and storing only its new lanes (singly where there are fewer
 * than 16 columns). Every output keeps its own ascending chain whatever path computes it.
 * Tuning parameters (#ifndef defaults below, overridden by the host's #defines): VEC_ROWS 8, VEC_COLV 2,
 * VEC_COLV2 1, VEC_COLV3 1.
 */
#pragma OPENCL FP_CONTRACT OFF

#ifndef DENSE_VEC_H
#define DENSE_VEC_H

#include "lrp_common.h"

#ifndef VEC_ROWS
#define VEC_ROWS 8
#endif
#ifndef VEC_COLV
#define VEC_COLV 2
#endif
#ifndef VEC_COLV2
#define VEC_COLV2 1
#endif
#ifndef VEC_COLV3
#define VEC_COLV3 1
#endif
#define LRP_MAX(a, b) ((a) > (b) ? (a) : (b))
#define VEC_COLV_MAX LRP_MAX(VEC_COLV, LRP_MAX(VEC_COLV2, VEC_COLV3))

/*
 * vstore16(v, c, p) without the first `skip` lanes: a column tail of 16 or more columns is computed as one float16
 * block shifted left to end at the last column, and only the lanes not stored by another block are written. A
 * negative skip stores only the first 16 + skip lanes: a narrow block (fewer than 16 columns in all, VEC_ITEM_N).
 */
LRP_INLINE void lrp_store16(const float16 v, const int c, __global float* p, const int skip)
{
    if (skip == 0) {
        vstore16(v, c, p);
        return;
    }
    float t[16];
    vstore16(v, 0, t);
    for (int l = max(skip, 0); l < min(16, 16 + skip); l++) {
        p[16 * c + l] = t[l];
    }
}

/*
 * vload16(c, p), or for a narrow block (skip < 0: only lanes [0, 16 + skip) exist) those lanes and zeros: a narrow
 * block's row ends inside the float16, and the last row's end may be the buffer's.
 */
LRP_INLINE float16 lrp_load16(const int c, const __global float* p, const int skip)
{
    if (skip >= 0) {
        return vload16(c, p);
    }
    float t[16];
    for (int l = 0; l < 16; l++) {
        t[l] = l < 16 + skip ? p[16 * c + l] : 0.0f;
    }
    return vload16(0, t);
}

/*
 * Column strips (the plain one-chain kernels, linear_vec and backproject_vec): a weight matrix m [P, Q] whose column
 * walk strides Q floats a chain step (4 KiB at Q = 1024, so every step of a work-item's walk lands in the same few
 * L1 sets) may also be passed prepared as strips of VEC_STRIP columns, strip s ([P, VEC_STRIP], contiguous) at
 * s * VEC_STRIP * P (dense_strips in matmul.cl, once per prepared weight buffer). A whole block of VEC_COLV float16s
 * starting on a strip's first column walks its strip, VEC_STRIP floats a step; the columns after the last whole
 * strip, and calls without strips, walk m. A matrix of fewer than 16 columns is prepared as one [P, 16] strip padded
 * with zeros, walked by one narrow float16 block (VEC_ITEM_N) instead of a column at a time; the padding lanes
 * compute values nobody stores. The same values in the same order either way.
 */
#define VEC_STRIP (16 * VEC_COLV)

/* The start of column c0's walk and its step: in the strips where they hold a whole block from c0, else in m. */
#define VEC_WALK(PTR, STEP, M, STRIPS, HAS_STRIPS, P, Q, C0, NV) \
    const bool PTR##_in_strips = (HAS_STRIPS) && ((Q) < 16 \
            || ((NV) == VEC_COLV && (C0) % VEC_STRIP == 0 && (C0) + VEC_STRIP <= (Q))); \
    const int STEP = !PTR##_in_strips ? (Q) : (Q) < 16 ? 16 : VEC_STRIP; \
    const __global float* PTR = PTR##_in_strips ? (STRIPS) + (C0) * (P) : (M) + (C0);

/*
 * Declares the register tile NAME[VEC_ROWS][VEC_COLV_MAX] of a NAME_v16 helper and zeroes its nr x nv float16s
 * (the chains' +0.0f starts).
 */
#define VEC_TILE(NAME) \
    float16 NAME[VEC_ROWS][VEC_COLV_MAX]; \
    _Pragma("unroll") \
    for (int vec_r = 0; vec_r < nr; vec_r++) { \
        _Pragma("unroll") \
        for (int vec_c = 0; vec_c < nv; vec_c++) { \
            NAME[vec_r][vec_c] = (float16)(0.0f); \
        } \
    }

/*
 * The columns [C0, C0 + 16*COLV) of a work-item (clipped to COLS) for the rows its leading arguments name
 * (..., b0, nr): whole blocks, then the shifted tail block, or where COLS < 16 one narrow block (NARROW: the
 * helper's weights are a zero-padded [P, 16] strip) or single columns.
 */
#define VEC_COLUMNS(V16, C1, COLS, C0, COLV, NARROW, ...) \
    if ((C0) + 16 * (COLV) <= (COLS)) { \
        V16(__VA_ARGS__, C0, COLV, 0); \
    } else { \
        int vec_c = (C0); \
        for (; vec_c + 16 <= (COLS); vec_c += 16) { \
            V16(__VA_ARGS__, vec_c, 1, 0); \
        } \
        if (vec_c < (COLS) && (COLS) >= 16) { \
            V16(__VA_ARGS__, (COLS) - 16, 1, vec_c - ((COLS) - 16)); \
        } else if (vec_c < (COLS) && (NARROW)) { \
            V16(__VA_ARGS__, 0, 1, (COLS) - 16); \
        } else { \
            for (; vec_c < (COLS); vec_c++) { \
                C1(__VA_ARGS__, vec_c); \
            } \
        } \
    }

/*
 * The body of a *_vec kernel: this work-item's VEC_ROWS rows of ROWS by 16*COLV columns of COLS, through the
 * helpers V16 and C1 called with the leading arguments given as `...`; returns past the end. VEC_ITEM_N also takes
 * NARROW: whether fewer than 16 columns go as one narrow block (see VEC_COLUMNS).
 */
#define VEC_ITEM_N(V16, C1, ROWS, COLS, COLV, NARROW, ...) \
    const int vec_c0 = get_global_id(0) * (16 * (COLV)); \
    const int vec_b0 = get_global_id(1) * VEC_ROWS; \
    if (vec_c0 >= (COLS) || vec_b0 >= (ROWS)) { \
        return; \
    } \
    if (vec_b0 + VEC_ROWS <= (ROWS)) { \
        VEC_COLUMNS(V16, C1, COLS, vec_c0, COLV, NARROW, __VA_ARGS__, vec_b0, VEC_ROWS) \
    } else { \
        for (int vec_b = vec_b0; vec_b < (ROWS); vec_b++) { \
            VEC_COLUMNS(V16, C1, COLS, vec_c0, COLV, NARROW, __VA_ARGS__, vec_b, 1) \
        } \
    }

#define VEC_ITEM(V16, C1, ROWS, COLS, COLV, ...) VEC_ITEM_N(V16, C1, ROWS, COLS, COLV, 0, __VA_ARGS__)

#endif /* DENSE_VEC_H */
