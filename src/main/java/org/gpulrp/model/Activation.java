package org.gpulrp.model;

/**
 * Elementwise (or, for softmax, per-sample) activation. LRP's Pass rule sends relevance through unchanged, as
 * Zennit's composites do for every activation module ({@code layer_map_base}). ReLU runs on the backend; the others
 * are evaluated on the host in Java on every backend, so that all paths share their bits.
 */
public record Activation(Function function) implements Layer {

    /** The supported activation functions. */
    public enum Function {
        RELU,
        SIGMOID,
        SOFTMAX,
        /** {@code min(max(x, 0), 6)} (ONNX {@code Clip} with bounds 0 and 6). */
        RELU6,
        /** {@code min(max(x / 6 + 1/2, 0), 1)} (ONNX {@code HardSigmoid} with PyTorch's alpha 1/6, beta 1/2). */
        HARDSIGMOID,
        /** {@code x * hardsigmoid(x)} (ONNX {@code HardSwish}, or {@code x * HardSigmoid(x)} before opset 14). */
        HARDSWISH,
        /** {@code x * sigmoid(x)} (PyTorch's SiLU, exported as {@code x * Sigmoid(x)}). */
        SILU,
        /** {@code x * (1 + erf(x / sqrt 2)) / 2} (PyTorch's default GELU; ONNX {@code Div, Erf, Add, Mul, Mul}). */
        GELU,
        /**
         * {@code x * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 x^3))) / 2} (GELU's tanh form, GPT-2's {@code gelu_new}).
         */
        GELU_TANH,
        /** {@code tanh(x)}. */
        TANH;

        /** Whether every output is >= 0 and never -0 for any input (ReLU, ReLU6, hard sigmoid). */
        public boolean nonNegative() {
            return this == RELU || this == RELU6 || this == HARDSIGMOID;
        }
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
