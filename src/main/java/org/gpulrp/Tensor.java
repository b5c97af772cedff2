package org.gpulrp;

import java.util.Arrays;

/**
 * A dense float32 array with a shape, row-major; the first dimension is the batch. Immutable: the data is copied in
 * and out.
 */
public final class Tensor {
    private final float[] data;
    private final int[] shape;

    public Tensor(float[] data, int... shape) {
        if (shape.length == 0) {
            throw new ShapeMismatchException("tensor shape", "at least one dimension (the batch)", "no dimensions");
        }
        long n = 1;
        for (int s : shape) {
            if (s < 0) {
                throw new ShapeMismatchException("tensor shape", "non-negative sizes", Arrays.toString(shape));
            }
            n *= s;
        }
        if (n != data.length) {
            throw new ShapeMismatchException("tensor data", n + " values for shape " + Arrays.toString(shape),
                    data.length + " values");
        }
        this.data = data.clone();
        this.shape = shape.clone();
    }

    /** Wraps without copying; for the library's own results. */
    static Tensor wrap(float[] data, int... shape) {
        return new Tensor(shape, data);
    }

    private Tensor(int[] shape, float[] data) {
        this.data = data;
        this.shape = shape;
    }

    /** From rows of equal length. */
    public static Tensor ofRows(float[][] rows) {
        int cols = rows.length == 0 ? 0 : rows[0].length;
        float[] d = new float[rows.length * cols];
        for (int b = 0; b < rows.length; b++) {
            if (rows[b].length != cols) {
                throw new ShapeMismatchException("row " + b, cols + " values", rows[b].length + " values");
            }
            System.arraycopy(rows[b], 0, d, b * cols, cols);
        }
        return wrap(d, rows.length, cols);
    }

    public int[] shape() {
        return shape.clone();
    }

    /** Size of the first dimension (the batch). */
    public int rows() {
        return shape[0];
    }

    /** Values per row (product of all but the first dimension). */
    public int rowSize() {
        return shape[0] == 0 ? 0 : data.length / shape[0];
    }

    public float get(int row, int col) {
        return data[row * rowSize() + col];
    }

    public float[] row(int row) {
        int n = rowSize();
        return Arrays.copyOfRange(data, row * n, row * n + n);
    }

    /** A copy of all values, row-major. */
    public float[] toArray() {
        return data.clone();
    }

    public float[][] toRows() {
        float[][] out = new float[rows()][];
        for (int b = 0; b < out.length; b++) {
            out[b] = row(b);
        }
        return out;
    }

    /** The backing array, for callers inside the library that promise not to write to it. */
    float[] view() {
        return data;
    }

    @Override
    public String toString() {
        return "Tensor" + Arrays.toString(shape);
    }
}
