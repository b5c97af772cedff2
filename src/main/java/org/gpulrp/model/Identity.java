package org.gpulrp.model;

/** Passes values and relevance through unchanged. */
public record Identity() implements Layer {
    @Override
    public LayerKind kind() {
        return LayerKind.IDENTITY;
    }

    @Override
    public int outputSize(int inputSize) {
        return inputSize;
    }
}
