package org.gpulrp.model;

import org.gpulrp.InvalidArgumentException;

/**
 * Softmax over each consecutive run of {@code length} features (the last axis: attention scores
 * {@code [heads, queries, keys]} with {@code length = keys}). Evaluated on the host for every backend. Its relevance
 * follows the composite's attention mode: AttnLRP's {@code R_x = x (R - s sum R)} per row, or none (CP-LRP: the
 * attention weights are constants). docs/DESIGN.md section 2.9.
 *
 * @param length features per softmax row, >= 1
 */
public record Softmax(int length) implements Layer {

    public Softmax {
        InvalidArgumentException.check(length >= 1, "length", "must be >= 1, got " + length);
    }

    @Override
    public LayerKind kind() {
        return LayerKind.ACTIVATION;
    }

    @Override
    public int outputSize(int inputSize) {
        InvalidArgumentException.check(inputSize % length == 0, "softmax", "rows of " + length
                + " do not tile an input of " + inputSize + " features");
        return inputSize;
    }
}
