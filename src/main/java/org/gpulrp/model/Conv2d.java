package org.gpulrp.model;

import java.util.Arrays;
import org.gpulrp.InvalidInputException;
import org.gpulrp.ShapeMismatchException;

/**
 * 2-D convolution over NCHW samples as PyTorch's {@code Conv2d} computes it (stride, padding, dilation, groups); the
 * geometry includes the input's height and width. Weight {@code [outChannels, inChannels/groups, kH, kW]}, bias
 * {@code [outChannels]}. The arrays are copied in and never handed out.
 */
public final class Conv2d implements Layer {
    private final ConvGeometry geometry;
    private final float[] weight;
    private final float[] bias;

    public Conv2d(ConvGeometry geometry, float[] weight, float[] bias) {
        if (weight == null || weight.length != geometry.weightSize()) {
            throw new ShapeMismatchException("conv weight [out, in/groups, kH, kW]", geometry.weightSize()
                    + " values", weight == null ? "null" : weight.length + " values");
        }
        if (bias != null && bias.length != geometry.outChannels()) {
            throw new ShapeMismatchException("conv bias", geometry.outChannels() + " values", bias.length
                    + " values");
        }
        this.geometry = geometry;
        this.weight = weight.clone();
        this.bias = bias == null ? new float[geometry.outChannels()] : bias.clone();
        for (float[] a : new float[][] {this.weight, this.bias}) {
            for (int k = 0; k < a.length; k++) {
                if (!Float.isFinite(a[k])) {
                    throw new InvalidInputException("conv parameter holds " + a[k] + " at index " + k, -1, k);
                }
            }
        }
    }

    public ConvGeometry geometry() {
        return geometry;
    }

    public float[] weight() {
        return weight.clone();
    }

    public float[] bias() {
        return bias.clone();
    }

    @Override
    public LayerKind kind() {
        return LayerKind.CONV;
    }

    @Override
    public int outputSize(int inputSize) {
        if (inputSize != geometry.inSize()) {
            throw new ShapeMismatchException("conv input", geometry.inSize() + " values ([" + geometry.inChannels()
                    + ", " + geometry.inH() + ", " + geometry.inW() + "])", inputSize + " values");
        }
        return geometry.outSize();
    }

    /** Output shape {@code [channels, height, width]}. */
    public int[] outputShape() {
        return new int[] {geometry.outChannels(), geometry.outH(), geometry.outW()};
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Conv2d c && c.geometry.equals(geometry) && Arrays.equals(c.weight, weight)
                && Arrays.equals(c.bias, bias);
    }

    @Override
    public int hashCode() {
        return geometry.hashCode() * 31 + Arrays.hashCode(weight);
    }

    @Override
    public String toString() {
        return "Conv2d(" + geometry.inChannels() + " -> " + geometry.outChannels() + ", " + geometry.kernelH() + "x"
                + geometry.kernelW() + ")";
    }
}
