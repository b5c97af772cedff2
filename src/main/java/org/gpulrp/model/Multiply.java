package org.gpulrp.model;

import java.util.List;
import org.gpulrp.InvalidArgumentException;
import org.gpulrp.ShapeMismatchException;

/**
 * The elementwise product of two activations, {@code z = a * g}: a squeeze-and-excitation gate ({@code g} one value
 * per channel, broadcast over the {@code spatial} positions of each channel of {@code a}) or, with
 * {@code spatial = 1}, two tensors of the same size. The first input is {@code a}, the second {@code g}. It carries
 * no LRP rule: relevance follows the composite's {@link org.gpulrp.composite.Products} choice (docs/DESIGN.md
 * section 2.5).
 *
 * @param spatial positions per channel of {@code a} that share one value of {@code g}, >= 1
 */
public record Multiply(int spatial) implements Merge {

    public Multiply {
        InvalidArgumentException.check(spatial >= 1, "spatial", "must be >= 1, got " + spatial);
    }

    @Override
    public int outputSize(List<Integer> inputSizes) {
        InvalidArgumentException.check(inputSizes.size() == 2, "inputs", "a product takes exactly two inputs, got "
                + inputSizes.size());
        long gate = (long) inputSizes.get(1) * spatial;
        if (gate != inputSizes.get(0)) {
            throw new ShapeMismatchException("product inputs", "a feature map of " + gate + " values (gate "
                    + inputSizes.get(1) + " x " + spatial + " positions)", inputSizes.toString());
        }
        return inputSizes.get(0);
    }
}
