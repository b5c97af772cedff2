package org.gpulrp.model;

import org.gpulrp.InvalidArgumentException;

/**
 * A contiguous range of each sample's features, {@code z = x[start, start + length)}: for NCHW samples, a range of
 * whole channels (ONNX {@code Split} and {@code Slice} along the channel axis). Relevance moves back by position;
 * the features outside the range receive none from this node.
 *
 * @param start  first feature taken, >= 0
 * @param length features taken, >= 1
 */
public record Slice(int start, int length) implements Layer {

    public Slice {
        InvalidArgumentException.check(start >= 0, "start", "must be >= 0, got " + start);
        InvalidArgumentException.check(length >= 1, "length", "must be >= 1, got " + length);
    }

    @Override
    public LayerKind kind() {
        return LayerKind.IDENTITY;
    }

    @Override
    public int outputSize(int inputSize) {
        InvalidArgumentException.check((long) start + length <= inputSize, "slice", "features [" + start + ", "
                + ((long) start + length) + ") do not fit an input of " + inputSize);
        return length;
    }
}
