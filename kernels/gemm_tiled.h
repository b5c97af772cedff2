/*
 * gemm_tiled.h: the tiled GEMM of the dense kernels for GPUs (variant=tiled), one walk shared by the forward chains
 * (matmul.cl: rows x[B,K], chain over the inputs K, columns the outputs N of wt[K,N]) and the backprojection
 * (backproject.cl: rows g[B,N], chain over the outputs N, columns the inputs K of w[N,K]): the same GEMM with the
 * roles of K and N swapped. Below, the row operand is a[rows, depth] and the column operand m[depth, cols].
 *
 * A TILE_T x TILE_T work-group computes a block of TILE_B = TILE_T*TILE_W rows by TILE_B columns; work-item
 * (tx, ty) owns rows ty + r*TILE_T and columns tx + c*TILE_T (r, c < TILE_W), each output one register with one
 * chain. The chain dimension is walked in TILE_K-deep slices staged in local memory, each output's chain in
 * ascending order; staged values outside the matrices are 0 but are never used: each chain stops at its true
 * length. Global (ceil(cols / TILE_B) * TILE_T, ceil(rows / TILE_B) * TILE_T), local (TILE_T, TILE_T).
 * Tuning parameters (#ifndef defaults below, overridden by the host's #defines): TILE_T 16, TILE_W 4, TILE_K 16.
 *
 * A kernel is written with the walk macros:
 *   GEMM_TILED_ITEM;                          tx, ty and the block's first column cb and first row bb
 *   float acc[TILE_W][TILE_W]; GEMM_TILED_ZERO(acc);
 *   GEMM_TILED_WALK(depth, STAGE, STEP)       STAGE: lrp_stage_* calls for slice k0; STEP: chain step kk, reading
 *                                             GEMM_TILED_ROW(staged, r) and GEMM_TILED_COL(staged, c)
 *   GEMM_TILED_STORE(rows, cols, STORE)       STORE for each own output (r, c) at row b, column col in range
 * and the one-chain GEMM (linear_tiled, backproject_tiled) is the single body lrp_gemm_tiled below.
 */
#pragma OPENCL FP_CONTRACT OFF

#ifndef GEMM_TILED_H
#define GEMM_TILED_H

#include "lrp_common.h"

#ifndef TILE_T
#define TILE_T 16
#endif
#ifndef TILE_W
#define TILE_W 4
#endif
#ifndef TILE_K
#define TILE_K 16
#endif
#define TILE_B (TILE_T * TILE_W)
#define TILE_AS (TILE_K + 1) /* row pitch of a staged [TILE_B][TILE_K] slice; +1 avoids bank conflicts */

/* dst[rr][kk] = a[bb+rr, k0+kk] of a row-major [rows, K] matrix, as a [TILE_B][TILE_AS] local array. */
LRP_INLINE void lrp_stage_rows(__local float* dst, const __global float* a, int rows, int K, int bb, int k0)
{
    const int tid = get_local_id(1) * TILE_T + get_local_id(0);
    for (int e = tid; e < TILE_B * TILE_K; e += TILE_T * TILE_T) {
        const int rr = e / TILE_K;
        const int kk = e - rr * TILE_K;
        const int b = bb + rr;
        const int k = k0 + kk;
        dst[rr * TILE_AS + kk] = (b < rows && k < K) ? a[b * K + k] : 0.0f;
    }
}

/* dst[kk][cc] = m[k0+kk, jb+cc] of a row-major [K, N] matrix, as a [TILE_K][TILE_B] local array. */
LRP_INLINE void lrp_stage_cols(__local float* dst, const __global float* m, int K, int N, int k0, int jb)
{
    const int tid = get_local_id(1) * TILE_T + get_local_id(0);
    for (int e = tid; e < TILE_K * TILE_B; e += TILE_T * TILE_T) {
        const int kk = e / TILE_B;
        const int cc = e - kk * TILE_B;
        const int k = k0 + kk;
        const int j = jb + cc;
        dst[kk * TILE_B + cc] = (k < K && j < N) ? m[k * N + j] : 0.0f;
    }
}

/* dst[kk] = v[k0+kk] of a vector of length K. */
LRP_INLINE void lrp_stage_vec(__local float* dst, const __global float* v, int K, int k0)
{
    const int tid = get_local_id(1) * TILE_T + get_local_id(0);
    for (int e = tid; e < TILE_K; e += TILE_T * TILE_T) {
        dst[e] = k0 + e < K ? v[k0 + e] : 0.0f;
    }
}

/* The work-item's place: local ids and the block's first column cb and first row bb. */
#define GEMM_TILED_ITEM \
    const int tx = get_local_id(0); \
    const int ty = get_local_id(1); \
    const int cb = get_group_id(0) * TILE_B; \
    const int bb = get_group_id(1) * TILE_B

/* ACC[r][c] = +0.0f for a [TILE_W][TILE_W] register tile. */
#define GEMM_TILED_ZERO(ACC) \
    _Pragma("unroll") \
    for (int r = 0; r < TILE_W; r++) { \
        _Pragma("unroll") \
        for (int c = 0; c < TILE_W; c++) { \
            ACC[r][c] = 0.0f; \
        } \
    }

/*
 * The chain dimension [0, DEPTH) in TILE_K-deep slices k0: STAGE stages the slice into local memory, then, after
 * a barrier, STEP runs for kk = 0 .. kend-1 in ascending order (chain index k0 + kk).
 */
#define GEMM_TILED_WALK(DEPTH, STAGE, STEP) \
    for (int k0 = 0; k0 < (DEPTH); k0 += TILE_K) { \
        STAGE \
        barrier(CLK_LOCAL_MEM_FENCE); \
        const int kend = min(TILE_K, (DEPTH) - k0); \
        for (int kk = 0; kk < kend; kk++) { \
            STEP \
        } \
        barrier(CLK_LOCAL_MEM_FENCE); \
    }

/* At step kk: the row operand of own row r (staged by lrp_stage_rows), the column operand of own column c. */
#define GEMM_TILED_ROW(S, r) S[(ty + (r) * TILE_T) * TILE_AS + kk]
#define GEMM_TILED_COL(S, c) S[kk * TILE_B + tx + (c) * TILE_T]

/* STORE for each own output (r, c) inside [ROWS, COLS): batch row b, column col. */
#define GEMM_TILED_STORE(ROWS, COLS, STORE) \
    _Pragma("unroll") \
    for (int r = 0; r < TILE_W; r++) { \
        const int b = bb + ty + r * TILE_T; \
        _Pragma("unroll") \
        for (int c = 0; c < TILE_W; c++) { \
            const int col = cb + tx + c * TILE_T; \
            if (b < (ROWS) && col < (COLS)) { \
                STORE \
            } \
        } \
    }

/* The epilogues of lrp_gemm_tiled (literal at each call site). */
#define GEMM_FORWARD 0  /* out[b, col] = has_e ? acc + e[col] : acc (the bias of linear)                      */
#define GEMM_BACKWARD 1 /* out[b, col] = has_e ? e[b, col] * acc : acc (the input of backproject), and each  */
                        /* step is fma(m, a, acc) rather than fma(a, m, acc), as that kernel has always had it */

/*
 * The one-chain tiled GEMM, the body of linear_tiled and backproject_tiled: acc[b, col] = chain over k < depth of
 * a[b, k] * m[k, col], then the role's epilogue. as, ms: [TILE_B * TILE_AS] and [TILE_K * TILE_B] local arrays.
 */
LRP_INLINE void lrp_gemm_tiled(const __global float* restrict a, const __global float* restrict m,
                               const __global float* restrict e, const int has_e, __global float* restrict out,
                               const int rows, const int depth, const int cols, const int role,
                               __local float* as, __local float* ms)
{
    GEMM_TILED_ITEM;
    float acc[TILE_W][TILE_W];
    GEMM_TILED_ZERO(acc);
    GEMM_TILED_WALK(depth,
        lrp_stage_rows(as, a, rows, depth, bb, k0);
        lrp_stage_cols(ms, m, depth, cols, k0, cb);,
        float av[TILE_W];
        float mv[TILE_W];
        _Pragma("unroll")
        for (int r = 0; r < TILE_W; r++) {
            av[r] = GEMM_TILED_ROW(as, r);
            mv[r] = GEMM_TILED_COL(ms, r);
        }
        _Pragma("unroll")
        for (int r = 0; r < TILE_W; r++) {
            _Pragma("unroll")
            for (int c = 0; c < TILE_W; c++) {
                acc[r][c] = role == GEMM_FORWARD ? fma(av[r], mv[c], acc[r][c]) : fma(mv[c], av[r], acc[r][c]);
            }
        }
    )
    GEMM_TILED_STORE(rows, cols,
        if (role == GEMM_FORWARD) {
            out[b * cols + col] = has_e ? acc[r][c] + e[col] : acc[r][c];
        } else {
            out[b * cols + col] = has_e ? e[b * cols + col] * acc[r][c] : acc[r][c];
        }
    )
}

#endif /* GEMM_TILED_H */
