package org.gpulrp.io.onnx;

import java.util.Arrays;
import java.util.List;
import org.gpulrp.LrpException;
import org.gpulrp.io.onnx.MappingState.Step;
import org.gpulrp.io.onnx.MappingState.Value;
import org.gpulrp.io.onnx.OnnxModel.NodeDef;
import org.gpulrp.io.onnx.OnnxModel.TensorDef;
import org.gpulrp.model.Index;
import org.gpulrp.model.Layer;
import org.gpulrp.model.Offset;
import org.gpulrp.model.Scale;

/**
 * Maps the arithmetic of a network value with a constant: Add and Sub ({@link Offset}), Mul and Div ({@link Scale}),
 * {@code c - x} (a Scale of -1, then an Offset), Neg, and Cast. The constant broadcasts over each sample by numpy's
 * rules (never over the batch: its batch axis, if any, is 1); where it is larger than the value (a causal mask
 * {@code [1, 1, T, T]} added to a padding mask {@code [B, 1, 1, T]}) an {@link Index} repeats the value first.
 * The bounds a value carries (the attention mask's {@code [0, 1]} and what is computed from it) follow in float32;
 * an Add whose bounds overflow float32 is mapped only together with the lower-bound Clip that follows it, and only
 * where the bounds prove what that Clip does at each feature (see {@link #offset}).
 */
final class AffineMapper {
    private AffineMapper() {
    }

    /** A value (repeated to the output's shape where the constant is larger) and the constant at each feature. */
    private record Aligned(Value value, float[] constants) {
    }

    /** Numpy broadcasting of the constant {@code c} and the value {@code v}; repeats {@code v} where needed. */
    private static Aligned align(MappingState ctx, Where w, String name, Value v, TensorDef c) {
        long[] dv = v.onnxDims();
        long[] dc = c.dims();
        int rank = Math.max(dv.length, dc.length);
        int offV = rank - dv.length;
        int offC = rank - dc.length;
        long[] out = new long[rank];
        boolean grow = false;
        String bad = "constant '" + c.name() + "' has shape " + Arrays.toString(dc) + ", which does not broadcast "
                + "over one sample of shape " + ShapeGraph.text(dv) + " (per feature, per channel [C, 1, 1] or a "
                + "single value; its batch axis, if any, 1)";
        for (int i = 0; i < rank; i++) {
            long x = i >= offV ? dv[i - offV] : 1;
            long y = i >= offC ? dc[i - offC] : 1;
            if (i - offV == v.batchAxis()) {
                if (y != 1) {
                    throw w.fail(bad);
                }
                out[i] = x;
            } else if (x == y || y == 1) {
                out[i] = x;
            } else if (x == 1) {
                out[i] = y;
                grow = true;
            } else {
                throw w.fail(bad);
            }
        }
        Value at = grow ? LayoutMapper.broadcast(ctx, w, ctx.unique(name + ".broadcast"), v, out) : v;
        float[] values = TensorData.floats(c, w, ctx.baseDir);
        if (values.length == 1) {
            return new Aligned(at, values);
        }
        // the constant's dims over the output's per-sample axes: the batch axis (size 1) as outer and inner
        long[] full = new long[rank + 1];
        int b = at.batchAxis();
        for (int i = 0; i < rank; i++) {
            long y = i >= offC ? dc[i - offC] : 1;
            if (i == b) {
                full[i] = 1;
                full[i + 1] = 1;
            } else {
                full[i < b ? i : i + 1] = y;
            }
        }
        int[] index = IndexMaps.broadcast(full, at.perSample());
        float[] per = new float[index.length];
        for (int i = 0; i < per.length; i++) {
            per[i] = values[index[i]];
        }
        return new Aligned(at, per);
    }

    /** The constant input of a node whose other input is a network value. */
    static TensorDef constant(MappingState ctx, NodeDef n, Where w, String value, String what) {
        int i = n.inputs().get(0).equals(value) ? 1 : 0;
        return ctx.constantInput(n, w, i, what);
    }

    /**
     * {@code x + c} ({@code negate}: {@code x - c}) as an {@link Offset}. Where its float32 bounds overflow and the
     * only reader is a Clip with a lower bound {@code m} and no upper one, the features whose bounds lie at or below
     * {@code m} are the constant {@code m} after that Clip: they become -1 slots of an {@link Index} filled with
     * {@code m} by the Offset, the features whose bounds lie at or above {@code m} pass, and the Clip is absorbed
     * (this is HuggingFace's {@code clamp(causal + padding, min=finfo.min)}). Anything in between is refused.
     */
    static void offset(MappingState ctx, NodeDef n, Where w, int k, Value v, TensorDef c, boolean negate) {
        String name = ctx.layerName(n, k);
        Aligned a = align(ctx, w, name, v, c);
        float[] add = negate ? each(a.constants(), x -> -x) : a.constants();
        Value in = a.value();
        float[][] bounds = shifted(in, add);
        if (bounds != null && !finite(bounds)) {
            clipped(ctx, n, w, name, in, add, bounds);
            return;
        }
        emit(ctx, w, name, in, offsetLayer(w, c, add), bounds);
    }

    /** {@code x * c} ({@code reciprocal}: {@code x / c}, as {@code x * (1 / c)}) as a {@link Scale}. */
    static void scale(MappingState ctx, NodeDef n, Where w, int k, Value v, TensorDef c, boolean reciprocal) {
        String name = ctx.layerName(n, k);
        Aligned a = align(ctx, w, name, v, c);
        float[] f = reciprocal ? each(a.constants(), x -> 1f / x) : a.constants();
        emit(ctx, w, name, a.value(), scaleLayer(w, c, f, reciprocal), scaled(a.value(), f));
    }

    private static float[] each(float[] v, java.util.function.UnaryOperator<Float> f) {
        float[] out = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = f.apply(v[i]);
        }
        return out;
    }

    /** Sub with a constant: {@code x - c} (an Offset of -c) or {@code c - x}; two graph values are refused. */
    static void sub(MappingState ctx, NodeDef n, Where w, int k) {
        NodeAttrs.allowOnly(n, w, java.util.Set.of());
        if (n.inputs().size() != 2) {
            throw w.fail("needs 2 inputs, has " + n.inputs().size());
        }
        Value a = ctx.value(n.inputs().get(0), w);
        Value b = ctx.value(n.inputs().get(1), w);
        if (a != null && b != null) {
            throw w.fail("subtracts two graph values; gpulrp maps Sub of a graph value and a constant (an Offset), "
                    + "and evaluates Sub only on shapes and constants otherwise");
        }
        if (a != null) {
            offset(ctx, n, w, k, a, ctx.constantInput(n, w, 1, "subtrahend"), true);
        } else {
            subtractFrom(ctx, n, w, k, b, ctx.constantInput(n, w, 0, "minuend"));
        }
    }

    /** {@code c - x}: a Scale of -1, then an Offset of c. */
    static void subtractFrom(MappingState ctx, NodeDef n, Where w, int k, Value v, TensorDef c) {
        String name = ctx.layerName(n, k);
        Value neg = negate(ctx, w, ctx.unique(name + ".neg"), v);
        Aligned a = align(ctx, w, name, neg, c);
        emit(ctx, w, name, a.value(), offsetLayer(w, c, a.constants()), shifted(a.value(), a.constants()));
    }

    /** Neg: a Scale of -1. */
    static void neg(MappingState ctx, NodeDef n, Where w, int k) {
        NodeAttrs.allowOnly(n, w, java.util.Set.of());
        NodeAttrs.singleInput(n, w, 1);
        Value out = negate(ctx, w, ctx.layerName(n, k), ctx.current);
        ctx.values.put(n.outputs().get(0), out);
        ctx.produced = null;
    }

    private static Value negate(MappingState ctx, Where w, String name, Value v) {
        float[] minusOne = {-1f};
        ctx.steps.add(new Step(name, w, new Scale(minusOne), new String[] {v.node()}));
        return bounded(v.to(name, v.shape()), scaled(v, minusOne));
    }

    private static Value bounded(Value v, float[][] bounds) {
        return bounds == null ? v : v.bounded(bounds[0], bounds[1]);
    }

    /**
     * Cast of a network value: from integers (token ids, a mask) or floats to a float type the values stay as they
     * are (exact floats); to an integer type only from integers.
     */
    static void cast(MappingState ctx, NodeDef n, Where w) {
        NodeAttrs.allowOnly(n, w, java.util.Set.of("to", "saturate"));
        NodeAttrs.singleInput(n, w, 1);
        Value v = ctx.current;
        long to = NodeAttrs.intAttr(n, w, "to", 0);
        boolean toFloat = to == OnnxModel.FLOAT || to == OnnxModel.DOUBLE || to == OnnxModel.FLOAT16;
        boolean toInt = List.of(2L, 3L, 4L, 5L, 6L, 7L, 12L, 13L).contains(to);
        if (!toFloat && !(toInt && v.integer())) {
            throw w.fail("casts a " + (v.integer() ? "integer" : "float") + " graph value to "
                    + OnnxModel.typeName((int) to) + "; gpulrp casts network values to floats (or integers to "
                    + "integers) only");
        }
        ctx.values.put(n.outputs().get(0), new Value(v.node(), v.shape(), v.batchAxis(), v.outer(), v.inner(),
                toInt, v.lo(), v.hi()));
        ctx.produced = null;
    }

    /** The output bounds of adding {@code add} (float32), or null when the input has none. */
    private static float[][] shifted(Value v, float[] add) {
        return bounds(v, add, false);
    }

    /** The output bounds of multiplying by {@code f} (float32), or null when the input has none. */
    private static float[][] scaled(Value v, float[] f) {
        return bounds(v, f, true);
    }

    private static float[][] bounds(Value v, float[] c, boolean times) {
        if (v.lo() == null) {
            return null;
        }
        float[] lo = new float[v.lo().length];
        float[] hi = new float[lo.length];
        for (int i = 0; i < lo.length; i++) {
            float k = c[c.length == 1 ? 0 : i];
            float a = times ? v.lo()[i] * k : v.lo()[i] + k;
            float b = times ? v.hi()[i] * k : v.hi()[i] + k;
            lo[i] = times && k < 0 ? b : a;
            hi[i] = times && k < 0 ? a : b;
        }
        return new float[][] {lo, hi};
    }

    private static boolean finite(float[][] bounds) {
        for (float[] b : bounds) {
            for (float x : b) {
                if (!Float.isFinite(x)) {
                    return false;
                }
            }
        }
        return true;
    }

    private static Offset offsetLayer(Where w, TensorDef c, float[] values) {
        try {
            return new Offset(uniform(values));
        } catch (LrpException e) {
            throw w.fail("constant '" + c.name() + "': " + e.getMessage());
        }
    }

    private static Scale scaleLayer(Where w, TensorDef c, float[] factors, boolean reciprocal) {
        try {
            return new Scale(uniform(factors));
        } catch (LrpException e) {
            throw w.fail("constant '" + c.name() + "'" + (reciprocal ? " (as 1/divisor)" : "") + ": "
                    + e.getMessage());
        }
    }

    /** A single value when all are the same bits. */
    private static float[] uniform(float[] v) {
        for (float x : v) {
            if (Float.floatToRawIntBits(x) != Float.floatToRawIntBits(v[0])) {
                return v;
            }
        }
        return new float[] {v[0]};
    }

    private static void emit(MappingState ctx, Where w, String name, Value in, Layer layer, float[][] bounds) {
        ctx.steps.add(new Step(name, w, layer, new String[] {in.node()}));
        ctx.result = bounded(in.to(name, in.shape()), bounds);
        ctx.features = in.shape();
    }

    /** The overflowing Add and the Clip after it, as {@link #offset} says. */
    private static void clipped(MappingState ctx, NodeDef n, Where w, String name, Value in, float[] add,
                                float[][] bounds) {
        String out = n.outputs().get(0);
        List<NodeDef> readers = ctx.consumers.getOrDefault(out, List.of());
        NodeDef clip = readers.size() == 1 && readers.get(0).opType().equals("Clip")
                && !readers.get(0).outputs().isEmpty() && !readers.get(0).outputs().get(0).isEmpty() ? readers.get(0)
                : null;
        float[] range = clip == null ? null
                : ActivationMapper.clipBounds(ctx, clip, ctx.where(clip, ctx.graph.nodes().indexOf(clip)));
        float min = range == null ? Float.NaN : range[0];
        float max = range == null ? Float.NaN : range[1];
        String why = "adds a constant to a value bounded by the graph (an attention mask) and overflows float32";
        if (clip == null || ctx.uses.getOrDefault(out, 0) != 1 || max != Float.POSITIVE_INFINITY
                || !Float.isFinite(min)) {
            throw w.fail(why + "; gpulrp maps that only when a Clip with a lower bound alone reads it");
        }
        int size = bounds[0].length;
        int[] index = new int[size];
        float[] values = new float[size];
        float[] lo = new float[size];
        float[] hi = new float[size];
        for (int i = 0; i < size; i++) {
            if (bounds[0][i] >= min) {
                index[i] = i;
                values[i] = add[add.length == 1 ? 0 : i];
                lo[i] = bounds[0][i];
                hi[i] = bounds[1][i];
            } else if (bounds[1][i] <= min) {
                index[i] = -1;
                values[i] = min;
                lo[i] = min;
                hi[i] = min;
            } else {
                throw w.fail(why + " at feature " + i + " (bounds [" + bounds[0][i] + ", " + bounds[1][i]
                        + "]), where the Clip to " + min + " is neither a constant nor the identity");
            }
        }
        String cut = ctx.unique(name + ".clip");
        ctx.steps.add(new Step(cut, w, new Index((int) in.size(), index), new String[] {in.node()}));
        ctx.steps.add(new Step(name, w, new Offset(uniform(values)), new String[] {cut}));
        ctx.result = in.to(name, in.shape()).bounded(lo, hi);
        ctx.features = in.shape();
        ctx.absorbed.put(clip.outputs().get(0), out);
    }
}
