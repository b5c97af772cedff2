package org.gpulrp.model;

import org.gpulrp.ShapeMismatchException;

/**
 * Average pooling with PyTorch's defaults (floor mode, padding counted in the divisor: every window divides by
 * {@code kernelH * kernelW}); global average pooling is the window covering the whole input. LRP applies the epsilon
 * formula to this linear map (computed as a depthwise convolution with weights {@code 1 / (kernelH * kernelW)}).
 */
public record AvgPool2d(PoolGeometry geometry) implements Layer {

    /**
     * Refuses ceil mode where it adds a window (a clipped last window would need its own divisor); where ceil and
     * floor mode give the same output, the geometry is kept in floor mode.
     */
    public AvgPool2d {
        org.gpulrp.InvalidArgumentException.check(geometry != null, "geometry", "must not be null");
        if (geometry.ceilMode()) {
            PoolGeometry floor = new PoolGeometry(geometry.channels(), geometry.inH(), geometry.inW(),
                    geometry.kernelH(), geometry.kernelW(), geometry.strideH(), geometry.strideW(), geometry.padH(),
                    geometry.padW());
            org.gpulrp.InvalidArgumentException.check(floor.outH() == geometry.outH()
                    && floor.outW() == geometry.outW(), "ceilMode", "average pooling in ceil mode whose last window "
                    + "runs past the input is not supported (its divisor would differ)");
            geometry = floor;
        }
    }

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
