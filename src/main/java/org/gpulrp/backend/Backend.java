package org.gpulrp.backend;

import org.gpulrp.InvalidArgumentException;
import org.gpulrp.model.ConvGeometry;
import org.gpulrp.model.PoolGeometry;

/**
 * The primitives every backend implements. The LRP engine (one implementation, shared by all backends) composes
 * them; a backend is correct when each primitive gives, bit for bit, the float32 results specified here. That is
 * the whole reproducibility contract (docs/DESIGN.md section 3):
 * <ul>
 *   <li>every dot product is one chain in ascending index order starting from {@code +0.0f}:
 *       {@code acc = fma(a_k, b_k, acc)}; the bias is added after the chain as its own rounded add; nothing else is
 *       fused, split or reordered;</li>
 *   <li>clamps are {@code v > 0 ? v : 0} and {@code v < 0 ? v : 0} (never max/min);</li>
 *   <li>{@code stab(d) = d + (d >= 0 ? eps : -eps)}, {@code safeDiv(r, s) = s == 0 ? 0 : r / s} (IEEE division,
 *       correctly rounded).</li>
 * </ul>
 * Layouts are row-major. {@code B} = batch rows, {@code K} = input features, {@code N} = output features. A weight
 * {@code w[N,K]} is PyTorch's layout ({@code w[j*K+i]}); {@code wt[K,N]} is its transpose. Buffers passed as outputs
 * never alias inputs. Primitives may run asynchronously; {@link #read} returns once the data is there.
 */
public interface Backend extends AutoCloseable {

    BackendInfo info();

    /**
     * Threads a primitive's rows are split over: a pass whose rows are a multiple of it keeps every thread busy
     * (1 where the backend does not split rows itself).
     */
    default int rowParallelism() {
        return 1;
    }

    /**
     * The cache one thread's share of a pass should fit in, in bytes, for sizing passes where the user has not
     * ({@code ChunkSizing.cacheRows}): the CPU path's per-core L2; {@code Long.MAX_VALUE} where passes should be as
     * large as the memory allows (devices).
     */
    default long passCacheBytes() {
        return Long.MAX_VALUE;
    }

    /** The device's global memory in bytes, for sizing passes; {@code Long.MAX_VALUE} where there is no limit. */
    default long globalMemoryBytes() {
        return Long.MAX_VALUE;
    }

    /** The largest single allocation in bytes; {@code Long.MAX_VALUE} where there is no limit. */
    default long maxAllocationBytes() {
        return Long.MAX_VALUE;
    }

    /** A new buffer of {@code length} floats, contents undefined. */
    Buffer allocate(int length);

    /** A new buffer holding a copy of {@code data}. */
    Buffer upload(float[] data);

    /** Copies {@code src[srcOff .. srcOff+length)} into {@code dst[0 .. length)}. */
    void write(Buffer dst, float[] src, int srcOff, int length);

    /** Copies {@code src[0 .. length)} into {@code dst[dstOff .. dstOff+length)}; waits for pending work. */
    void read(Buffer src, float[] dst, int dstOff, int length);

    /**
     * Forward linear map. {@code z[b,j] = chain_i fma(x[b,i], wt[i,j]) + bias[j]}; no add when {@code bias} is
     * null.
     */
    void linear(Buffer x, Buffer wt, Buffer bias, Buffer z, int rows, int in, int out);

    /**
     * Sign-split forward, one pass for both denominators. Per (b,j), for i ascending with {@code xi = x[b,i]}:
     * if {@code xi > 0}: {@code p = fma(xi, ut[i,j], p); n = fma(xi, vt[i,j], n)}, else
     * {@code p = fma(xi, vt[i,j], p); n = fma(xi, ut[i,j], n)}. Then {@code outP = p + biasP[j]} and, when
     * {@code outN} is not null, {@code outN = n + biasN[j]}. (ZPlus/AlphaBeta: u = W+, v = W-, biasP = b+, biasN =
     * b-. Gamma: u = W + g W+, v = W + g W-.)
     */
    void linearSigned(Buffer x, Buffer ut, Buffer vt, Buffer biasP, Buffer biasN, Buffer outP, Buffer outN,
                      int rows, int in, int out);

    /**
     * ZBox denominator. Per (b,j), for i ascending: {@code w = wt[i,j]; t = w > 0 ? x[b,i] - low[i] :
     * x[b,i] - high[i]; acc = fma(t, w, acc)}; {@code d[b,j] = acc} (no bias).
     */
    void linearZBox(Buffer x, Buffer wt, Buffer low, Buffer high, Buffer d, int rows, int in, int out);

    /** {@code out[k] = in[k] > 0 ? in[k] : 0}. */
    void relu(Buffer in, Buffer out, int length);

    /** {@code pos[k] = w[k] > 0 ? w[k] : 0}, {@code neg[k] = w[k] < 0 ? w[k] : 0}. */
    void splitSign(Buffer w, Buffer pos, Buffer neg, int length);

    /**
     * Gamma's modified weights: {@code wp[k] = w > 0 ? fma(gamma, w, w) : w},
     * {@code wn[k] = w < 0 ? fma(gamma, w, w) : w}.
     */
    void gammaWeights(Buffer w, float gamma, Buffer wp, Buffer wn, int length);

    /**
     * {@code g[b,j] = safeDiv(r[b,j], stab(d[b*dRowStride + j]))}; {@code dRowStride} is {@code out} for a per-sample
     * denominator or 0 for one shared by all rows.
     */
    void normalize(Buffer r, Buffer d, int dRowStride, float eps, Buffer g, int rows, int out);

    /**
     * Two-sided normalization. {@code gp = safeDiv(r, stab(p))}; {@code hp = gammaMask ? (z > 0 ? gp : 0) :
     * scaleP * gp}. When {@code n} is not null: {@code gn = safeDiv(r, stab(n))};
     * {@code hn = gammaMask ? (z < 0 ? gn : 0) : scaleN * gn}. {@code z} is read only when {@code gammaMask}.
     */
    void normalizeSigned(Buffer r, Buffer z, Buffer p, Buffer n, float eps, float scaleP, float scaleN,
                         boolean gammaMask, Buffer hp, Buffer hn, int rows, int out);

    /**
     * Backprojection. {@code c[b,i] = chain_j fma(w[j,i], g[b,j])}; {@code r[b,i] = x == null ? c : x[b,i] * c}.
     */
    void backproject(Buffer g, Buffer w, Buffer x, Buffer r, int rows, int out, int in);

    /**
     * Sign-split backprojection in one pass. Per (b,i), for j ascending:
     * {@code c1 = fma(u[j,i], hp[b,j], c1)}, then, when {@code hn} is not null, {@code c1 = fma(v[j,i], hn[b,j], c1)};
     * {@code c2 = fma(v[j,i], hp[b,j], c2)}, then, when {@code hn} is not null, {@code c2 = fma(u[j,i], hn[b,j], c2)}.
     * {@code r[b,i] = x[b,i] * (x[b,i] > 0 ? c1 : c2)}.
     */
    void backprojectSigned(Buffer hp, Buffer hn, Buffer u, Buffer v, Buffer x, Buffer r, int rows, int out, int in);

    /**
     * ZBox backprojection in one pass: {@code c0, cp, cm} are the chains of {@code w, wpos, wneg} against g as in
     * {@link #backproject}; {@code r[b,i] = (x[b,i] * c0 - low[i] * cp) - high[i] * cm}, each op rounded.
     */
    void backprojectZBox(Buffer g, Buffer w, Buffer wpos, Buffer wneg, Buffer x, Buffer low, Buffer high, Buffer r,
                         int rows, int out, int in);

    // ------------------------------------------------------------------------------------------------ convolution

    /*
     * Convolutions: layout NCHW, row-major, batch first; x, r [rows, g.inSize()], z and the upper signals
     * [rows, g.outSize()], weights w[oc, ci_local, kh, kw] (PyTorch's layout, g.weightSize() values), biases
     * [outChannels]. Output (oc, oh, ow) meets input (ci, ih, iw) through tap (kh, kw) where
     * ih = oh*strideH - padH + kh*dilationH and iw = ow*strideW - padW + kw*dilationW, ci in oc's group. Every
     * chain starts from +0.0f, runs in the stated ascending order, and SKIPS a tap that falls outside the input
     * (it is not fma'd with 0); a bias is added after the chain as its own rounded add, and not at all when null.
     */

    /**
     * Forward convolution. {@code z[b,oc,oh,ow] = chain over (ci of oc's group, kh, kw) ascending of
     * fma(x[b,ci,ih,iw], w[oc,ci_local,kh,kw])}, then {@code + bias[oc]} unless {@code bias} is null.
     */
    void conv(Buffer x, Buffer w, Buffer bias, Buffer z, int rows, ConvGeometry g);

    /**
     * Sign-split forward convolution, as {@link #linearSigned} per tap: {@code xi > 0 ? (p = fma(xi, u, p);
     * n = fma(xi, v, n)) : (p = fma(xi, v, p); n = fma(xi, u, n))} in {@link #conv}'s tap order; then
     * {@code outP = p + biasP[oc]} and, when {@code outN} is not null, {@code outN = n + biasN[oc]} (no add for a
     * null bias).
     */
    void convSigned(Buffer x, Buffer u, Buffer v, Buffer biasP, Buffer biasN, Buffer outP, Buffer outN, int rows,
                    ConvGeometry g);

    /**
     * ZBox denominator of a convolution, in {@link #conv}'s tap order: {@code t = w > 0 ? x - low[e] :
     * x - high[e]; acc = fma(t, w, acc)}, where {@code e = (ci*inH + ih)*inW + iw} and {@code low, high} hold one
     * bound per input element ({@code [g.inSize()]}); no bias.
     */
    void convZBox(Buffer x, Buffer w, Buffer low, Buffer high, Buffer d, int rows, ConvGeometry g);

    /**
     * Backprojection through a convolution (the transposed convolution). {@code c[b,ci,ih,iw] = chain over (oc of
     * ci's group, kh, kw) ascending of fma(w[oc,ci_local,kh,kw], g[b,oc,oh,ow])} over the taps where
     * {@code oh = (ih + padH - kh*dilationH) / strideH} is an exact non-negative integer {@code < outH} (ow
     * likewise); {@code r = x == null ? c : x * c}.
     */
    void convBackproject(Buffer g, Buffer w, Buffer x, Buffer r, int rows, ConvGeometry geometry);

    /**
     * Sign-split backprojection through a convolution, as {@link #backprojectSigned} in
     * {@link #convBackproject}'s tap order: per tap {@code c1 = fma(u, hp, c1)}, then, when {@code hn} is not
     * null, {@code c1 = fma(v, hn, c1)}; {@code c2 = fma(v, hp, c2)}, then {@code c2 = fma(u, hn, c2)};
     * {@code r = x * (x > 0 ? c1 : c2)}.
     */
    void convBackprojectSigned(Buffer hp, Buffer hn, Buffer u, Buffer v, Buffer x, Buffer r, int rows,
                               ConvGeometry g);

    /**
     * ZBox backprojection through a convolution: {@code c0, cp, cm} are the chains of {@code w, wpos, wneg}
     * against g as in {@link #convBackproject}; {@code r = (x * c0 - low[e] * cp) - high[e] * cm}, each op
     * rounded, with per-input-element bounds as in {@link #convZBox}.
     */
    void convBackprojectZBox(Buffer g, Buffer w, Buffer wpos, Buffer wneg, Buffer x, Buffer low, Buffer high,
                             Buffer r, int rows, ConvGeometry geometry);

    /**
     * Prepares weight buffers for a convolution primitive they will be passed to for the rest of their life: the
     * explainer calls it once per combination, at build time, right after it made the buffers (docs/DESIGN.md section
     * 4.1, "prepared weights"). {@code weights} are the primitive's weight arguments in its order ({@code op}'s
     * {@link Op#weightArguments()} of them: {@code w}; {@code u, v}; {@code w, wpos, wneg}) and {@code g} its
     * geometry. The backend may attach to the buffers the layouts its kernels read for that call (packed strips on
     * the CPU, arranged device copies on OpenCL), which it releases when a buffer is closed; the buffers are then
     * sealed: a later {@link #write} to one, or its use as a primitive's output, fails. A call with buffers nobody
     * prepared gives the same bits (its layouts are derived for that call). Preparing again is harmless. The default
     * prepares nothing.
     *
     * @throws InvalidArgumentException where {@code op} is not a convolution primitive or the weights do not match it
     */
    default void prepareConv(Op op, ConvGeometry g, Buffer... weights) {
        checkPrepareConv(op, g, weights);
    }

    /**
     * Prepares a dense weight buffer {@code m} that will be passed, for the rest of its life, as the [p, q] matrix of
     * {@link #linear} ({@code wt}, [in, out]) or {@link #backproject} ({@code w}, [out, in]), as {@link #prepareConv}
     * does for convolutions: the backend may keep a packed layout with it (the CPU path's four-vector strips) and
     * seal it. The same bits either way. The default prepares nothing.
     */
    default void prepareDense(Buffer m, int p, int q) {
    }

    /** Checks {@link #prepareConv}'s arguments that do not depend on the backend. */
    static void checkPrepareConv(Op op, ConvGeometry g, Buffer... weights) {
        InvalidArgumentException.check(op != null && op.family() == Op.Family.CONV, "op",
                "must be a convolution primitive, got " + op);
        InvalidArgumentException.check(g != null, "g", "must not be null");
        InvalidArgumentException.check(weights != null && weights.length == op.weightArguments(), "weights",
                op + " takes " + op.weightArguments() + " weight arrays, got "
                + (weights == null ? "none" : weights.length));
        for (int k = 0; k < weights.length; k++) {
            InvalidArgumentException.check(weights[k] != null, "weights", "weight " + k + " is null");
        }
    }

    /**
     * The whole forward and relevance pass of a narrow chain of dense layers ({@link DenseChain}: its layers, input
     * to top, within {@link DenseChain#fits}) as one kernel each, or null where this backend runs such a chain as
     * its primitives (the default; the CPU path, whose cache-sized passes keep the layers' values in cache anyway).
     * The engine takes it only for calls that report nothing per layer.
     */
    default DenseChain denseChain(java.util.List<DenseChain.Layer> layers) {
        return null;
    }

    // ------------------------------------------------------------------------------------------------ pooling

    /**
     * Max pooling, x [rows, p.inSize()] to y [rows, p.outSize()]: the window's maximum in scan order (kernel row,
     * then column, ascending), the first one on ties (only a strictly greater value replaces it); padding taps are
     * skipped (they count as -inf). {@code arg} (same shape as y) receives, as a float, the flat index of the
     * maximum within its sample's {@code [channels*inH*inW]} (exact: {@link PoolGeometry} keeps samples to 2^24
     * values). Inputs must be finite.
     */
    void maxPool(Buffer x, Buffer y, Buffer arg, int rows, PoolGeometry p);

    /**
     * Relevance routing through max pooling: {@code rIn[b,i]} = a chain of plain adds from {@code +0.0f} of
     * {@code r[b,o]} over the output positions o whose {@code arg[b,o]} is i, in ascending o (overlapping windows
     * may route several outputs to one input); 0 where none does. {@code arg} must be what {@link #maxPool} wrote
     * for the same geometry.
     */
    void maxPoolRoute(Buffer r, Buffer arg, Buffer rIn, int rows, PoolGeometry p);

    // ------------------------------------------------------------------------------------------------ tensors

    /** {@code out[k] = a[k] + b[k]} for {@code k < n}. */
    void add(Buffer a, Buffer b, Buffer out, int n);

    /** {@code out[k] = a[k] * b[k]} for {@code k < n}. */
    void mul(Buffer a, Buffer b, Buffer out, int n);

    /**
     * Copies {@code width} values per row between row-major buffers of different row widths (for Concat):
     * {@code dst[b*dstWidth + dstOffset + k] = src[b*srcWidth + srcOffset + k]} for {@code k < width, b < rows};
     * the rest of dst is left as it is. Arguments are checked as {@link #checkCopyRows} says.
     */
    void copyRows(Buffer src, int srcWidth, int srcOffset, Buffer dst, int dstWidth, int dstOffset, int width,
                  int rows);

    /**
     * Checks {@link #copyRows}' arguments that do not depend on the buffers: non-negative counts and offsets, and
     * each row's slice inside its row ({@code offset + width <= rowWidth}).
     *
     * @throws org.gpulrp.InvalidArgumentException naming the first bad argument
     */
    static void checkCopyRows(int srcWidth, int srcOffset, int dstWidth, int dstOffset, int width, int rows) {
        InvalidArgumentException.check(rows >= 0, "rows", "must be >= 0, got " + rows);
        InvalidArgumentException.check(width >= 0, "width", "must be >= 0, got " + width);
        InvalidArgumentException.check(srcOffset >= 0 && (long) srcOffset + width <= srcWidth, "srcOffset",
                "the slice [" + srcOffset + ", " + ((long) srcOffset + width) + ") must lie within a source row of "
                + srcWidth + " values");
        InvalidArgumentException.check(dstOffset >= 0 && (long) dstOffset + width <= dstWidth, "dstOffset",
                "the slice [" + dstOffset + ", " + ((long) dstOffset + width) + ") must lie within a destination "
                + "row of " + dstWidth + " values");
    }

    /** Releases everything the backend holds; idempotent, never throws. */
    @Override
    void close();
}
