package org.gpulrp.io.onnx;

import static org.gpulrp.io.onnx.NodeAttrs.attr;
import static org.gpulrp.io.onnx.NodeAttrs.intAttr;
import static org.gpulrp.io.onnx.ShapeGraph.in;
import static org.gpulrp.io.onnx.ShapeGraph.marker;
import static org.gpulrp.io.onnx.ShapeGraph.text;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import org.gpulrp.io.onnx.OnnxModel.Attribute;
import org.gpulrp.io.onnx.OnnxModel.NodeDef;
import org.gpulrp.io.onnx.ShapeGraph.ShapeValue;

/**
 * The tensor operations of {@link ShapeGraph} on constants of any rank: Gather along any axis, Unsqueeze and
 * Squeeze, Concat, Slice (several axes, any step), Transpose, Reshape, Expand and Trilu, through the source indices of
 * {@link IndexMaps}. Markers of the batch size travel through them as opaque values. Also the reading of a Slice's
 * arguments, which the layout mappers share.
 */
final class ShapeLayout {
    private ShapeLayout() {
    }

    static ShapeValue gather(MappingState ctx, NodeDef n, Where w) {
        NodeAttrs.allowOnly(n, w, Set.of("axis"));
        if (n.inputs().size() != 2) {
            throw w.fail("needs 2 inputs (data, indices), has " + n.inputs().size());
        }
        ShapeValue data = in(ctx, n, w, 0, "data");
        if (data.scalar()) {
            throw w.fail("gathers from a scalar; the data must be a list or a tensor");
        }
        int axis = axis(intAttr(n, w, "axis", 0), data.dims().length, w);
        ShapeValue idx = in(ctx, n, w, 1, "indices");
        long[] iv = indices(idx.v(), data.dims()[axis], w, data);
        long[] out = IndexMaps.gathered(data.dims(), axis, idx.dims());
        ShapeArithmetic.product(out, w);
        return data.pick(IndexMaps.gather(data.dims(), axis, iv, idx.dims()), out);
    }

    /** Gather's indices made non-negative, or an error naming one out of range of {@code len}. */
    static long[] indices(long[] iv, long len, Where w, ShapeValue data) {
        long[] out = new long[iv.length];
        for (int i = 0; i < iv.length; i++) {
            long j = iv[i] < 0 && !marker(iv[i]) ? iv[i] + len : iv[i];
            if (marker(iv[i]) || j < 0 || j >= len) {
                throw w.fail("index " + text(new long[] {iv[i]}) + " is out of range for "
                        + (data == null || data.dims().length != 1 ? "an axis of " + len : text(data.v())));
            }
            out[i] = j;
        }
        return out;
    }

    /** An axis attribute in {@code 0 .. rank - 1} (negative counts from the end). */
    static int axis(long axis, int rank, Where w) {
        long a = axis < 0 ? axis + rank : axis;
        if (a < 0 || a >= rank) {
            throw w.fail("axis " + axis + " is out of range for rank " + rank);
        }
        return (int) a;
    }

    /** Unsqueeze inserts dims of size 1; Squeeze removes them (all, or those listed). */
    static ShapeValue squeeze(MappingState ctx, NodeDef n, Where w, boolean unsqueeze) {
        NodeAttrs.allowOnly(n, w, Set.of("axes"));
        ShapeValue data = in(ctx, n, w, 0, "data");
        return data.reshaped(squeezeDims(ctx, n, w, data.dims(), unsqueeze));
    }

    /** The dims after an Unsqueeze (or Squeeze) of {@code d}, its axes from the input (opset 13+) or attribute. */
    static long[] squeezeDims(MappingState ctx, NodeDef n, Where w, long[] d, boolean unsqueeze) {
        long[] axes = null;
        if (n.inputs().size() > 1 && !n.inputs().get(1).isEmpty()) {
            axes = in(ctx, n, w, 1, "axes").v();
        } else {
            Attribute a = attr(n, "axes");
            if (a != null && a.ints() != null) {
                axes = a.ints();
            }
        }
        List<Long> out = new ArrayList<>();
        if (unsqueeze) {
            if (axes == null || axes.length == 0) {
                throw w.fail("has no axes");
            }
            int rank = d.length + axes.length;
            boolean[] inserted = new boolean[rank];
            for (long a : axes) {
                long x = a < 0 ? a + rank : a;
                if (x < 0 || x >= rank || inserted[(int) x]) {
                    throw w.fail("axes " + Arrays.toString(axes) + " do not fit a rank-" + d.length + " input");
                }
                inserted[(int) x] = true;
            }
            for (int i = 0, j = 0; i < rank; i++) {
                out.add(inserted[i] ? 1L : d[j++]);
            }
        } else {
            boolean[] drop = new boolean[d.length];
            if (axes == null) {
                for (int i = 0; i < d.length; i++) {
                    drop[i] = d[i] == 1;
                }
            } else {
                for (long a : axes) {
                    long x = a < 0 ? a + d.length : a;
                    if (x < 0 || x >= d.length || d[(int) x] != 1) {
                        throw w.fail("axes " + Arrays.toString(axes) + " do not name dims of size 1 of "
                                + text(d));
                    }
                    drop[(int) x] = true;
                }
            }
            for (int i = 0; i < d.length; i++) {
                if (!drop[i]) {
                    out.add(d[i]);
                }
            }
        }
        return out.stream().mapToLong(Long::longValue).toArray();
    }

    static ShapeValue concat(MappingState ctx, NodeDef n, Where w) {
        NodeAttrs.allowOnly(n, w, Set.of("axis"));
        List<ShapeValue> parts = new ArrayList<>();
        boolean real = false;
        boolean f32 = false;
        for (int i = 0; i < n.inputs().size(); i++) {
            ShapeValue p = in(ctx, n, w, i, "input " + i);
            if (p.scalar()) {
                throw w.fail("concatenates a scalar; gpulrp evaluates Concat on lists and tensors (Concat needs "
                        + "lists)");
            }
            if (!parts.isEmpty() && p.dims().length != parts.get(0).dims().length) {
                throw w.fail("concatenates a rank-" + parts.get(0).dims().length + " tensor with a rank-"
                        + p.dims().length + " one");
            }
            real |= p.real();
            f32 |= p.f32();
            parts.add(p);
        }
        int rank = parts.get(0).dims().length;
        int axis = axis(intAttr(n, w, "axis", 0), rank, w);
        List<long[]> dims = new ArrayList<>();
        long total = 0;
        for (ShapeValue p : parts) {
            for (int j = 0; j < rank; j++) {
                if (j != axis && p.dims()[j] != parts.get(0).dims()[j]) {
                    throw w.fail("concatenates shapes " + text(parts.get(0).dims()) + " and " + text(p.dims())
                            + " along axis " + axis);
                }
            }
            dims.add(p.dims());
            total += p.size();
        }
        long[] outI = new long[(int) total];
        double[] outR = new double[(int) total];
        int at = 0;
        for (ShapeValue p : parts) {
            if (real) {
                System.arraycopy(p.d(), 0, outR, at, p.size());
            } else {
                System.arraycopy(p.ints(), 0, outI, at, p.size());
            }
            at += p.size();
        }
        long[] out = parts.get(0).dims().clone();
        out[axis] = dims.stream().mapToLong(d -> d[axis]).sum();
        ShapeArithmetic.product(out, w);
        ShapeValue stacked = real ? new ShapeValue(null, outR, new long[] {total}, f32)
                : new ShapeValue(outI, null, new long[] {total});
        return stacked.pick(IndexMaps.concat(dims, axis), out);
    }

    static ShapeValue slice(MappingState ctx, NodeDef n, Where w) {
        NodeAttrs.allowOnly(n, w, Set.of("starts", "ends", "axes"));
        ShapeValue data = in(ctx, n, w, 0, "data");
        if (data.scalar()) {
            throw w.fail("slices a scalar; gpulrp evaluates Slice on lists and tensors");
        }
        long[][] spec = sliceSpec(ctx, n, w, data.dims());
        long[] start = new long[spec.length];
        long[] step = new long[spec.length];
        long[] out = new long[spec.length];
        for (int j = 0; j < spec.length; j++) {
            start[j] = spec[j][0];
            step[j] = spec[j][1];
            out[j] = spec[j][2];
        }
        return data.pick(IndexMaps.slice(data.dims(), start, step, out), out);
    }

    /**
     * A Slice's arguments over a tensor of {@code dims}: per axis {@code {start, step, count}} as ONNX clamps them
     * (axes not listed are taken whole). An axis whose size is a batch marker must be taken whole; its entry is
     * {@code {0, 1, dims[j]}}.
     */
    static long[][] sliceSpec(MappingState ctx, NodeDef n, Where w, long[] dims) {
        long[] starts;
        long[] ends;
        long[] axes = null;
        long[] steps = null;
        if (n.inputs().size() >= 3) {
            starts = in(ctx, n, w, 1, "starts").v();
            ends = in(ctx, n, w, 2, "ends").v();
            if (n.inputs().size() > 3 && !n.inputs().get(3).isEmpty()) {
                axes = in(ctx, n, w, 3, "axes").v();
            }
            if (n.inputs().size() > 4 && !n.inputs().get(4).isEmpty()) {
                steps = in(ctx, n, w, 4, "steps").v();
            }
        } else {
            Attribute s = attr(n, "starts");
            Attribute e = attr(n, "ends");
            if (s == null || e == null || s.ints() == null || e.ints() == null) {
                throw w.fail("needs starts and ends");
            }
            starts = s.ints();
            ends = e.ints();
            Attribute a = attr(n, "axes");
            axes = a == null ? null : a.ints();
        }
        if (ends.length != starts.length || (axes != null && axes.length != starts.length)
                || (steps != null && steps.length != starts.length)) {
            throw w.fail("starts, ends, axes and steps differ in length");
        }
        int rank = dims.length;
        long[][] spec = new long[rank][];
        for (int j = 0; j < rank; j++) {
            spec[j] = new long[] {0, 1, dims[j]};
        }
        for (int i = 0; i < starts.length; i++) {
            int a = axis(axes == null ? i : axes[i], rank, w);
            long step = steps == null ? 1 : steps[i];
            if (step == 0 || marker(step) || marker(starts[i]) || marker(ends[i])) {
                throw w.fail("has step " + text(new long[] {step}) + ", start " + text(new long[] {starts[i]})
                        + ", end " + text(new long[] {ends[i]}) + "; they must be known, the step non-zero");
            }
            if (marker(dims[a])) {
                if (starts[i] != 0 || ends[i] < Integer.MAX_VALUE || step != 1) {
                    throw w.fail("slices the batch axis; gpulrp slices the features of each sample only");
                }
                continue;
            }
            long[] r = clampSlice(starts[i], ends[i], step, dims[a]);
            long count = step > 0 ? Math.max(0, (r[1] - r[0] + step - 1) / step)
                    : Math.max(0, (r[0] - r[1] - step - 1) / -step);
            spec[a] = new long[] {r[0], step, count};
        }
        return spec;
    }

    /** ONNX's clamping of one axis' start and end: {@code {start, end, step}} ready for a loop. */
    static long[] clampSlice(long start, long end, long step, long len) {
        long s = start < 0 ? start + len : start;
        long e = end < 0 ? end + len : end;
        if (step > 0) {
            s = Math.max(0, Math.min(s, len));
            e = Math.max(0, Math.min(e, len));
        } else {
            s = Math.max(-1, Math.min(s, len - 1));
            e = Math.max(-1, Math.min(e, len - 1));
        }
        return new long[] {s, e, step};
    }

    /** The dims a Reshape gives {@code data}: 0 copies (when the rank allows), -1 takes the rest. */
    static long[] reshapeDims(ShapeValue data, long[] to, Where w) {
        long total = data.size();
        long known = 1;
        int free = -1;
        long[] out = to.clone();
        for (int i = 0; i < out.length; i++) {
            if (out[i] == 0 && i < data.dims().length) {
                out[i] = data.dims()[i];
            }
            if (out[i] == -1 && free < 0) {
                free = i;
            } else if (out[i] < 0 || marker(out[i])) {
                throw w.fail("reshapes a shape list to " + text(to) + "; the target must be known");
            } else {
                known *= out[i];
            }
        }
        if (free >= 0) {
            out[free] = known == 0 ? 0 : total / known;
        }
        if (ShapeArithmetic.product(out, w) != total) {
            throw w.fail("reshapes " + total + " values to " + text(to));
        }
        return out;
    }

    /** The permutation of a Transpose of rank {@code rank} (reversed axes when {@code perm} is absent). */
    static int[] perm(NodeDef n, Where w, int rank) {
        Attribute p = attr(n, "perm");
        long[] perm = p == null || p.ints() == null ? null : p.ints();
        int[] out = new int[rank];
        boolean[] seen = new boolean[rank];
        boolean valid = perm == null || perm.length == rank;
        for (int i = 0; valid && i < rank; i++) {
            long v = perm == null ? rank - 1 - i : perm[i];
            valid = v >= 0 && v < rank && !seen[(int) v];
            if (valid) {
                seen[(int) v] = true;
                out[i] = (int) v;
            }
        }
        if (!valid) {
            throw w.fail("perm " + Arrays.toString(perm) + " is not a permutation of the " + rank + " axes");
        }
        return out;
    }

    static ShapeValue transpose(MappingState ctx, NodeDef n, Where w) {
        NodeAttrs.allowOnly(n, w, Set.of("perm"));
        ShapeValue x = in(ctx, n, w, 0, "data");
        int[] perm = perm(n, w, x.dims().length);
        return x.pick(IndexMaps.transpose(x.dims(), perm), IndexMaps.permuted(x.dims(), perm));
    }

    /**
     * Expand broadcasts its data to a shape (numpy rules). A batch marker in the shape, over an axis of size 1, is
     * left at 1: the constant is the same for every sample, and the output is recorded in
     * {@link MappingState#batchBroadcast} (a class token expanded over the batch).
     */
    static ShapeValue expand(MappingState ctx, NodeDef n, Where w) {
        NodeAttrs.allowOnly(n, w, Set.of());
        ShapeValue data = in(ctx, n, w, 0, "input");
        long[] shape = in(ctx, n, w, 1, "shape").v();
        long[] d = data.dims();
        int rank = Math.max(d.length, shape.length);
        long[] out = new long[rank];
        boolean overBatch = false;
        for (int i = 0; i < rank; i++) {
            long x = i - (rank - d.length) >= 0 ? d[i - (rank - d.length)] : 1;
            long y = i - (rank - shape.length) >= 0 ? shape[i - (rank - shape.length)] : 1;
            if (ShapeGraph.batchFactor(y) == 1 && x == 1) {
                overBatch = true;
                y = 1;
            }
            if (marker(y) || (x != y && x != 1 && y != 1)) {
                throw w.fail("expands " + text(d) + " to " + text(shape) + "; gpulrp expands constants to known "
                        + "shapes (or over the batch)");
            }
            out[i] = x == 1 ? y : x;
        }
        if (overBatch) {
            ctx.batchBroadcast.add(n.outputs().get(0));
        }
        ShapeArithmetic.product(out, w);
        return data.pick(IndexMaps.broadcast(d, out), out);
    }

    /** Trilu: the upper (or lower) triangle of the last two axes, from diagonal k; zeros elsewhere. */
    static ShapeValue trilu(MappingState ctx, NodeDef n, Where w) {
        NodeAttrs.allowOnly(n, w, Set.of("upper"));
        ShapeValue x = in(ctx, n, w, 0, "input");
        long[] d = x.dims();
        if (d.length < 2) {
            throw w.fail("needs a tensor of rank 2 or more, has rank " + d.length);
        }
        long k = 0;
        if (n.inputs().size() > 1 && !n.inputs().get(1).isEmpty()) {
            long[] kv = in(ctx, n, w, 1, "k").v();
            if (kv.length != 1 || marker(kv[0])) {
                throw w.fail("needs a known scalar k");
            }
            k = kv[0];
        }
        boolean upper = intAttr(n, w, "upper", 1) != 0;
        long rows = d[d.length - 2];
        long cols = d[d.length - 1];
        int[] index = new int[x.size()];
        for (int i = 0; i < index.length; i++) {
            long r = (i / cols) % rows;
            long c = i % cols;
            index[i] = (upper ? c - r >= k : c - r <= k) ? i : -1;
        }
        return x.pick(index, d);
    }

    /** ScatterND without reduction: rows of the updates written over the data at the indexed places. */
    static ShapeValue scatterND(MappingState ctx, NodeDef n, Where w) {
        NodeAttrs.allowOnly(n, w, Set.of("reduction"));
        if (!NodeAttrs.stringAttr(n, "reduction", "none").equals("none")) {
            throw w.fail("reduction '" + NodeAttrs.stringAttr(n, "reduction", "") + "' is not supported (none)");
        }
        ShapeValue data = in(ctx, n, w, 0, "data");
        ShapeValue idx = in(ctx, n, w, 1, "indices");
        ShapeValue updates = in(ctx, n, w, 2, "updates");
        long[] d = data.dims();
        long[] id = idx.dims();
        int k = id.length == 0 ? 0 : (int) id[id.length - 1];
        if (id.length == 0 || k > d.length || data.real() != updates.real()) {
            throw w.fail("scatters indices of shape " + text(id) + " into " + text(d));
        }
        long[] strides = IndexMaps.strides(d);
        long slice = d.length == k ? 1 : strides[k - 1];
        int rows = idx.size() / Math.max(k, 1);
        if ((long) rows * slice != updates.size()) {
            throw w.fail("scatters " + updates.size() + " values for " + rows + " rows of " + slice);
        }
        int[] index = new int[data.size()];
        for (int o = 0; o < index.length; o++) {
            index[o] = o;
        }
        long[] iv = idx.v();
        for (int r = 0; r < rows; r++) {
            long at = 0;
            for (int j = 0; j < k; j++) {
                long x = iv[r * k + j];
                x = x < 0 ? x + d[j] : x;
                if (marker(iv[r * k + j]) || x < 0 || x >= d[j]) {
                    throw w.fail("index " + iv[r * k + j] + " is out of range for an axis of " + d[j]);
                }
                at += x * strides[j];
            }
            for (long e = 0; e < slice; e++) {
                index[(int) (at + e)] = data.size() + (int) (r * slice + e);
            }
        }
        ShapeValue stacked = data.real()
                ? new ShapeValue(null, concat(data.reals(), updates.reals()), new long[] {data.size() + updates.size()},
                        data.f32())
                : new ShapeValue(concat(data.ints(), updates.ints()), null, new long[] {data.size() + updates.size()});
        return stacked.pick(index, d);
    }

    private static double[] concat(double[] a, double[] b) {
        double[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    private static long[] concat(long[] a, long[] b) {
        long[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
