package org.gpulrp.model;

/** Coarse kinds of layers, used by composites to assign rules. */
public enum LayerKind {
    /** Fully connected (PyTorch {@code nn.Linear}, ONNX {@code Gemm}). */
    DENSE,
    /** 2-D convolution (PyTorch {@code nn.Conv2d}, ONNX {@code Conv}). */
    CONV,
    /**
     * Pooling and other fixed maps without learned parameters: max pooling routes relevance to each window's arg-max;
     * average pooling and constant scaling use the epsilon formula on their own linear map. Composites do not assign
     * rules to them.
     */
    POOL,
    /** Elementwise activations; LRP passes relevance through them unchanged. */
    ACTIVATION,
    /**
     * Layers that move values without changing them: Identity (flatten, Dropout at inference), slices and
     * permutations. Relevance moves back by position.
     */
    IDENTITY,
    /**
     * Layers that join branches: residual additions (relevance split in proportion to each branch's contribution,
     * the stabilized "Norm" rule) and concatenations (relevance split by position).
     */
    MERGE,
    /**
     * Layer and RMS normalization: the normalizer is a constant, the centering is explained by the epsilon rule, the
     * scale passes relevance, the shift absorbs its share (AttnLRP). Composites do not assign rules to them.
     */
    NORM,
    /** Table lookups (token embeddings): relevance stops there, summed over each token's row. */
    EMBEDDING;

    /** True for layers that carry weights and get an LRP rule. */
    public boolean isLinear() {
        return this == DENSE || this == CONV;
    }
}
