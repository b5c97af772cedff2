package org.gpulrp.model;

import java.util.Arrays;
import org.gpulrp.InvalidArgumentException;

/**
 * A reordering of each sample's features, {@code z[i] = x[index[i]]}, where {@code index} is a permutation: a
 * channel shuffle (ONNX {@code Reshape}, {@code Transpose}, {@code Reshape}) or another transpose of the sample's
 * axes. Values are unchanged; relevance moves back by position.
 */
public final class Permute implements Layer {
    private final int[] index;

    /** @param index a permutation of {@code 0 .. index.length - 1}; copied */
    public Permute(int[] index) {
        InvalidArgumentException.check(index != null && index.length > 0, "index", "must not be empty");
        boolean[] seen = new boolean[index.length];
        for (int i = 0; i < index.length; i++) {
            int v = index[i];
            InvalidArgumentException.check(v >= 0 && v < index.length && !seen[v], "index", "must be a "
                    + "permutation of 0.." + (index.length - 1) + "; entry " + i + " is " + v);
            seen[v] = true;
        }
        this.index = index.clone();
    }

    /** The source feature of each output feature (a copy). */
    public int[] index() {
        return index.clone();
    }

    /**
     * The permutation as runs of consecutive features: {@code {outStart, inStart, length}} triples in output order,
     * each run as long as possible (a channel shuffle is one run per channel).
     */
    public int[][] runs() {
        java.util.List<int[]> out = new java.util.ArrayList<>();
        int i = 0;
        while (i < index.length) {
            int j = i + 1;
            while (j < index.length && index[j] == index[j - 1] + 1) {
                j++;
            }
            out.add(new int[] {i, index[i], j - i});
            i = j;
        }
        return out.toArray(new int[0][]);
    }

    @Override
    public LayerKind kind() {
        return LayerKind.IDENTITY;
    }

    @Override
    public int outputSize(int inputSize) {
        InvalidArgumentException.check(inputSize == index.length, "permute", "reorders " + index.length
                + " features, the input has " + inputSize);
        return inputSize;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Permute p && Arrays.equals(index, p.index);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(index);
    }

    @Override
    public String toString() {
        return "Permute[" + index.length + " features, " + runs().length + " runs]";
    }
}
