package org.gpulrp.io.onnx;

import static org.gpulrp.io.onnx.NodeAttrs.allowOnly;
import static org.gpulrp.io.onnx.NodeAttrs.intAttr;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import org.gpulrp.io.onnx.MappingState.Step;
import org.gpulrp.io.onnx.MappingState.Value;
import org.gpulrp.io.onnx.OnnxModel.NodeDef;
import org.gpulrp.io.onnx.OnnxModel.TensorDef;
import org.gpulrp.model.Add;
import org.gpulrp.model.Concat;
import org.gpulrp.model.Identity;
import org.gpulrp.model.Index;
import org.gpulrp.model.Offset;

/**
 * Maps the merges of branches: Add of graph values (a residual addition; a smaller operand repeated by an
 * {@link Index} first, as an attention mask over heads and query rows), Add of a constant ({@link AffineMapper}),
 * and Concat along any axis but the batch: a {@link Concat} of the inputs' values, then a permutation where the axis
 * is not the outermost of each sample; constants expanded over the batch (a class token) fill -1 slots of an
 * {@link Index} through an {@link Offset}. Concat of one input is an Identity.
 */
final class MergeMapper {
    private MergeMapper() {
    }

    /** The values of a merge's inputs, all of which must be graph values. */
    static List<Value> mergeInputs(MappingState ctx, NodeDef n, Where w) {
        if (n.inputs().size() < 2) {
            throw w.fail("needs two or more inputs, has " + n.inputs().size());
        }
        List<Value> vs = new ArrayList<>();
        for (String in : n.inputs()) {
            vs.add(graphValue(ctx, n, w, in));
        }
        return vs;
    }

    private static Value graphValue(MappingState ctx, NodeDef n, Where w, String in) {
        if (ctx.pads.containsKey(in)) {
            throw w.fail("reads the output of a Pad; gpulrp supports a Pad only right before a Conv");
        }
        Value v = ctx.values.get(in);
        if (v == null) {
            throw w.fail("reads '" + in + "', which is neither the graph input nor the output of an earlier node "
                    + "(nodes must be in topological order)");
        }
        return v;
    }

    static void add(MappingState ctx, NodeDef n, Where w, int k) {
        allowOnly(n, w, Set.of());
        if (n.inputs().size() == 2 && ctx.constants.containsKey(n.inputs().get(0))
                != ctx.constants.containsKey(n.inputs().get(1))) {
            String value = ctx.constants.containsKey(n.inputs().get(0)) ? n.inputs().get(1) : n.inputs().get(0);
            Value v = graphValue(ctx, n, w, value);
            AffineMapper.offset(ctx, n, w, k, v, AffineMapper.constant(ctx, n, w, value, "addend"), false);
            return;
        }
        String name = ctx.layerName(n, k);
        List<Value> vs = broadcastAll(ctx, w, name, mergeInputs(ctx, n, w), "adds");
        ctx.steps.add(new Step(name, w, new Add(), vs.stream().map(Value::node).toArray(String[]::new)));
        ctx.features = vs.get(0).shape();
        ctx.result = vs.get(0).to(name, vs.get(0).shape());
    }

    /**
     * The inputs of an elementwise merge repeated to one shape (numpy broadcasting of each sample's values; the
     * batch axes must line up), or an error saying the shapes differ.
     */
    static List<Value> broadcastAll(MappingState ctx, Where w, String base, List<Value> vs, String verb) {
        for (Value v : vs) {
            if (v.shape() == null) {
                if (vs.stream().allMatch(x -> x.shape() == null)) {
                    return vs;
                }
                throw w.fail(verb + " values of unknown shape; give the graph input a fixed shape");
            }
        }
        int rank = vs.stream().mapToInt(v -> v.shape().length + 1).max().orElseThrow();
        long[] out = new long[rank];
        Arrays.fill(out, 1);
        boolean ok = true;
        Value first = vs.get(0);
        for (Value v : vs) {
            long[] d = v.onnxDims();
            int off = rank - d.length;
            ok &= v.batchAxis() + off == first.batchAxis() + rank - first.onnxDims().length
                    && v.outer() == first.outer() && v.inner() == first.inner();
            for (int i = 0; ok && i < d.length; i++) {
                long x = out[off + i];
                ok = x == 1 || d[i] == 1 || x == d[i];
                out[off + i] = d[i] == 1 ? x : d[i];
            }
        }
        if (!ok) {
            throw w.fail(verb + " shapes " + vs.stream().map(x -> ShapeGraph.text(x.onnxDims())).toList()
                    + ", which do not broadcast to equal shapes with the batch axes in line");
        }
        List<Value> aligned = new ArrayList<>();
        for (int i = 0; i < vs.size(); i++) {
            Value v = vs.get(i);
            aligned.add(Arrays.equals(v.onnxDims(), out) ? v
                    : LayoutMapper.broadcast(ctx, w, ctx.unique(base + ".broadcast" + (i == 0 ? "" : "." + i)), v,
                    out));
        }
        return aligned;
    }

    static void concat(MappingState ctx, NodeDef n, Where w, int k) {
        allowOnly(n, w, Set.of("axis"));
        if (n.inputs().size() == 1) {
            // torchvision's DenseNet concatenates a list of one feature map: the value itself
            Value v = ctx.value(n.inputs().get(0), w);
            if (v == null) {
                throw w.fail("reads '" + n.inputs().get(0) + "', which is neither the graph input nor the output of "
                        + "an earlier node (nodes must be in topological order)");
            }
            ctx.source = v.node();
            ctx.features = v.shape();
            ctx.addStep(ctx.layerName(n, k), w, new Identity());
            ctx.result = v.to(null, v.shape());
            return;
        }
        List<Value> values = new ArrayList<>();
        for (String in : n.inputs()) {
            if (!ctx.values.containsKey(in) && !ctx.constants.containsKey(in)) {
                graphValue(ctx, n, w, in); // the error
            }
            if (ctx.values.containsKey(in)) {
                values.add(graphValue(ctx, n, w, in));
            }
        }
        Value first = values.get(0);
        if (first.shape() == null) {
            throw w.fail("needs inputs of known shape");
        }
        int rank = first.shape().length + 1;
        long axis = intAttr(n, w, "axis", 1);
        long a = axis < 0 ? axis + rank : axis;
        if (a < 0 || a >= rank || a == first.batchAxis()) {
            throw w.fail("axis=" + axis + " on rank-" + rank + " inputs is not supported; gpulrp concatenates the "
                    + "axes of each sample, not the batch");
        }
        List<long[]> parts = new ArrayList<>();
        List<float[]> constants = new ArrayList<>();
        for (String in : n.inputs()) {
            Value v = ctx.values.get(in);
            long[] d = v != null ? v.perSample() : constantPart(ctx, n, w, in, first, rank);
            if (v != null && (v.shape() == null || v.shape().length != first.shape().length
                    || v.batchAxis() != first.batchAxis() || v.outer() != first.outer()
                    || v.inner() != first.inner())) {
                throw w.fail("concatenates values with different batch layouts or ranks");
            }
            constants.add(v != null ? null : TensorData.floats(ctx.constants.get(in), w, ctx.baseDir));
            parts.add(d);
        }
        int s = first.sampleAxis((int) a);
        for (long[] d : parts) {
            for (int j = 0; j < d.length; j++) {
                if (j != s && d[j] != parts.get(0)[j]) {
                    throw w.fail("concatenates shapes " + parts.stream().map(Arrays::toString).toList() + " along "
                            + "axis " + axis + "; all inputs need the same rank and the same sizes on the other axes");
                }
            }
        }
        long[] shape = first.shape().clone();
        int shapeAxis = a < first.batchAxis() ? (int) a : (int) a - 1;
        shape[shapeAxis] = parts.stream().mapToLong(d -> d[s]).sum();
        String name = ctx.layerName(n, k);
        Value joined = join(ctx, w, name, values);
        int[] stacked = IndexMaps.concat(parts, s);
        if (constants.stream().allMatch(c -> c == null)) {
            ctx.values.put(n.outputs().get(0), LayoutMapper.rearrange(ctx, w, ctx.unique(name + ".order"), joined,
                    stacked, first.to(null, shape)));
            ctx.produced = null;
            return;
        }
        // constants take the -1 slots of an Index over the joined values, and an Offset fills them
        long[] start = new long[parts.size() + 1];
        long[] valueStart = new long[parts.size() + 1];
        for (int i = 0; i < parts.size(); i++) {
            long size = IndexMaps.size(parts.get(i));
            start[i + 1] = start[i] + size;
            valueStart[i + 1] = valueStart[i] + (constants.get(i) == null ? size : 0);
        }
        int[] index = new int[stacked.length];
        float[] offsets = new float[stacked.length];
        for (int o = 0; o < stacked.length; o++) {
            int part = 0;
            while (stacked[o] >= start[part + 1]) {
                part++;
            }
            int at = (int) (stacked[o] - start[part]);
            index[o] = constants.get(part) == null ? (int) (valueStart[part] + at) : -1;
            offsets[o] = constants.get(part) == null ? 0 : constants.get(part)[constants.get(part).length == 1
                    ? 0 : at];
        }
        String slots = ctx.unique(name + ".slots");
        ctx.steps.add(new Step(slots, w, new Index((int) joined.size(), index), new String[] {joined.node()}));
        String filled = ctx.unique(name + ".constant");
        try {
            ctx.steps.add(new Step(filled, w, new Offset(offsets), new String[] {slots}));
        } catch (org.gpulrp.LrpException e) {
            throw w.fail(e.getMessage());
        }
        ctx.values.put(n.outputs().get(0), first.to(filled, shape));
        ctx.produced = null;
    }

    /** The values one after another: the value itself, or a {@link Concat} layer of them. */
    private static Value join(MappingState ctx, Where w, String name, List<Value> values) {
        if (values.size() == 1) {
            return values.get(0);
        }
        ctx.steps.add(new Step(name, w, new Concat(), values.stream().map(Value::node).toArray(String[]::new)));
        long total = values.stream().mapToLong(Value::size).sum();
        return new Value(name, new long[] {total}, 0, 1, 1, false, null, null);
    }

    /**
     * A constant input of a Concat with network values: the same for every sample (expanded over the batch, or a
     * model whose batch is fixed at 1), as dims over the values' per-sample axes.
     */
    private static long[] constantPart(MappingState ctx, NodeDef n, Where w, String in, Value like, int rank) {
        TensorDef c = ctx.constants.get(in);
        long[] d = c.dims();
        if (d.length != rank || d[like.batchAxis()] != 1 || like.outer() != 1 || like.inner() != 1
                || !(ctx.batchBroadcast.contains(in) || ctx.fixedBatch == 1)) {
            throw w.fail("concatenates constant '" + in + "' of shape " + Arrays.toString(d) + " with network "
                    + "values; gpulrp does that for a constant expanded over the batch (a class token)");
        }
        long[] out = new long[rank + 1];
        for (int i = 0; i < rank; i++) {
            if (i == like.batchAxis()) {
                out[i] = 1;
                out[i + 1] = 1;
            } else {
                out[i < like.batchAxis() ? i : i + 1] = d[i];
            }
        }
        return out;
    }
}
