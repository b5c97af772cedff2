package org.gpulrp.model;

/**
 * One operation of a network. Layers are immutable values; a {@link Node} gives a layer its name and its place in
 * the graph. A new kind of layer joins as a new permitted type (docs/DESIGN.md section 5.2 lists the other files).
 */
public sealed interface Layer permits Dense, Conv2d, MaxPool2d, AvgPool2d, BatchNorm, Activation, Identity, Slice, Scale,
        Permute, Merge, LayerNorm, Softmax, Index, Offset, Embedding {

    LayerKind kind();

    /** Output feature count for the given input feature count; throws when the input does not fit. */
    int outputSize(int inputSize);

    /** Output feature count for the given inputs; single-input layers take exactly one. */
    default int outputSize(java.util.List<Integer> inputSizes) {
        if (inputSizes.size() != 1) {
            throw new org.gpulrp.InvalidArgumentException("inputs", kind() + " layers take exactly one input, got "
                    + inputSizes.size());
        }
        return outputSize(inputSizes.get(0));
    }
}
