package org.gpulrp.io.onnx;

import static org.gpulrp.io.onnx.NodeAttrs.attr;
import static org.gpulrp.io.onnx.NodeAttrs.intAttr;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import org.gpulrp.io.onnx.OnnxModel.Attribute;
import org.gpulrp.io.onnx.OnnxModel.NodeDef;
import org.gpulrp.io.onnx.OnnxModel.TensorDef;

/**
 * Evaluates, while importing, the small integer (and occasionally float) subgraphs that compute the shape arguments
 * of Reshape and friends: with a dynamic batch axis and without constant folding, {@code x.view(n, g, c / g, h, w)}
 * exports as Shape, Gather, Div, Unsqueeze, Concat and more. The batch size is carried as the marker {@link #BATCH};
 * a value computed from it other than by passing it on (e.g. {@code batch * 2}) becomes {@link #DYNAMIC}, which a
 * Reshape refuses. Such nodes produce no layers. A result that holds no marker also becomes a constant, so that the
 * layer mappers read it like an initializer.
 */
final class ShapeGraph {
    /** Marks the batch size inside a computed shape. */
    static final long BATCH = Long.MIN_VALUE;
    /** Marks a value that depends on the batch size in another way. */
    static final long DYNAMIC = Long.MIN_VALUE + 1;
    /** Largest tensor evaluated here (shape computations are small; anything bigger is not one). */
    static final int MAX_ELEMENTS = 1 << 22;

    /** Operators evaluated on shapes only. */
    static final Set<String> SHAPE_ONLY = Set.of("Shape", "Gather", "Unsqueeze", "Squeeze", "Cast",
            "ConstantOfShape", "Floor", "Ceil", "Sqrt", "Neg", "Abs", "Equal", "Less", "Greater", "Not", "And",
            "Or", "Xor", "Where", "Mod", "Max", "Min", "Range", "Size");
    /** Operators evaluated here when no input is a value flowing through the network. */
    static final Set<String> SHAPE_OR_DATA = Set.of("Concat", "Slice", "Div", "Mul", "Add", "Sub", "Reshape",
            "Transpose", "Identity");

    /**
     * An integer tensor ({@code reals == null}) or a float one ({@code ints == null}, NaN where it depends on the
     * batch) of the given dims, row-major.
     */
    record ShapeValue(long[] ints, double[] reals, long[] dims) {
        static ShapeValue list(long[] v) {
            return new ShapeValue(v, null, new long[] {v.length});
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
        return x == BATCH || x == DYNAMIC;
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
            case "Gather" -> gather(ctx, n, w);
            case "Unsqueeze", "Squeeze" -> squeeze(ctx, n, w, op.equals("Unsqueeze"));
            case "Concat" -> concat(ctx, n, w);
            case "Slice" -> slice(ctx, n, w);
            case "Cast" -> cast(ctx, n, w);
            case "ConstantOfShape" -> constantOfShape(ctx, n, w);
            case "Reshape" -> {
                ShapeValue data = in(ctx, n, w, 0, "data");
                long[] to = in(ctx, n, w, 1, "shape").v();
                yield new ShapeValue(data.ints(), data.reals(), reshapeDims(data, to, w));
            }
            case "Transpose" -> transpose(ctx, n, w);
            case "Range" -> ShapeArithmetic.range(ctx, n, w);
            case "Where" -> ShapeArithmetic.where(ctx, n, w);
            case "Floor", "Ceil", "Sqrt", "Neg", "Abs", "Not" -> ShapeArithmetic.unary(in(ctx, n, w, 0, "input"), op);
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
            return new ShapeValue(TensorData.longs(t, w, ctx.baseDir), null, t.dims());
        }
        if (type == OnnxModel.FLOAT || type == OnnxModel.DOUBLE || type == OnnxModel.FLOAT16) {
            float[] f = TensorData.floats(t, w, ctx.baseDir);
            double[] d = new double[f.length];
            for (int i = 0; i < f.length; i++) {
                d[i] = type == OnnxModel.DOUBLE && t.doubleData().length == f.length ? t.doubleData()[i] : f[i];
            }
            return new ShapeValue(null, d, t.dims());
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
            long[] full = new long[v.shape().length + 1];
            full[0] = BATCH;
            System.arraycopy(v.shape(), 0, full, 1, v.shape().length);
            return ShapeValue.list(full);
        }
        return ShapeValue.list(in(ctx, n, w, 0, "input").dims().clone());
    }

    private static ShapeValue gather(MappingState ctx, NodeDef n, Where w) {
        NodeAttrs.allowOnly(n, w, Set.of("axis"));
        if (n.inputs().size() != 2) {
            throw w.fail("needs 2 inputs (data, indices), has " + n.inputs().size());
        }
        ShapeValue data = in(ctx, n, w, 0, "data");
        long axis = intAttr(n, w, "axis", 0);
        if (axis != 0 && !(axis == -1 && data.dims().length == 1)) {
            throw w.fail("axis=" + axis + " is not supported; gpulrp evaluates Gather on a shape list (axis 0)");
        }
        ShapeValue idx = in(ctx, n, w, 1, "indices");
        if (data.dims().length != 1) {
            throw w.fail("gathers from a " + (data.scalar() ? "scalar" : "rank-" + data.dims().length + " tensor")
                    + "; the data must be a list");
        }
        int len = data.size();
        long[] iv = idx.v();
        long[] outI = new long[iv.length];
        double[] outR = new double[iv.length];
        for (int i = 0; i < iv.length; i++) {
            long j = iv[i] < 0 && !marker(iv[i]) ? iv[i] + len : iv[i];
            if (marker(iv[i]) || j < 0 || j >= len) {
                throw w.fail("index " + text(new long[] {iv[i]}) + " is out of range for " + text(data.v()));
            }
            if (data.real()) {
                outR[i] = data.reals()[(int) j];
            } else {
                outI[i] = data.ints()[(int) j];
            }
        }
        return data.real() ? new ShapeValue(null, outR, idx.dims()) : new ShapeValue(outI, null, idx.dims());
    }

    /** Unsqueeze inserts dims of size 1; Squeeze removes them (all, or those listed). */
    private static ShapeValue squeeze(MappingState ctx, NodeDef n, Where w, boolean unsqueeze) {
        NodeAttrs.allowOnly(n, w, Set.of("axes"));
        ShapeValue data = in(ctx, n, w, 0, "data");
        long[] axes = null;
        if (n.inputs().size() > 1 && !n.inputs().get(1).isEmpty()) {
            axes = in(ctx, n, w, 1, "axes").v();
        } else {
            Attribute a = attr(n, "axes");
            if (a != null && a.ints() != null) {
                axes = a.ints();
            }
        }
        long[] d = data.dims();
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
                                + Arrays.toString(d));
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
        return new ShapeValue(data.ints(), data.reals(), out.stream().mapToLong(Long::longValue).toArray());
    }

    private static ShapeValue concat(MappingState ctx, NodeDef n, Where w) {
        NodeAttrs.allowOnly(n, w, Set.of("axis"));
        long axis = intAttr(n, w, "axis", 0);
        if (axis != 0 && axis != -1) {
            throw w.fail("axis=" + axis + " on shape lists is not supported (axis 0)");
        }
        List<ShapeValue> parts = new ArrayList<>();
        boolean real = false;
        int total = 0;
        for (int i = 0; i < n.inputs().size(); i++) {
            ShapeValue p = in(ctx, n, w, i, "input " + i);
            if (p.dims().length != 1) {
                throw w.fail("concatenates a " + (p.scalar() ? "scalar" : "rank-" + p.dims().length + " tensor")
                        + "; gpulrp evaluates Concat on lists (Concat needs lists)");
            }
            real |= p.real();
            total += p.size();
            parts.add(p);
        }
        long[] outI = new long[total];
        double[] outR = new double[total];
        int at = 0;
        for (ShapeValue p : parts) {
            if (real) {
                System.arraycopy(p.d(), 0, outR, at, p.size());
            } else {
                System.arraycopy(p.ints(), 0, outI, at, p.size());
            }
            at += p.size();
        }
        return real ? new ShapeValue(null, outR, new long[] {total}) : new ShapeValue(outI, null, new long[] {total});
    }

    private static ShapeValue slice(MappingState ctx, NodeDef n, Where w) {
        NodeAttrs.allowOnly(n, w, Set.of("starts", "ends", "axes"));
        ShapeValue data = in(ctx, n, w, 0, "data");
        if (data.dims().length != 1) {
            throw w.fail("slices a " + (data.scalar() ? "scalar" : "rank-" + data.dims().length + " tensor")
                    + "; gpulrp evaluates Slice on shape lists");
        }
        long[] r = sliceArgs(ctx, n, w, 1, data.size());
        List<Integer> picked = new ArrayList<>();
        for (long i = r[0]; r[2] > 0 ? i < r[1] : i > r[1]; i += r[2]) {
            picked.add((int) i);
        }
        long[] outI = new long[picked.size()];
        double[] outR = new double[picked.size()];
        for (int i = 0; i < picked.size(); i++) {
            if (data.real()) {
                outR[i] = data.reals()[picked.get(i)];
            } else {
                outI[i] = data.ints()[picked.get(i)];
            }
        }
        long[] dims = {picked.size()};
        return data.real() ? new ShapeValue(null, outR, dims) : new ShapeValue(outI, null, dims);
    }

    /**
     * Slice arguments of a single-axis slice of a list of {@code len} values, as ONNX clamps them: {@code {start,
     * end, step}}.
     */
    static long[] sliceArgs(MappingState ctx, NodeDef n, Where w, int rank, long len) {
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
        if (starts.length != 1 || ends.length != 1 || (axes != null && axes.length != 1)
                || (steps != null && steps.length != 1)) {
            throw w.fail("slices " + starts.length + " axes; gpulrp evaluates Slice along one axis of a list");
        }
        long axis = axes == null ? 0 : axes[0];
        if ((axis < 0 ? axis + rank : axis) != 0) {
            throw w.fail("slices axis " + axis + " of a list; gpulrp evaluates Slice of lists along axis 0");
        }
        long step = steps == null ? 1 : steps[0];
        if (step == 0 || marker(step) || marker(starts[0]) || marker(ends[0])) {
            throw w.fail("has step " + text(new long[] {step}) + ", start " + text(starts) + ", end " + text(ends)
                    + "; they must be known, the step non-zero");
        }
        return clampSlice(starts[0], ends[0], step, len);
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

    private static ShapeValue cast(MappingState ctx, NodeDef n, Where w) {
        NodeAttrs.allowOnly(n, w, Set.of("to", "saturate"));
        NodeAttrs.singleInput(n, w, 1);
        ShapeValue x = in(ctx, n, w, 0, "input");
        long to = intAttr(n, w, "to", 0);
        return switch ((int) to) {
            case OnnxModel.FLOAT, OnnxModel.DOUBLE, OnnxModel.FLOAT16 -> new ShapeValue(null, x.d(), x.dims());
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
            }
        }
        if (real) {
            double[] out = new double[(int) count];
            Arrays.fill(out, fill);
            return new ShapeValue(null, out, dims.clone());
        }
        long[] out = new long[(int) count];
        Arrays.fill(out, (long) fill);
        return new ShapeValue(out, null, dims.clone());
    }

    /** The dims a Reshape gives {@code data}: 0 copies (when the rank allows), -1 takes the rest. */
    private static long[] reshapeDims(ShapeValue data, long[] to, Where w) {
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

    private static ShapeValue transpose(MappingState ctx, NodeDef n, Where w) {
        NodeAttrs.allowOnly(n, w, Set.of("perm"));
        ShapeValue x = in(ctx, n, w, 0, "data");
        long[] d = x.dims();
        if (d.length > 2) {
            throw w.fail("transposes a rank-" + d.length + " shape tensor; gpulrp evaluates rank 2 at most");
        }
        Attribute p = attr(n, "perm");
        boolean swap = d.length == 2 && (p == null || p.ints() == null
                || Arrays.equals(p.ints(), new long[] {1, 0}));
        if (!swap) {
            return x;
        }
        int rows = (int) d[0];
        int cols = (int) d[1];
        long[] vi = x.v();
        double[] vr = x.d();
        long[] oi = new long[vi.length];
        double[] or = new double[vr.length];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                oi[c * rows + r] = vi[r * cols + c];
                or[c * rows + r] = vr[r * cols + c];
            }
        }
        long[] dims = {cols, rows};
        return x.real() ? new ShapeValue(null, or, dims) : new ShapeValue(oi, null, dims);
    }


    /** A shape for messages, the batch shown as "batch" and other batch-dependent values as "dynamic". */
    static String text(long[] shape) {
        StringBuilder b = new StringBuilder("[");
        for (int i = 0; i < shape.length; i++) {
            b.append(i > 0 ? ", " : "").append(shape[i] == BATCH ? "batch" : shape[i] == DYNAMIC ? "dynamic"
                    : Long.toString(shape[i]));
        }
        return b.append(']').toString();
    }
}
