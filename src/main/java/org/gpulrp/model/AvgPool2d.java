package org.gpulrp.model;

import org.gpulrp.ShapeMismatchException;

/**
 * Average pooling with PyTorch's defaults (floor mode, padding counted in the divisor: every window divides by
 * {@code kernelH * kernelW}); global average pooling is the window covering the whole input. LRP applies the epsilon
 * formula to this linear map (computed as a depthwise convolution with weights {@code 1 / (kernelH * kernelW)}).
 */
public record AvgPool2d(PoolGeometry geometry) implements Layer {
    @Override
    public LayerKind kind() {
        return LayerKind.POOL;
    }

    @Override
    public int outputSize(int inputSize) {
        if (inputSize != geometry.inSize()) {
            throw new ShapeMismatchException("average pool input", geometry.inSize() + " values", inputSize
                    + " values");
        }
        return geometry.outSize();
    }
}
