package org.gpulrp.model;

import org.gpulrp.InvalidArgumentException;

/**
 * The shape of one 2-D pooling over NCHW samples, as PyTorch's {@code MaxPool2d} defines it (floor or ceil mode, no
 * dilation): input {@code [channels, inH, inW]}, output {@code [channels, outH(), outW()]}; padding counts as
 * {@code -inf}. In ceil mode the last window may run past the input (and its padding); like PyTorch, it is dropped
 * when it would start beyond the input and the leading padding. Like PyTorch, padding may be at most half the kernel, so that every window holds an input value.
 * Arg-max indices travel in float buffers, so a sample may hold at most 2^24 values (each index is exact).
 *
 * @param channels channels, >= 1
 * @param inH      input height, >= 1
 * @param inW      input width, >= 1
 * @param kernelH  window height, >= 1
 * @param kernelW  window width, >= 1
 * @param strideH  vertical stride, >= 1
 * @param strideW  horizontal stride, >= 1
 * @param padH     padding above and below, 0 .. kernelH / 2
 * @param padW     padding left and right, 0 .. kernelW / 2
 * @param ceilMode output size rounded up instead of down (PyTorch's {@code ceil_mode}, ONNX {@code ceil_mode=1})
 */
public record PoolGeometry(int channels, int inH, int inW, int kernelH, int kernelW, int strideH, int strideW,
                           int padH, int padW, boolean ceilMode) {

    /** The largest sample whose flat indices a float holds exactly. */
    public static final int MAX_SAMPLE_SIZE = 1 << 24;

    /** Checks every size; the output must be at least 1x1. */
    public PoolGeometry {
        positive(channels, "channels");
        positive(inH, "inH");
        positive(inW, "inW");
        positive(kernelH, "kernelH");
        positive(kernelW, "kernelW");
        positive(strideH, "strideH");
        positive(strideW, "strideW");
        InvalidArgumentException.check(padH >= 0 && padH <= kernelH / 2, "padH", "must be in 0.." + kernelH / 2
                + " (at most half the kernel, as in PyTorch), got " + padH);
        InvalidArgumentException.check(padW >= 0 && padW <= kernelW / 2, "padW", "must be in 0.." + kernelW / 2
                + " (at most half the kernel, as in PyTorch), got " + padW);
        InvalidArgumentException.check(kernelH <= inH + 2L * padH, "kernelH", "the window (" + kernelH
                + " rows) is taller than the padded input (" + (inH + 2L * padH) + " rows): the output would be "
                + "empty");
        InvalidArgumentException.check(kernelW <= inW + 2L * padW, "kernelW", "the window (" + kernelW
                + " columns) is wider than the padded input (" + (inW + 2L * padW) + " columns): the output would "
                + "be empty");
        long in = (long) channels * inH * inW;
        InvalidArgumentException.check(in <= MAX_SAMPLE_SIZE, "PoolGeometry", "a sample of " + in + " values is "
                + "larger than the " + MAX_SAMPLE_SIZE + " whose arg-max indices a float holds exactly; pool a "
                + "smaller input");
    }

    /** A pooling in floor mode (PyTorch's default). */
    public PoolGeometry(int channels, int inH, int inW, int kernelH, int kernelW, int strideH, int strideW, int padH,
                        int padW) {
        this(channels, inH, inW, kernelH, kernelW, strideH, strideW, padH, padW, false);
    }

    private static void positive(int v, String name) {
        InvalidArgumentException.check(v >= 1, name, "must be >= 1, got " + v);
    }

    /** A pooling with a square window, stride and padding. */
    public static PoolGeometry of(int channels, int inH, int inW, int kernel, int stride, int pad) {
        return new PoolGeometry(channels, inH, inW, kernel, kernel, stride, stride, pad, pad);
    }

    /** {@code (inH + 2 padH - kernelH) / strideH + 1}, rounded up in ceil mode. */
    public int outH() {
        return outSize(inH, kernelH, strideH, padH, ceilMode);
    }

    /** {@code (inW + 2 padW - kernelW) / strideW + 1}, rounded up in ceil mode. */
    public int outW() {
        return outSize(inW, kernelW, strideW, padW, ceilMode);
    }

    /** PyTorch's pooling output size ({@code pooling_output_shape}, no dilation). */
    private static int outSize(int in, int kernel, int stride, int pad, boolean ceil) {
        int span = in + 2 * pad - kernel;
        int out = (ceil ? Math.floorDiv(span + stride - 1, stride) : span / stride) + 1;
        if (ceil && (long) (out - 1) * stride >= in + pad) {
            out--;
        }
        return out;
    }

    /** Whether every window lies inside the unpadded input (no padding, and no ceil-mode window past the edge). */
    public boolean windowsInside() {
        return padH == 0 && padW == 0 && (long) (outH() - 1) * strideH + kernelH <= inH
                && (long) (outW() - 1) * strideW + kernelW <= inW;
    }

    /** Values per input sample, {@code channels * inH * inW}. */
    public int inSize() {
        return channels * inH * inW;
    }

    /** Values per output sample, {@code channels * outH() * outW()}. */
    public int outSize() {
        return channels * outH() * outW();
    }
}
