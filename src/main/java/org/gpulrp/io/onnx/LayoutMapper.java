package org.gpulrp.io.onnx;

import static org.gpulrp.io.onnx.NodeAttrs.allowOnly;
import static org.gpulrp.io.onnx.NodeAttrs.attr;
import static org.gpulrp.io.onnx.NodeAttrs.intAttr;

import java.util.Arrays;
import java.util.Set;
import org.gpulrp.LrpException;
import org.gpulrp.io.onnx.MappingState.Step;
import org.gpulrp.io.onnx.MappingState.Value;
import org.gpulrp.io.onnx.OnnxModel.NodeDef;
import org.gpulrp.io.onnx.ShapeGraph.ShapeValue;
import org.gpulrp.model.Index;
import org.gpulrp.model.Layer;
import org.gpulrp.model.Permute;
import org.gpulrp.model.Slice;

/**
 * Maps the operators that take apart or reorder each sample's values, on any axis but the batch: Transpose (a
 * {@link Permute}; one that only moves the batch axis moves nothing), Split and Slice (a {@link Slice} where the part
 * is one contiguous run of each sample's values, as a range of channels, else an {@link Index}), Gather with
 * constant indices ({@code x[:, 0]}), Unsqueeze and Squeeze (views, no layer) and Expand (an {@link Index} that reads
 * values more than once). Each works on {@link Value#perSample()}, so values whose batch is merged with other axes
 * (attention's {@code [S, B * heads, d]}) are rearranged too.
 */
final class LayoutMapper {
    private LayoutMapper() {
    }

    /**
     * Defines {@code out} as {@code in}'s values taken at {@code index} (-1: zero): no layer when nothing moves,
     * else the narrowest layer that does it, named {@code name}. Bounds of {@code in} travel along.
     */
    static Value rearrange(MappingState ctx, Where w, String name, Value in, int[] index, Value out) {
        long n = in.size();
        float[] lo = null;
        float[] hi = null;
        if (in.lo() != null) {
            lo = new float[index.length];
            hi = new float[index.length];
            for (int i = 0; i < index.length; i++) {
                lo[i] = index[i] < 0 ? 0 : in.lo()[index[i]];
                hi[i] = index[i] < 0 ? 0 : in.hi()[index[i]];
            }
        }
        if (index.length == n && IndexMaps.identity(index)) {
            return new Value(in.node(), out.shape(), out.batchAxis(), out.outer(), out.inner(), in.integer(), lo, hi);
        }
        Layer layer;
        try {
            layer = narrowest(index, (int) n);
        } catch (LrpException e) {
            throw w.fail(e.getMessage());
        }
        ctx.steps.add(new Step(name, w, layer, new String[] {in.node()}));
        return new Value(name, out.shape(), out.batchAxis(), out.outer(), out.inner(), in.integer(), lo, hi);
    }

    /**
     * Joins each gather layer that reads an {@link Index} read by nothing else (or an Index that reads such a layer)
     * into one: a head split's Slice and Transpose become one Index. The values and, relevance moving back by
     * position, the explanation are the same; one layer fewer.
     */
    static void joinGathers(MappingState ctx) {
        for (int i = 0; i < ctx.steps.size(); i++) {
            Step s = ctx.steps.get(i);
            int[] outer = gatherIndex(s.layer());
            Step p = outer == null || s.inputs().length != 1 ? null : ctx.step(s.inputs()[0]);
            int[] inner = p == null ? null : gatherIndex(p.layer());
            if (inner == null || !(s.layer() instanceof Index || p.layer() instanceof Index) || readers(ctx,
                    p.name()) != 1 || p.inputs().length != 1) {
                continue;
            }
            int[] joined = new int[outer.length];
            for (int o = 0; o < joined.length; o++) {
                joined[o] = outer[o] < 0 ? -1 : inner[outer[o]];
            }
            int n = p.layer() instanceof Index x ? x.inputSize() : p.layer() instanceof Permute q ? q.index().length
                    : -1;
            if (n < 0) {
                continue; // a Slice does not know its input's size; leave it
            }
            Layer layer = narrowest(joined, n);
            ctx.steps.set(i, new Step(s.name(), s.where(), layer, p.inputs()));
            ctx.steps.remove(p);
            i = -1; // the list changed: start over (chains are short)
        }
    }

    /** The narrowest layer that reads {@code index} of {@code n} features: a slice, a permutation, or a gather. */
    private static Layer narrowest(int[] index, int n) {
        return IndexMaps.contiguous(index) ? new Slice(index[0], index.length)
                : IndexMaps.permutation(index, n) ? new Permute(index) : new Index(n, index);
    }

    private static int[] gatherIndex(Layer l) {
        if (l instanceof Index x) {
            return x.index();
        } else if (l instanceof Permute p) {
            return p.index();
        } else if (l instanceof Slice s) {
            int[] index = new int[s.length()];
            for (int i = 0; i < index.length; i++) {
                index[i] = s.start() + i;
            }
            return index;
        }
        return null;
    }

    private static int readers(MappingState ctx, String name) {
        int r = 0;
        for (Step s : ctx.steps) {
            for (String in : s.inputs()) {
                r += in.equals(name) ? 1 : 0;
            }
        }
        return r;
    }

    /** Records the node's output value (a view or a new layer's output); nothing for GraphMapper to add. */
    private static void define(MappingState ctx, NodeDef n, Value v) {
        ctx.values.put(n.outputs().get(0), v);
        ctx.produced = null;
    }

    private static Value known(MappingState ctx, Where w) {
        if (ctx.current == null || ctx.current.shape() == null) {
            throw w.fail("reads a value of unknown shape; give the graph input a fixed [N, C, H, W] shape");
        }
        return ctx.current;
    }

    /** Transpose of any axes; the batch axis may move (its merged axes move with it). */
    static void transpose(MappingState ctx, NodeDef n, Where w, int k) {
        allowOnly(n, w, Set.of("perm"));
        NodeAttrs.singleInput(n, w, 1);
        Value v = known(ctx, w);
        int rank = v.shape().length + 1;
        int[] perm = ShapeLayout.perm(n, w, rank);
        long[] dims = v.onnxDims();
        int[] samplePerm = new int[rank + 1];
        long[] shape = new long[rank - 1];
        int batchAxis = -1;
        for (int j = 0, s = 0, o = 0; j < rank; j++) {
            if (perm[j] == v.batchAxis()) {
                batchAxis = j;
                samplePerm[s++] = v.batchAxis();
                samplePerm[s++] = v.batchAxis() + 1;
            } else {
                samplePerm[s++] = v.sampleAxis(perm[j]);
                shape[o++] = dims[perm[j]];
            }
        }
        Value out = new Value(null, shape, batchAxis, v.outer(), v.inner(), false, null, null);
        define(ctx, n, rearrange(ctx, w, ctx.layerName(n, k), v, IndexMaps.transpose(v.perSample(), samplePerm),
                out));
    }

    /** Split along one axis: a layer per output that something reads. */
    static void split(MappingState ctx, NodeDef n, Where w, int k) {
        allowOnly(n, w, Set.of("axis", "split", "num_outputs"));
        Value v = known(ctx, w);
        int axis = dataAxis(v, intAttr(n, w, "axis", 0), w, "splits");
        long dim = v.onnxDims()[axis];
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
                ctx.values.put(out, range(ctx, w, name, v, axis, at, 1, sizes[i]));
            }
            at += sizes[i];
        }
        ctx.produced = null;
    }

    /** Slice along any axes but the batch, any steps. */
    static void slice(MappingState ctx, NodeDef n, Where w, int k) {
        allowOnly(n, w, Set.of("starts", "ends", "axes"));
        Value v = known(ctx, w);
        long[][] spec = ShapeLayout.sliceSpec(ctx, n, w, v.onnxDims());
        long[] l = v.perSample();
        long[] start = new long[l.length];
        long[] step = new long[l.length];
        long[] count = l.clone();
        Arrays.fill(step, 1);
        long[] shape = v.shape().clone();
        for (int a = 0; a < spec.length; a++) {
            if (a == v.batchAxis()) {
                continue;
            }
            if (spec[a][2] <= 0) {
                throw w.fail("takes an empty range of axis " + a + "; gpulrp takes at least one element");
            }
            int s = v.sampleAxis(a);
            start[s] = spec[a][0];
            step[s] = spec[a][1];
            count[s] = spec[a][2];
            shape[a < v.batchAxis() ? a : a - 1] = spec[a][2];
        }
        define(ctx, n, rearrange(ctx, w, ctx.layerName(n, k), v, IndexMaps.slice(l, start, step, count),
                v.to(null, shape)));
    }

    /** The part [at, at + len) (in steps of {@code step}) of ONNX axis {@code axis}, as a layer named name. */
    private static Value range(MappingState ctx, Where w, String name, Value v, int axis, long at, long step,
                               long len) {
        if (len <= 0) {
            throw w.fail("takes an empty range of axis " + axis + "; gpulrp takes at least one element");
        }
        long[] l = v.perSample();
        long[] start = new long[l.length];
        long[] steps = new long[l.length];
        Arrays.fill(steps, 1);
        long[] count = l.clone();
        int s = v.sampleAxis(axis);
        start[s] = at;
        steps[s] = step;
        count[s] = len;
        long[] shape = v.shape().clone();
        shape[axis < v.batchAxis() ? axis : axis - 1] = len;
        return rearrange(ctx, w, name, v, IndexMaps.slice(l, start, steps, count), v.to(null, shape));
    }

    /** An axis of the value's ONNX shape that is not the batch axis. */
    static int dataAxis(Value v, long axis, Where w, String what) {
        int rank = v.shape().length + 1;
        long a = axis < 0 ? axis + rank : axis;
        if (a < 0 || a >= rank) {
            throw w.fail("axis " + axis + " is out of range for a rank-" + rank + " input");
        }
        if (a == v.batchAxis()) {
            throw w.fail(what + " the batch axis (axis " + axis + "); gpulrp " + what + " the axes of each sample, "
                    + "not the batch");
        }
        return (int) a;
    }

    /** Gather with constant indices along an axis of each sample ({@code x[:, 0]}, a row of a table). */
    static void gather(MappingState ctx, NodeDef n, Where w, int k) {
        allowOnly(n, w, Set.of("axis"));
        Value v = known(ctx, w);
        int axis = dataAxis(v, intAttr(n, w, "axis", 0), w, "gathers along");
        ShapeValue idx = ShapeGraph.in(ctx, n, w, 1, "indices");
        long len = v.onnxDims()[axis];
        long[] iv = ShapeLayout.indices(idx.v(), len, w, null);
        long[] l = v.perSample();
        int s = v.sampleAxis(axis);
        long[] shape = IndexMaps.gathered(v.shape(), axis < v.batchAxis() ? axis : axis - 1, idx.dims());
        int batchAxis = axis < v.batchAxis() ? v.batchAxis() + idx.dims().length - 1 : v.batchAxis();
        Value out = new Value(null, shape, batchAxis, v.outer(), v.inner(), false, null, null);
        perSample(out, w);
        int[] index = IndexMaps.gather(l, s, iv, idx.dims());
        define(ctx, n, rearrange(ctx, w, ctx.layerName(n, k), v, index, out));
    }

    /** Refuses a value of more features per sample than an array holds. */
    private static void perSample(Value v, Where w) {
        if (v.size() > Integer.MAX_VALUE - 8 || v.size() < 0) {
            throw w.fail("makes " + v.size() + " values per sample of shape " + ShapeGraph.text(v.onnxDims())
                    + "; too many");
        }
    }

    /** Unsqueeze and Squeeze of a network value: the same values under another shape (no layer). */
    static void squeeze(MappingState ctx, NodeDef n, Where w, boolean unsqueeze) {
        allowOnly(n, w, Set.of("axes"));
        Value v = known(ctx, w);
        long[] dims = v.onnxDims();
        long[] out = ShapeLayout.squeezeDims(ctx, n, w, dims, unsqueeze);
        int batchAxis = -1;
        int kept = 0;
        for (int j = 0; j < out.length; j++) {
            if (ShapeGraph.marker(out[j])) {
                batchAxis = j;
                kept++;
            }
        }
        if (kept != 1) {
            throw w.fail("removes the batch axis; gpulrp keeps the batch");
        }
        long[] shape = new long[out.length - 1];
        for (int j = 0, o = 0; j < out.length; j++) {
            if (j != batchAxis) {
                shape[o++] = out[j];
            }
        }
        define(ctx, n, new Value(v.node(), shape, batchAxis, v.outer(), v.inner(), v.integer(), v.lo(), v.hi()));
    }

    /** Expand of a network value: an {@link Index} that repeats values along the broadcast axes. */
    static void expand(MappingState ctx, NodeDef n, Where w, int k) {
        allowOnly(n, w, Set.of());
        Value v = known(ctx, w);
        long[] to = ShapeGraph.in(ctx, n, w, 1, "shape").v();
        define(ctx, n, broadcast(ctx, w, ctx.layerName(n, k), v, to));
    }

    /**
     * {@code v} broadcast (numpy rules) to the ONNX shape {@code to}, whose batch axis must line up with v's (the
     * size there may be a marker, or 1 where v's batch axis is); an Index repeats the values, none when v has that
     * shape already.
     */
    static Value broadcast(MappingState ctx, Where w, String name, Value v, long[] to) {
        long[] dims = v.onnxDims();
        int rank = Math.max(dims.length, to.length);
        int off = rank - dims.length;
        long[] out = new long[rank];
        for (int i = 0; i < rank; i++) {
            long x = i >= off ? dims[i - off] : 1;
            long y = i >= rank - to.length ? to[i - (rank - to.length)] : 1;
            boolean batch = i - off == v.batchAxis();
            if (batch ? y != 1 && y != x && y != -1 : ShapeGraph.marker(y) || (x != y && x != 1 && y != 1)) {
                throw w.fail("broadcasts " + ShapeGraph.text(dims) + " to " + ShapeGraph.text(to) + "; gpulrp "
                        + "broadcasts each sample's values, the batch axis kept in place");
            }
            out[i] = batch || y == 1 ? x : y;
        }
        long[] inL = v.perSample();
        long[] outL = new long[rank + 1];
        long[] shape = new long[rank - 1];
        int batchAxis = v.batchAxis() + off;
        for (int i = 0, o = 0; i < rank; i++) {
            if (i == batchAxis) {
                outL[i] = v.outer();
                outL[i + 1] = v.inner();
            } else {
                outL[i < batchAxis ? i : i + 1] = out[i];
                shape[o++] = out[i];
            }
        }
        Value target = new Value(null, shape, batchAxis, v.outer(), v.inner(), false, null, null);
        perSample(target, w);
        return rearrange(ctx, w, name, v, IndexMaps.broadcast(inL, outL), target);
    }
}
