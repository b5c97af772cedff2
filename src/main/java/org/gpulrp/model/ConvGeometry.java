package org.gpulrp.model;

import org.gpulrp.InvalidArgumentException;

/**
 * The shape of one 2-D convolution over NCHW samples, as PyTorch's {@code Conv2d} defines it: input
 * {@code [inChannels, inH, inW]}, weight {@code w[outChannels, inChannels / groups, kernelH, kernelW]}, output
 * {@code [outChannels, outH(), outW()]}. Output channel {@code oc} reads the input channels of its group
 * {@code oc / (outChannels / groups)}. Validated on construction.
 *
 * @param inChannels  input channels, >= 1 and divisible by {@code groups}
 * @param inH         input height, >= 1
 * @param inW         input width, >= 1
 * @param outChannels output channels, >= 1 and divisible by {@code groups}
 * @param kernelH     kernel height, >= 1
 * @param kernelW     kernel width, >= 1
 * @param strideH     vertical stride, >= 1
 * @param strideW     horizontal stride, >= 1
 * @param padH        zero padding above and below, >= 0
 * @param padW        zero padding left and right, >= 0
 * @param dilationH   vertical dilation, >= 1
 * @param dilationW   horizontal dilation, >= 1
 * @param groups      groups, >= 1 ({@code groups == inChannels == outChannels} is depthwise)
 */
public record ConvGeometry(int inChannels, int inH, int inW, int outChannels, int kernelH, int kernelW,
                           int strideH, int strideW, int padH, int padW, int dilationH, int dilationW, int groups) {

    /** Checks every size; the output must be at least 1x1 and every index must fit an int. */
    public ConvGeometry {
        positive(inChannels, "inChannels");
        positive(inH, "inH");
        positive(inW, "inW");
        positive(outChannels, "outChannels");
        positive(kernelH, "kernelH");
        positive(kernelW, "kernelW");
        positive(strideH, "strideH");
        positive(strideW, "strideW");
        InvalidArgumentException.check(padH >= 0, "padH", "must be >= 0, got " + padH);
        InvalidArgumentException.check(padW >= 0, "padW", "must be >= 0, got " + padW);
        positive(dilationH, "dilationH");
        positive(dilationW, "dilationW");
        positive(groups, "groups");
        InvalidArgumentException.check(inChannels % groups == 0, "groups", "must divide inChannels: "
                + inChannels + " input channels in " + groups + " groups");
        InvalidArgumentException.check(outChannels % groups == 0, "groups", "must divide outChannels: "
                + outChannels + " output channels in " + groups + " groups");
        long spanH = (long) dilationH * (kernelH - 1) + 1;
        long spanW = (long) dilationW * (kernelW - 1) + 1;
        InvalidArgumentException.check(spanH <= inH + 2L * padH, "kernelH", "the dilated kernel (" + spanH
                + " rows) is taller than the padded input (" + (inH + 2L * padH) + " rows): the output would be "
                + "empty; use a smaller kernel or dilation, or more padding");
        InvalidArgumentException.check(spanW <= inW + 2L * padW, "kernelW", "the dilated kernel (" + spanW
                + " columns) is wider than the padded input (" + (inW + 2L * padW) + " columns): the output would "
                + "be empty; use a smaller kernel or dilation, or more padding");
        long in = (long) inChannels * inH * inW;
        long out = (long) outChannels * outSize(inH, padH, dilationH, kernelH, strideH)
                * outSize(inW, padW, dilationW, kernelW, strideW);
        long weights = (long) outChannels * (inChannels / groups) * kernelH * kernelW;
        InvalidArgumentException.check(in <= Integer.MAX_VALUE && out <= Integer.MAX_VALUE
                && weights <= Integer.MAX_VALUE, "ConvGeometry", "a sample or the weight has more than 2^31-1 "
                + "values (input " + in + ", output " + out + ", weight " + weights + ")");
    }

    private static void positive(int v, String name) {
        InvalidArgumentException.check(v >= 1, name, "must be >= 1, got " + v);
    }

    private static long outSize(int in, int pad, int dilation, int kernel, int stride) {
        return (in + 2L * pad - (long) dilation * (kernel - 1) - 1) / stride + 1;
    }

    /** A convolution with square kernel, stride, padding, dilation 1 and one group. */
    public static ConvGeometry of(int inChannels, int inH, int inW, int outChannels, int kernel, int stride,
                                  int pad) {
        return new ConvGeometry(inChannels, inH, inW, outChannels, kernel, kernel, stride, stride, pad, pad, 1, 1, 1);
    }

    /** {@code (inH + 2 padH - dilationH (kernelH - 1) - 1) / strideH + 1}. */
    public int outH() {
        return (int) outSize(inH, padH, dilationH, kernelH, strideH);
    }

    /** {@code (inW + 2 padW - dilationW (kernelW - 1) - 1) / strideW + 1}. */
    public int outW() {
        return (int) outSize(inW, padW, dilationW, kernelW, strideW);
    }

    /** Values per input sample, {@code inChannels * inH * inW}. */
    public int inSize() {
        return inChannels * inH * inW;
    }

    /** Values per output sample, {@code outChannels * outH() * outW()}. */
    public int outSize() {
        return outChannels * outH() * outW();
    }

    /** Input channels per group (the weight's second dimension). */
    public int inPerGroup() {
        return inChannels / groups;
    }

    /** Output channels per group. */
    public int outPerGroup() {
        return outChannels / groups;
    }

    /** Weight values, {@code outChannels * (inChannels / groups) * kernelH * kernelW}. */
    public int weightSize() {
        return outChannels * inPerGroup() * kernelH * kernelW;
    }

    /** Taps per output (the forward chain's length where no tap falls in the padding). */
    public int taps() {
        return inPerGroup() * kernelH * kernelW;
    }
}
