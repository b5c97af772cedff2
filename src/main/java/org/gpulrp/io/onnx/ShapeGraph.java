package org.gpulrp.io.onnx;

import static org.gpulrp.io.onnx.NodeAttrs.attr;
import static org.gpulrp.io.onnx.NodeAttrs.intAttr;

import java.util.Arrays;
import java.util.Set;
import org.gpulrp.io.onnx.OnnxModel.Attribute;
import org.gpulrp.io.onnx.OnnxModel.NodeDef;
import org.gpulrp.io.onnx.OnnxModel.TensorDef;

/**
 * Evaluates, while importing, every node whose inputs are all constants: the small integer subgraphs that compute
 * the shape arguments of Reshape and friends (with a dynamic batch axis and without constant folding,
 * {@code x.view(n, g, c / g, h, w)} exports as Shape, Gather, Div, Unsqueeze, Concat and more), and the float
 * constants a transformer computes once its sequence length is fixed (position ids and their embeddings, the causal
 * mask's Trilu, rotary cos/sin tables). Float tensors are rounded to float32 after every operation, as an ONNX
 * runtime computes them (DOUBLE ones stay double). The batch size is carried as the marker {@link #BATCH}, a known
 * multiple of it ({@code batch * 4}, as attention's head split exports) as {@link #batchTimes}; a value computed
 * from it in another way (e.g. {@code batch - 1}) becomes {@link #DYNAMIC}, which a Reshape refuses. Such nodes
 * produce no layers. A result that holds no marker also becomes a constant, so that the layer mappers read it like
 * an initializer. The tensor operations are in {@link ShapeLayout}, the arithmetic in {@link ShapeArithmetic}.
 */
final class ShapeGraph {
    /** Marks the batch size inside a computed shape. */
    static final long BATCH = Long.MIN_VALUE;
    /** Marks a value that depends on the batch size in another way. */
    static final long DYNAMIC = Long.MIN_VALUE + 1;
    /** Largest multiple of the batch size a marker carries. */
    private static final long MAX_FACTOR = 1L << 40;
    /** What a constant integer below it (an exporter's "minus infinity", as a slice end) is read as. */
    static final long NEGATIVE_INFINITY = -(1L << 62);
    /** Largest tensor evaluated here (shape computations are small; anything bigger is not one). */
    static final int MAX_ELEMENTS = 1 << 22;

    /** Operators evaluated here only (on shapes and constants; a network value among their inputs is an error). */
    static final Set<String> SHAPE_ONLY = Set.of("Shape", "ConstantOfShape", "Floor", "Ceil", "Sqrt", "Abs",
            "Equal", "Less", "Greater", "Not", "And", "Or", "Xor", "Where", "Mod", "Max", "Min", "Range", "Size",
            "Trilu", "Cos", "Sin", "Exp", "Log", "Reciprocal", "Pow", "ScatterND");
    /** Operators evaluated here when no input is a value flowing through the network (else a layer mapper's). */
    static final Set<String> SHAPE_OR_DATA = Set.of("Concat", "Slice", "Div", "Mul", "Add", "Sub", "Reshape",
            "Transpose", "Identity", "Gather", "Unsqueeze", "Squeeze", "Cast", "Neg", "Expand", "MatMul", "Tanh");

    /**
     * An integer tensor ({@code reals == null}) or a float one ({@code ints == null}, NaN where it depends on the
     * batch) of the given dims, row-major; {@code f32}: a FLOAT tensor, whose values are float32 numbers.
     */
    record ShapeValue(long[] ints, double[] reals, long[] dims, boolean f32) {
        ShapeValue(long[] ints, double[] reals, long[] dims) {
            this(ints, reals, dims, false);
        }

        static ShapeValue list(long[] v) {
            return new ShapeValue(v, null, new long[] {v.length});
        }

        /** A float tensor, each value rounded to float32 when {@code f32}. */
        static ShapeValue real(double[] v, long[] dims, boolean f32) {
            if (f32) {
                for (int i = 0; i < v.length; i++) {
                    v[i] = (float) v[i];
                }
            }
            return new ShapeValue(null, v, dims, f32);
        }

        /** The same values with other dims (or, for a float tensor, the same type). */
        ShapeValue reshaped(long[] newDims) {
            return new ShapeValue(ints, reals, newDims, f32);
        }

        /** Element {@code index[i]} (or 0 where it is -1) of this tensor at each position, as a tensor of dims. */
        ShapeValue pick(int[] index, long[] newDims) {
            if (real()) {
                double[] out = new double[index.length];
                for (int i = 0; i < out.length; i++) {
                    out[i] = index[i] < 0 ? 0 : reals[index[i]];
                }
                return new ShapeValue(null, out, newDims, f32);
            }
            long[] out = new long[index.length];
            for (int i = 0; i < out.length; i++) {
                out[i] = index[i] < 0 ? 0 : ints[index[i]];
            }
            return new ShapeValue(out, null, newDims);
        }

        boolean scalar() {
            return dims.length == 0;
        }

        boolean real() {
            return reals != null;
        }

        int size() {
            return real() ? reals.length : ints.length;
        }

        /** The values as integers (reals truncated toward zero, NaN as {@link #DYNAMIC}). */
        long[] v() {
            if (!real()) {
                return ints;
            }
            long[] out = new long[reals.length];
            for (int i = 0; i < out.length; i++) {
                out[i] = Double.isNaN(reals[i]) ? DYNAMIC : (long) reals[i];
            }
            return out;
        }

        double[] d() {
            if (real()) {
                return reals;
            }
            double[] out = new double[ints.length];
            for (int i = 0; i < out.length; i++) {
                out[i] = marker(ints[i]) ? Double.NaN : ints[i];
            }
            return out;
        }

        boolean known() {
            if (real()) {
                return Arrays.stream(reals).noneMatch(Double::isNaN);
            }
            return Arrays.stream(ints).noneMatch(ShapeGraph::marker);
        }
    }

    private ShapeGraph() {
    }

    static boolean marker(long x) {
        return x <= Long.MIN_VALUE + 1 + MAX_FACTOR;
    }

    /** The marker of {@code k} times the batch size ({@link #BATCH} for 1; {@link #DYNAMIC} when too large). */
    static long batchTimes(long k) {
        return k == 1 ? BATCH : k >= 2 && k <= MAX_FACTOR ? Long.MIN_VALUE + 1 + k : DYNAMIC;
    }

    /** The k of a marker of {@code k} times the batch size, or 0 for anything else. */
    static long batchFactor(long x) {
        return x == BATCH ? 1 : x != DYNAMIC && marker(x) ? x - Long.MIN_VALUE - 1 : 0;
    }

    /** Whether this node is a shape computation: a shape-only operator, or one that reads no network value. */
    static boolean handles(MappingState ctx, NodeDef n) {
        if (SHAPE_ONLY.contains(n.opType())) {
            return true;
        }
        if (!SHAPE_OR_DATA.contains(n.opType())) {
            return false;
        }
        for (String in : n.inputs()) {
            if (!in.isEmpty() && (ctx.values.containsKey(in) || ctx.pads.containsKey(in))) {
                return false;
            }
        }
        return !n.inputs().isEmpty() && !n.inputs().get(0).isEmpty()
                && (ctx.shapeValues.containsKey(n.inputs().get(0)) || ctx.constants.containsKey(n.inputs().get(0)));
    }

    /** Evaluates the node and records its output (as a constant too when it holds no batch marker). */
    static void eval(MappingState ctx, NodeDef n, Where w) {
        if (n.outputs().isEmpty() || n.outputs().get(0).isEmpty()) {
            throw w.fail("has no output");
        }
        ShapeValue r = compute(ctx, n, w);
        if (r.size() > MAX_ELEMENTS) {
            throw w.fail("computes " + r.size() + " values; gpulrp evaluates only small shape computations at import");
        }
        String out = n.outputs().get(0);
        ctx.shapeValues.put(out, r);
        if (r.known()) {
            ctx.constants.put(out, r.real()
                    ? new TensorDef(out, r.dims(), OnnxModel.DOUBLE, new float[0], new long[0], new long[0], r.reals(),
                            null, java.util.Map.of(), 0)
                    : new TensorDef(out, r.dims(), OnnxModel.INT64, new float[0], new long[0], r.ints(), new double[0],
                            null, java.util.Map.of(), 0));
        }
    }

    private static ShapeValue compute(MappingState ctx, NodeDef n, Where w) {
        String op = n.opType();
        return switch (op) {
            case "Shape" -> shape(ctx, n, w);
            case "Size" -> {
                long[] s = shapeOf(ctx, n, w).v();
                boolean dynamic = Arrays.stream(s).anyMatch(ShapeGraph::marker);
                yield new ShapeValue(new long[] {dynamic ? DYNAMIC : ShapeArithmetic.product(s, w)}, null, new long[0]);
            }
            case "Identity" -> in(ctx, n, w, 0, "input");
            case "Gather" -> ShapeLayout.gather(ctx, n, w);
            case "Unsqueeze", "Squeeze" -> ShapeLayout.squeeze(ctx, n, w, op.equals("Unsqueeze"));
            case "Concat" -> ShapeLayout.concat(ctx, n, w);
            case "Slice" -> ShapeLayout.slice(ctx, n, w);
            case "Cast" -> cast(ctx, n, w);
            case "ConstantOfShape" -> constantOfShape(ctx, n, w);
            case "Reshape" -> {
                ShapeValue data = in(ctx, n, w, 0, "data");
                long[] to = in(ctx, n, w, 1, "shape").v();
                yield data.reshaped(ShapeLayout.reshapeDims(data, to, w));
            }
            case "Transpose" -> ShapeLayout.transpose(ctx, n, w);
            case "Expand" -> ShapeLayout.expand(ctx, n, w);
            case "Trilu" -> ShapeLayout.trilu(ctx, n, w);
            case "ScatterND" -> ShapeLayout.scatterND(ctx, n, w);
            case "Range" -> ShapeArithmetic.range(ctx, n, w);
            case "Where" -> ShapeArithmetic.where(ctx, n, w);
            case "MatMul" -> ShapeArithmetic.matMul(ctx, n, w);
            case "Floor", "Ceil", "Sqrt", "Neg", "Abs", "Not", "Cos", "Sin", "Tanh", "Exp", "Log", "Reciprocal" ->
                    ShapeArithmetic.unary(in(ctx, n, w, 0, "input"), op);
            default -> ShapeArithmetic.binary(ctx, n, w, op);
        };
    }

    /** An input: a computed value, or a constant (initializer or Constant node). */
    static ShapeValue in(MappingState ctx, NodeDef n, Where w, int index, String what) {
        if (index >= n.inputs().size() || n.inputs().get(index).isEmpty()) {
            throw w.fail("has no " + what + " input");
        }
        String name = n.inputs().get(index);
        ShapeValue v = ctx.shapeValues.get(name);
        if (v != null) {
            return v;
        }
        if (ctx.values.containsKey(name) || ctx.pads.containsKey(name)) {
            throw w.fail("reads the graph value '" + name + "' as its " + what + "; gpulrp evaluates " + n.opType()
                    + " only on shapes (as in x.view(x.size(0), -1)), not on the data flowing through the network");
        }
        TensorDef t = ctx.constantInput(n, w, index, what);
        int count = TensorData.count(t, w);
        if (count > MAX_ELEMENTS) {
            throw w.fail(what + " '" + name + "' has " + count + " values; gpulrp evaluates only small shape "
                    + "computations at import");
        }
        int type = t.dataType();
        if (type == OnnxModel.INT64 || type == OnnxModel.INT32) {
            long[] ints = TensorData.longs(t, w, ctx.baseDir);
            for (int i = 0; i < ints.length; i++) {
                // exporters write -(2^63 - 1) as a slice's "minus infinity": never read a constant as a marker
                ints[i] = Math.max(ints[i], NEGATIVE_INFINITY);
            }
            return new ShapeValue(ints, null, t.dims());
        }
        if (type == OnnxModel.FLOAT || type == OnnxModel.DOUBLE || type == OnnxModel.FLOAT16) {
            float[] f = TensorData.floats(t, w, ctx.baseDir);
            double[] d = new double[f.length];
            for (int i = 0; i < f.length; i++) {
                d[i] = type == OnnxModel.DOUBLE && t.doubleData().length == f.length ? t.doubleData()[i] : f[i];
            }
            return new ShapeValue(null, d, t.dims(), type != OnnxModel.DOUBLE);
        }
        if (type == 9 && !t.isExternal()) { // BOOL
            long[] b = new long[count];
            byte[] raw = t.rawData();
            for (int i = 0; i < count; i++) {
                b[i] = raw != null ? (raw.length > i && raw[i] != 0 ? 1 : 0)
                        : (t.int32Data().length > i && t.int32Data()[i] != 0 ? 1 : 0);
            }
            return new ShapeValue(b, null, t.dims());
        }
        throw w.fail(what + " '" + name + "' has data type " + OnnxModel.typeName(type) + "; gpulrp evaluates shape "
                + "computations on integers and floats");
    }

    /** Shape of a network value ({@code [batch, dims...]}) or of a computed one; sliced by opset 15's start/end. */
    private static ShapeValue shape(MappingState ctx, NodeDef n, Where w) {
        NodeAttrs.allowOnly(n, w, Set.of("start", "end"));
        NodeAttrs.singleInput(n, w, 1);
        long[] full = shapeOf(ctx, n, w).v();
        int rank = full.length;
        long start = intAttr(n, w, "start", 0);
        long end = intAttr(n, w, "end", rank);
        start = Math.min(Math.max(start < 0 ? start + rank : start, 0), rank);
        end = Math.min(Math.max(end < 0 ? end + rank : end, 0), rank);
        return ShapeValue.list(Arrays.copyOfRange(full, (int) start, (int) Math.max(start, end)));
    }

    /** The full shape of input 0 as a list: {@code [batch, dims...]} for a network value. */
    private static ShapeValue shapeOf(MappingState ctx, NodeDef n, Where w) {
        String name = n.inputs().get(0);
        MappingState.Value v = ctx.values.get(name);
        if (v == null && ctx.pads.containsKey(name)) {
            throw w.fail("reads the output of a Pad; gpulrp supports a Pad only right before a Conv or AveragePool");
        }
        if (v != null) {
            if (v.shape() == null) {
                throw w.fail("reads a value of unknown shape; give the graph input a fixed [N, C, H, W] or [N, F] "
                        + "shape");
            }
            return ShapeValue.list(v.onnxDims());
        }
        return ShapeValue.list(in(ctx, n, w, 0, "input").dims().clone());
    }

    private static ShapeValue cast(MappingState ctx, NodeDef n, Where w) {
        NodeAttrs.allowOnly(n, w, Set.of("to", "saturate"));
        NodeAttrs.singleInput(n, w, 1);
        ShapeValue x = in(ctx, n, w, 0, "input");
        long to = intAttr(n, w, "to", 0);
        return switch ((int) to) {
            case OnnxModel.FLOAT, OnnxModel.FLOAT16 -> ShapeValue.real(x.d().clone(), x.dims(), true);
            case OnnxModel.DOUBLE -> new ShapeValue(null, x.d(), x.dims());
            case 2, 3, 4, 5, OnnxModel.INT32, OnnxModel.INT64, 12, 13 -> new ShapeValue(x.v(), null, x.dims());
            case 9 -> {
                long[] v = x.v();
                long[] b = new long[v.length];
                for (int i = 0; i < v.length; i++) {
                    b[i] = marker(v[i]) ? DYNAMIC : v[i] != 0 ? 1 : 0;
                }
                yield new ShapeValue(b, null, x.dims());
            }
            default -> throw w.fail("casts to " + OnnxModel.typeName((int) to) + "; gpulrp evaluates shape "
                    + "computations on integers, booleans and floats");
        };
    }

    private static ShapeValue constantOfShape(MappingState ctx, NodeDef n, Where w) {
        NodeAttrs.allowOnly(n, w, Set.of("value"));
        long[] dims = in(ctx, n, w, 0, "shape").v();
        long count = 1;
        for (long d : dims) {
            if (marker(d) || d < 0) {
                throw w.fail("builds a tensor of shape " + text(dims) + "; gpulrp evaluates ConstantOfShape only "
                        + "for known sizes");
            }
            count *= d;
            if (count > MAX_ELEMENTS) {
                throw w.fail("builds " + text(dims) + "; gpulrp evaluates only small shape computations at import");
            }
        }
        Attribute a = attr(n, "value");
        boolean real = true;
        boolean f32 = true;
        double fill = 0;
        if (a != null && a.t() != null) {
            TensorDef t = a.t();
            int type = t.dataType();
            if (type == OnnxModel.INT64 || type == OnnxModel.INT32) {
                real = false;
                long[] v = TensorData.longs(t, w, ctx.baseDir);
                fill = v.length == 0 ? 0 : v[0];
            } else {
                float[] v = TensorData.floats(t, w, ctx.baseDir);
                fill = v.length == 0 ? 0 : v[0];
                f32 = type != OnnxModel.DOUBLE;
            }
        }
        if (real) {
            double[] out = new double[(int) count];
            Arrays.fill(out, fill);
            return new ShapeValue(null, out, dims.clone(), f32);
        }
        long[] out = new long[(int) count];
        Arrays.fill(out, (long) fill);
        return new ShapeValue(out, null, dims.clone());
    }

    /** A shape for messages, the batch shown as "batch" and other batch-dependent values as "dynamic". */
    static String text(long[] shape) {
        StringBuilder b = new StringBuilder("[");
        for (int i = 0; i < shape.length; i++) {
            long k = batchFactor(shape[i]);
            b.append(i > 0 ? ", " : "").append(k == 1 ? "batch" : k > 1 ? "batch*" + k
                    : shape[i] == DYNAMIC ? "dynamic" : Long.toString(shape[i]));
        }
        return b.append(']').toString();
    }
}
