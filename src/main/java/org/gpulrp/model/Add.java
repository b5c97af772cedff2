package org.gpulrp.model;

import java.util.List;
import org.gpulrp.InvalidArgumentException;
import org.gpulrp.ShapeMismatchException;

/**
 * Residual addition {@code z = a + b (+ ...)}, summed in input order. LRP splits the relevance in proportion to each
 * input's contribution: {@code R_a = a * R / stab(z)} (the epsilon formula on the addition's own linear map).
 */
public record Add() implements Merge {
    @Override
    public int outputSize(List<Integer> inputSizes) {
        InvalidArgumentException.check(inputSizes.size() >= 2, "inputs", "add needs two or more inputs, got "
                + inputSizes.size());
        for (int s : inputSizes) {
            if (s != inputSizes.get(0)) {
                throw new ShapeMismatchException("add inputs", "equal sizes", inputSizes.toString());
            }
        }
        return inputSizes.get(0);
    }
}
