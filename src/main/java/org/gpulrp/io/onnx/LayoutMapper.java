package org.gpulrp.io.onnx;

import static org.gpulrp.io.onnx.NodeAttrs.allowOnly;
import static org.gpulrp.io.onnx.NodeAttrs.attr;
import static org.gpulrp.io.onnx.NodeAttrs.intAttr;

import java.util.Arrays;
import java.util.Set;
import org.gpulrp.LrpException;
import org.gpulrp.io.onnx.MappingState.Value;
import org.gpulrp.io.onnx.OnnxModel.Attribute;
import org.gpulrp.io.onnx.OnnxModel.NodeDef;
import org.gpulrp.model.Permute;
import org.gpulrp.model.Slice;

/**
 * Maps the operators that take apart or reorder each sample's features: Split and Slice along the channel axis (one
 * {@link Slice} per used output) and Transpose keeping the batch axis first ({@link Permute}; with the Reshapes
 * around it, a channel shuffle).
 */
final class LayoutMapper {
    private LayoutMapper() {
    }

    /** Transpose with the batch axis kept first: a permutation of each sample's features (none when the identity). */
    static void transpose(MappingState ctx, NodeDef n, Where w, int k) {
        allowOnly(n, w, Set.of("perm"));
        NodeAttrs.singleInput(n, w, 1);
        long[] s = known(ctx, w);
        int rank = s.length + 1;
        Attribute a = attr(n, "perm");
        long[] perm = a == null || a.ints() == null ? null : a.ints();
        if (perm == null) {
            perm = new long[rank];
            for (int i = 0; i < rank; i++) {
                perm[i] = rank - 1 - i;
            }
        }
        boolean valid = perm.length == rank;
        boolean[] seen = new boolean[rank];
        for (int i = 0; valid && i < rank; i++) {
            valid = perm[i] >= 0 && perm[i] < rank && !seen[(int) perm[i]];
            if (valid) {
                seen[(int) perm[i]] = true;
            }
        }
        if (!valid) {
            throw w.fail("perm " + Arrays.toString(perm) + " is not a permutation of the " + rank + " axes");
        }
        if (perm[0] != 0) {
            throw w.fail("perm " + Arrays.toString(perm) + " moves the batch axis; gpulrp transposes the axes of "
                    + "each sample only (perm[0] = 0)");
        }
        long total = MappingState.product(s);
        if (total > Integer.MAX_VALUE - 8) {
            throw w.fail("transposes " + total + " features per sample; too many");
        }
        long[] out = new long[s.length];
        long[] stride = new long[s.length];
        long st = 1;
        for (int j = s.length - 1; j >= 0; j--) {
            stride[j] = st;
            st *= s[j];
        }
        long[] srcStride = new long[s.length];
        boolean identity = true;
        for (int i = 0; i < s.length; i++) {
            int src = (int) perm[i + 1] - 1;
            out[i] = s[src];
            srcStride[i] = stride[src];
            identity &= src == i;
        }
        if (identity || total == 1) {
            ctx.values.put(n.outputs().get(0), new Value(ctx.source, out)); // nothing moves
            ctx.produced = null;
            return;
        }
        int[] index = new int[(int) total];
        long[] coord = new long[s.length];
        long from = 0;
        for (int o = 0; o < index.length; o++) {
            index[o] = (int) from;
            for (int j = s.length - 1; j >= 0; j--) {
                coord[j]++;
                from += srcStride[j];
                if (coord[j] < out[j]) {
                    break;
                }
                from -= coord[j] * srcStride[j];
                coord[j] = 0;
            }
        }
        ctx.addStep(ctx.layerName(n, k), w, new Permute(index));
        ctx.features = out;
    }

    /** Split along one axis: a Slice layer per output that something reads. */
    static void split(MappingState ctx, NodeDef n, Where w, int k) {
        allowOnly(n, w, Set.of("axis", "split", "num_outputs"));
        long[] s = known(ctx, w);
        int axis = axis(intAttr(n, w, "axis", 0), s, w);
        long dim = s[axis - 1];
        int parts = n.outputs().size();
        long[] sizes;
        if (n.inputs().size() > 1 && !n.inputs().get(1).isEmpty()) {
            sizes = ShapeGraph.in(ctx, n, w, 1, "split").v();
        } else if (attr(n, "split") != null && attr(n, "split").ints() != null) {
            sizes = attr(n, "split").ints();
        } else {
            long chunk = (dim + parts - 1) / parts; // equal parts, the last smaller (opset 18)
            sizes = new long[parts];
            for (int i = 0; i < parts; i++) {
                sizes[i] = Math.max(0, Math.min(chunk, dim - i * chunk));
            }
        }
        long sum = 0;
        for (long x : sizes) {
            if (x < 0 || ShapeGraph.marker(x)) {
                sum = -1;
                break;
            }
            sum += x;
        }
        if (sizes.length != parts || sum != dim) {
            throw w.fail("splits " + dim + " along axis " + axis + " into " + ShapeGraph.text(sizes) + " for " + parts
                    + " outputs; the sizes must add up to the axis");
        }
        String base = ctx.layerName(n, k);
        long at = 0;
        for (int i = 0; i < parts; i++) {
            String out = n.outputs().get(i);
            if (!out.isEmpty() && ctx.uses.getOrDefault(out, 0) > 0) {
                String name = i == 0 ? base : ctx.unique(base + "." + i);
                long[] shape = slice(ctx, w, name, s, axis, at, sizes[i]);
                ctx.values.put(out, new Value(name, shape));
            }
            at += sizes[i];
        }
        ctx.produced = null;
    }

    /** Slice with step 1 along one axis of each sample (other axes, and the batch axis, taken whole). */
    static void slice(MappingState ctx, NodeDef n, Where w, int k) {
        allowOnly(n, w, Set.of("starts", "ends", "axes"));
        long[] s = known(ctx, w);
        int rank = s.length + 1;
        long[] starts;
        long[] ends;
        long[] axes = null;
        long[] steps = null;
        if (n.inputs().size() >= 3) {
            starts = ShapeGraph.in(ctx, n, w, 1, "starts").v();
            ends = ShapeGraph.in(ctx, n, w, 2, "ends").v();
            if (n.inputs().size() > 3 && !n.inputs().get(3).isEmpty()) {
                axes = ShapeGraph.in(ctx, n, w, 3, "axes").v();
            }
            if (n.inputs().size() > 4 && !n.inputs().get(4).isEmpty()) {
                steps = ShapeGraph.in(ctx, n, w, 4, "steps").v();
            }
        } else {
            Attribute sa = attr(n, "starts");
            Attribute ea = attr(n, "ends");
            if (sa == null || ea == null || sa.ints() == null || ea.ints() == null) {
                throw w.fail("needs starts and ends");
            }
            starts = sa.ints();
            ends = ea.ints();
            axes = attr(n, "axes") == null ? null : attr(n, "axes").ints();
        }
        if (ends.length != starts.length || (axes != null && axes.length != starts.length)
                || (steps != null && steps.length != starts.length)) {
            throw w.fail("starts, ends, axes and steps differ in length");
        }
        int sliced = -1;
        long start = 0;
        long length = 0;
        for (int i = 0; i < starts.length; i++) {
            long ax = axes == null ? i : axes[i];
            long step = steps == null ? 1 : steps[i];
            if (ShapeGraph.marker(starts[i]) || ShapeGraph.marker(ends[i]) || ShapeGraph.marker(step)) {
                throw w.fail("has a start, end or step that depends on the batch size");
            }
            int a = (int) (ax < 0 ? ax + rank : ax);
            if (a < 0 || a >= rank) {
                throw w.fail("axis " + ax + " is out of range for rank " + rank);
            }
            if (a == 0) {
                if (starts[i] != 0 || ends[i] < Integer.MAX_VALUE || step != 1) {
                    throw w.fail("slices the batch axis; gpulrp slices the features of each sample only");
                }
                continue;
            }
            long len = s[a - 1];
            long[] r = ShapeGraph.clampSlice(starts[i], ends[i], step, len);
            if (r[0] == 0 && r[1] == len && step == 1) {
                continue; // the whole axis
            }
            if (step != 1 || sliced >= 0) {
                throw w.fail("slices with step " + step + (sliced >= 0 ? " along more than one axis" : "")
                        + "; gpulrp takes a contiguous range along one axis (step 1)");
            }
            sliced = a;
            start = r[0];
            length = r[1] - r[0];
        }
        if (sliced < 0) {
            ctx.values.put(n.outputs().get(0), new Value(ctx.source, s)); // the whole tensor
            ctx.produced = null;
            return;
        }
        String name = ctx.layerName(n, k);
        ctx.features = slice(ctx, w, name, s, axis(sliced, s, w), start, length);
    }

    /** Adds the Slice layer of range [at, at + len) along {@code axis} (1-based over the sample); its shape. */
    private static long[] slice(MappingState ctx, Where w, String name, long[] s, int axis, long at, long len) {
        if (len <= 0) {
            throw w.fail("takes an empty range of axis " + axis + "; gpulrp takes at least one element");
        }
        long inner = 1;
        for (int j = axis; j < s.length; j++) {
            inner *= s[j];
        }
        long[] out = s.clone();
        out[axis - 1] = len;
        try {
            ctx.addStep(name, w, new Slice(Math.toIntExact(at * inner), Math.toIntExact(len * inner)));
        } catch (LrpException | ArithmeticException e) {
            throw w.fail(e.getMessage());
        }
        return out;
    }

    /**
     * The axis (1-based over the sample; the batch is 0) along which a range of features is contiguous: every axis
     * before it must have size 1 (the channel axis of NCHW, or the feature axis of [N, F]).
     */
    private static int axis(long ax, long[] s, Where w) {
        int rank = s.length + 1;
        long a = ax < 0 ? ax + rank : ax;
        if (a < 1 || a >= rank) {
            throw w.fail("axis " + ax + " is not supported on a rank-" + rank + " input; gpulrp splits and slices "
                    + "the axes of each sample (axis 1, the channels, for NCHW), not the batch");
        }
        for (int j = 0; j < a - 1; j++) {
            if (s[j] != 1) {
                throw w.fail("axis " + ax + " of shape [batch, " + joined(s) + "] is not supported; gpulrp splits "
                        + "and slices along the channel axis (axis 1), where each part is one contiguous range");
            }
        }
        return (int) a;
    }

    private static String joined(long[] s) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < s.length; i++) {
            b.append(i > 0 ? ", " : "").append(s[i]);
        }
        return b.toString();
    }

    private static long[] known(MappingState ctx, Where w) {
        if (ctx.features == null) {
            throw w.fail("reads a value of unknown shape; give the graph input a fixed [N, C, H, W] shape");
        }
        return ctx.features;
    }
}
