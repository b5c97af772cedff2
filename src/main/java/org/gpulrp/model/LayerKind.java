package org.gpulrp.model;

/** Coarse kinds of layers, used by composites to assign rules. */
public enum LayerKind {
    /** Fully connected (PyTorch {@code nn.Linear}, ONNX {@code Gemm}). */
    DENSE,
    /** Elementwise activations; LRP passes relevance through them unchanged. */
    ACTIVATION,
    /** Layers that do nothing to values (Identity, Dropout at inference). */
    IDENTITY,
    /**
     * Layers that join branches: residual additions (relevance split in proportion to each branch's contribution,
     * the stabilized "Norm" rule) and concatenations (relevance split by position).
     */
    MERGE;

    /** True for layers that carry weights and get an LRP rule. */
    public boolean isLinear() {
        return this == DENSE;
    }
}
