package org.gpulrp.model;

import java.util.Arrays;
import org.gpulrp.InvalidArgumentException;

/**
 * A gather within each sample, {@code z[i] = x[index[i]]}, or 0 where {@code index[i] < 0}: transposes and head
 * splits, slices along any axis, broadcasting ({@code Expand}; an input feature may be read many times), and
 * room for a constant (an {@link Offset} fills the zero slots, as a class token). Values are unchanged; relevance
 * moves back by position and is summed where a feature was read more than once (in ascending output order).
 */
public final class Index implements Layer {
    private final int inputSize;
    private final int[] index;

    /**
     * @param inputSize features of the input, >= 1
     * @param index     for each output feature, the input feature it copies ({@code 0 .. inputSize - 1}) or -1
     *                  for zero; copied
     */
    public Index(int inputSize, int[] index) {
        InvalidArgumentException.check(inputSize >= 1, "inputSize", "must be >= 1, got " + inputSize);
        InvalidArgumentException.check(index != null && index.length > 0, "index", "must not be empty");
        for (int i = 0; i < index.length; i++) {
            int v = index[i];
            if (!(v >= -1 && v < inputSize)) {   // the message only on failure: an index can be long
                throw new InvalidArgumentException("index", "entry " + i + " is " + v + "; must be -1 or in 0.."
                        + (inputSize - 1));
            }
        }
        this.inputSize = inputSize;
        this.index = index.clone();
    }

    public int inputSize() {
        return inputSize;
    }

    /** The source feature of each output feature, -1 for zero (a copy). */
    public int[] index() {
        return index.clone();
    }

    @Override
    public LayerKind kind() {
        return LayerKind.IDENTITY;
    }

    @Override
    public int outputSize(int in) {
        InvalidArgumentException.check(in == inputSize, "index", "gathers from " + inputSize
                + " features, the input has " + in);
        return index.length;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Index x && x.inputSize == inputSize && Arrays.equals(index, x.index);
    }

    @Override
    public int hashCode() {
        return 31 * inputSize + Arrays.hashCode(index);
    }

    @Override
    public String toString() {
        return "Index[" + inputSize + " -> " + index.length + "]";
    }
}
