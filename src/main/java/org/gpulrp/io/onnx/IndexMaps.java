package org.gpulrp.io.onnx;

import java.util.List;

/**
 * Where each element of a rearranged row-major tensor comes from: transposes, slices, gathers along an axis, numpy
 * broadcasts and concatenations, as one source index per output element. The constant evaluator ({@link ShapeGraph})
 * applies them to constants; the layout mappers apply them to each sample's features, where they become
 * {@link org.gpulrp.model.Index}, {@link org.gpulrp.model.Permute} or {@link org.gpulrp.model.Slice} layers. Sizes
 * are checked by the callers (at most {@code Integer.MAX_VALUE - 8} elements).
 */
final class IndexMaps {
    private IndexMaps() {
    }

    static int size(long[] dims) {
        long n = 1;
        for (long d : dims) {
            n *= d;
        }
        return (int) n;
    }

    static long[] strides(long[] dims) {
        long[] s = new long[dims.length];
        long st = 1;
        for (int j = dims.length - 1; j >= 0; j--) {
            s[j] = st;
            st *= dims[j];
        }
        return s;
    }

    /**
     * The source of each output element when output coordinate {@code c} reads input offset
     * {@code base + sum_j c[j] * step[j]} ({@code step} per output axis, in input elements).
     */
    private static int[] walk(long[] outDims, long base, long[] step) {
        int n = size(outDims);
        int[] index = new int[n];
        long[] coord = new long[outDims.length];
        long at = base;
        for (int o = 0; o < n; o++) {
            index[o] = (int) at;
            for (int j = outDims.length - 1; j >= 0; j--) {
                coord[j]++;
                at += step[j];
                if (coord[j] < outDims[j]) {
                    break;
                }
                at -= coord[j] * step[j];
                coord[j] = 0;
            }
        }
        return index;
    }

    /** Output axis j is input axis {@code perm[j]}. */
    static int[] transpose(long[] dims, int[] perm) {
        long[] st = strides(dims);
        long[] out = new long[dims.length];
        long[] step = new long[dims.length];
        for (int j = 0; j < dims.length; j++) {
            out[j] = dims[perm[j]];
            step[j] = st[perm[j]];
        }
        return walk(out, 0, step);
    }

    /** The dims after {@link #transpose}. */
    static long[] permuted(long[] dims, int[] perm) {
        long[] out = new long[dims.length];
        for (int j = 0; j < dims.length; j++) {
            out[j] = dims[perm[j]];
        }
        return out;
    }

    /** Axis j taken from {@code start[j]} in steps of {@code step[j]} for {@code outDims[j]} elements. */
    static int[] slice(long[] dims, long[] start, long[] step, long[] outDims) {
        long[] st = strides(dims);
        long base = 0;
        long[] s = new long[dims.length];
        for (int j = 0; j < dims.length; j++) {
            base += start[j] * st[j];
            s[j] = step[j] * st[j];
        }
        return walk(outDims, base, s);
    }

    /**
     * {@code take(indices, axis)}: the output is {@code dims[:axis] + indexDims + dims[axis+1:]}; {@code indices}
     * already within {@code 0 .. dims[axis] - 1}.
     */
    static int[] gather(long[] dims, int axis, long[] indices, long[] indexDims) {
        long outer = 1;
        for (int j = 0; j < axis; j++) {
            outer *= dims[j];
        }
        long inner = 1;
        for (int j = axis + 1; j < dims.length; j++) {
            inner *= dims[j];
        }
        int[] index = new int[(int) (outer * indices.length * inner)];
        int o = 0;
        for (long a = 0; a < outer; a++) {
            for (long i : indices) {
                long from = (a * dims[axis] + i) * inner;
                for (long b = 0; b < inner; b++) {
                    index[o++] = (int) (from + b);
                }
            }
        }
        return index;
    }

    /** The dims after {@link #gather}. */
    static long[] gathered(long[] dims, int axis, long[] indexDims) {
        long[] out = new long[dims.length - 1 + indexDims.length];
        System.arraycopy(dims, 0, out, 0, axis);
        System.arraycopy(indexDims, 0, out, axis, indexDims.length);
        System.arraycopy(dims, axis + 1, out, axis + indexDims.length, dims.length - axis - 1);
        return out;
    }

    /** Numpy broadcasting of {@code dims} (right-aligned, axes of size 1 repeated) to {@code outDims}. */
    static int[] broadcast(long[] dims, long[] outDims) {
        long[] st = strides(dims);
        long[] step = new long[outDims.length];
        int off = outDims.length - dims.length;
        for (int j = 0; j < dims.length; j++) {
            step[off + j] = dims[j] == 1 ? 0 : st[j];
        }
        return walk(outDims, 0, step);
    }

    /**
     * Concatenation along {@code axis}: the source of each output element as an offset into all inputs laid one
     * after another (input 0's elements first).
     */
    static int[] concat(List<long[]> dims, int axis) {
        long[] out = dims.get(0).clone();
        out[axis] = 0;
        for (long[] d : dims) {
            out[axis] += d[axis];
        }
        long outer = 1;
        for (int j = 0; j < axis; j++) {
            outer *= out[j];
        }
        int[] index = new int[size(out)];
        long[] start = new long[dims.size()];
        for (int k = 1; k < dims.size(); k++) {
            start[k] = start[k - 1] + size(dims.get(k - 1));
        }
        int o = 0;
        for (long a = 0; a < outer; a++) {
            for (int k = 0; k < dims.size(); k++) {
                long run = size(dims.get(k)) / outer;
                for (long r = 0; r < run; r++) {
                    index[o++] = (int) (start[k] + a * run + r);
                }
            }
        }
        return index;
    }

    /** Whether {@code index} is {@code 0, 1, 2, ...}. */
    static boolean identity(int[] index) {
        for (int i = 0; i < index.length; i++) {
            if (index[i] != i) {
                return false;
            }
        }
        return true;
    }

    /** Whether {@code index} is one run {@code a, a + 1, ...}. */
    static boolean contiguous(int[] index) {
        for (int i = 1; i < index.length; i++) {
            if (index[i] != index[0] + i) {
                return false;
            }
        }
        return index.length > 0 && index[0] >= 0;
    }

    /** Whether {@code index} uses every one of {@code 0 .. n - 1} exactly once. */
    static boolean permutation(int[] index, int n) {
        if (index.length != n) {
            return false;
        }
        boolean[] seen = new boolean[n];
        for (int v : index) {
            if (v < 0 || v >= n || seen[v]) {
                return false;
            }
            seen[v] = true;
        }
        return true;
    }
}
