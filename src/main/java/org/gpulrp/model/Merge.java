package org.gpulrp.model;

import java.util.List;

/** A layer that joins two or more branches of the graph. */
public sealed interface Merge extends Layer permits Add, Concat, Multiply, MatMul {

    @Override
    default LayerKind kind() {
        return LayerKind.MERGE;
    }

    @Override
    default int outputSize(int inputSize) {
        throw new org.gpulrp.InvalidArgumentException("inputs", "a merge layer takes two or more inputs");
    }

    @Override
    int outputSize(List<Integer> inputSizes);
}
