package org.gpulrp.model;

/**
 * One operation of a network. Layers are immutable values; a {@link Node} gives a layer its name and its place in
 * the graph. New kinds (convolution, pooling, residual additions) join as new permitted types.
 */
public sealed interface Layer permits Dense, Activation, Identity {

    LayerKind kind();

    /** Output feature count for the given input feature count; throws when the input does not fit. */
    int outputSize(int inputSize);
}
