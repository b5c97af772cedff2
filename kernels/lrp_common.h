/*
 * lrp_common.h: the reproducibility contract every gpulrp kernel shares (docs/DESIGN.md section 3).
 *
 * Every kernels/NAME.cl file includes this header first. The host puts its tuning #defines before the file and
 * expands each #include "NAME" itself (an OpenCL #include cannot reach the classpath; ClPrograms), then builds it
 * with exactly the option -cl-fp32-correctly-rounded-divide-sqrt. Every tuning value has a default here or in the
 * file's own #ifndef blocks, so each file also compiles on its own (e.g. clang -x cl -I kernels).
 *
 * Contract, restated for kernel authors:
 *   - every dot product is one float32 chain in ascending index order from +0.0f: acc = fma(a_k, b_k, acc);
 *     a bias is added after the chain as its own rounded add; never split, pad, reorder or reduce across lanes;
 *   - explicit fma() only; never mad(), native_*, half_*, and no contraction (the pragma below);
 *   - clamps are v > 0 ? v : 0 (never fmax/fmin: they differ on NaN and on -0.0);
 *   - stab(d) = d + (d >= 0 ? eps : -eps); safe_div(r, s) = s == 0 ? 0 : r / s (correctly rounded division).
 *
 * Layouts: row-major; B batch rows, K input features, N output features; w[N,K] is PyTorch's layout
 * (w[j*K+i]), wt[K,N] its transpose.
 */
#pragma OPENCL FP_CONTRACT OFF

#ifndef LRP_COMMON_H
#define LRP_COMMON_H

/*
 * Helpers are always inlined: the register tiles (arrays indexed by literal-bound loops) only become registers
 * once the helper is inlined at a call site with its literal arguments, and LLVM's inliner may decline otherwise.
 */
#define LRP_INLINE static inline __attribute__((always_inline))

/* The stabilizer: moves d away from zero by eps, with sign(0) = sign(-0.0) = +1. */
LRP_INLINE float lrp_stab(float d, float eps) {
    return d + (d >= 0.0f ? eps : -eps);
}

/* r / s, and 0 where s is zero (eps = 0 on an exactly zero denominator). */
LRP_INLINE float lrp_safe_div(float r, float s) {
    return s == 0.0f ? 0.0f : r / s;
}

/* Positive part, v > 0 ? v : 0 (NaN and -0.0 give +0.0, as in Java). */
LRP_INLINE float lrp_pos(float v) {
    return v > 0.0f ? v : 0.0f;
}

/* Negative part, v < 0 ? v : 0. */
LRP_INLINE float lrp_neg(float v) {
    return v < 0.0f ? v : 0.0f;
}

#endif /* LRP_COMMON_H */
