package org.gpulrp.model;

import java.util.List;
import org.gpulrp.InvalidArgumentException;

/**
 * Concatenation of the inputs' features in input order (for NCHW tensors with equal H and W this is concatenation
 * along the channels). Relevance is split back by position.
 */
public record Concat() implements Merge {
    @Override
    public int outputSize(List<Integer> inputSizes) {
        InvalidArgumentException.check(inputSizes.size() >= 2, "inputs", "concat needs two or more inputs, got "
                + inputSizes.size());
        int sum = 0;
        for (int s : inputSizes) {
            sum = Math.addExact(sum, s);
        }
        return sum;
    }
}
