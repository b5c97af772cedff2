package org.gpulrp.model;

import org.gpulrp.ShapeMismatchException;

/** Max pooling (PyTorch floor mode); LRP sends each window's relevance to its first maximum. */
public record MaxPool2d(PoolGeometry geometry) implements Layer {
    @Override
    public LayerKind kind() {
        return LayerKind.POOL;
    }

    @Override
    public int outputSize(int inputSize) {
        if (inputSize != geometry.inSize()) {
            throw new ShapeMismatchException("max pool input", geometry.inSize() + " values", inputSize + " values");
        }
        return geometry.outSize();
    }
}
