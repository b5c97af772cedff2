package org.gpulrp.model;

/**
 * Elementwise (or, for softmax, per-sample) activation. LRP's Pass rule sends relevance through unchanged.
 * Sigmoid and softmax are evaluated on the host in Java on every backend, so that all paths share their bits.
 */
public record Activation(Function function) implements Layer {

    /** The supported activation functions. */
    public enum Function {
        RELU, SIGMOID, SOFTMAX
    }

    public Activation {
        if (function == null) {
            throw new org.gpulrp.InvalidArgumentException("function", "must not be null");
        }
    }

    @Override
    public LayerKind kind() {
        return LayerKind.ACTIVATION;
    }

    @Override
    public int outputSize(int inputSize) {
        return inputSize;
    }
}
