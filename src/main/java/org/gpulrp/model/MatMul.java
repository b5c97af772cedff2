package org.gpulrp.model;

import java.util.List;
import org.gpulrp.InvalidArgumentException;
import org.gpulrp.ShapeMismatchException;

/**
 * The product of two activations, batched over {@code batch} matrices per sample: {@code a [batch, m, k]} times
 * {@code b [batch, k, n]} gives {@code z [batch, m, n]}, row-major (attention's {@code Q K^T} and {@code A V}; the
 * transposes before it are {@link Index} nodes). The first input is {@code a}. Relevance follows the composite's
 * attention mode: the epsilon rule on the products then half to each operand (AttnLRP's uniform rule), or all of it
 * to the operand that is not attention weights (CP-LRP). docs/DESIGN.md section 2.9.
 *
 * @param batch matrices per sample, >= 1 (attention heads)
 * @param m     rows of {@code a}
 * @param k     the shared dimension
 * @param n     columns of {@code b}
 */
public record MatMul(int batch, int m, int k, int n) implements Merge {

    public MatMul {
        InvalidArgumentException.check(batch >= 1 && m >= 1 && k >= 1 && n >= 1, "matmul", "needs sizes >= 1, got "
                + batch + " x [" + m + " x " + k + "] x [" + k + " x " + n + "]");
    }

    @Override
    public int outputSize(List<Integer> inputSizes) {
        InvalidArgumentException.check(inputSizes.size() == 2, "inputs", "a matrix product takes exactly two inputs, "
                + "got " + inputSizes.size());
        if (inputSizes.get(0) != (long) batch * m * k || inputSizes.get(1) != (long) batch * k * n) {
            throw new ShapeMismatchException("matmul inputs", "[" + batch + ", " + m + ", " + k + "] and [" + batch
                    + ", " + k + ", " + n + "]", inputSizes.toString());
        }
        return Math.toIntExact((long) batch * m * n);
    }
}
