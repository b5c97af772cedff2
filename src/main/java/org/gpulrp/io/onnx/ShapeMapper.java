package org.gpulrp.io.onnx;

import static org.gpulrp.io.onnx.NodeAttrs.allowOnly;
import static org.gpulrp.io.onnx.NodeAttrs.attr;
import static org.gpulrp.io.onnx.NodeAttrs.floatAttr;
import static org.gpulrp.io.onnx.NodeAttrs.intAttr;
import static org.gpulrp.io.onnx.NodeAttrs.singleInput;
import static org.gpulrp.io.onnx.NodeAttrs.stringAttr;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import org.gpulrp.io.onnx.MappingState.Pending;
import org.gpulrp.io.onnx.OnnxModel.Attribute;
import org.gpulrp.io.onnx.OnnxModel.NodeDef;
import org.gpulrp.io.onnx.OnnxModel.TensorDef;
import org.gpulrp.model.Identity;

/**
 * Maps the operators that only move or reshape values: Flatten, Reshape, Identity, Dropout (inference), a zero Pad
 * (merged into the Conv that reads it), and the shape computations Shape, Gather, Unsqueeze and Concat of shapes
 * that {@code x.view(x.size(0), -1)} exports as, evaluated at import time.
 */
final class ShapeMapper {
    /** Marks the batch size inside a shape computed at import time (the batch is symbolic). */
    static final long BATCH = Long.MIN_VALUE;

    /**
     * An integer tensor computed from shapes while importing ({@code x.view(x.size(0), -1)} exports as
     * Shape, Gather, Unsqueeze, Concat, Reshape): a scalar or a list, {@link #BATCH} standing for the batch size.
     */
    record ShapeValue(long[] v, boolean scalar) {
    }

    private ShapeMapper() {
    }

    static void flatten(MappingState ctx, NodeDef n, Where w, int k) {
        allowOnly(n, w, Set.of("axis"));
        singleInput(n, w, 1);
        long axis = intAttr(n, w, "axis", 1);
        int rank = ctx.features == null ? 2 : ctx.features.length + 1;
        if ((axis < 0 ? axis + rank : axis) != 1) {
            throw w.fail("axis=" + axis + " is not supported: gpulrp keeps the batch dimension and flattens the "
                    + "rest (axis 1)");
        }
        if (ctx.features != null) {
            ctx.features = new long[] {MappingState.product(ctx.features)};
        }
        ctx.addStep(ctx.layerName(n, k), w, new Identity());
    }

    static void reshape(MappingState ctx, NodeDef n, Where w, int k) {
        allowOnly(n, w, Set.of("allowzero"));
        if (n.inputs().size() != 2) {
            throw w.fail("needs 2 inputs (data, shape), has " + n.inputs().size());
        }
        boolean allowZero = intAttr(n, w, "allowzero", 0) != 0;
        ShapeValue computed = ctx.shapeValues.get(n.inputs().get(1));
        long[] shape = computed != null ? computed.v()
                : TensorData.longs(ctx.constantInput(n, w, 1, "shape"), w, ctx.baseDir);
        String bad = "reshapes to " + shapeText(shape) + "; gpulrp supports only a shape that keeps [batch, features], "
                + "e.g. [-1, N], [0, N] or [batch, -1]";
        if (shape.length != 2 || shape[1] == BATCH) {
            throw w.fail(bad);
        }
        long have = ctx.features == null ? -1 : MappingState.product(ctx.features);
        boolean batchKept = shape[0] == -1 || shape[0] == BATCH || (shape[0] == 0 && !allowZero)
                || (shape[0] > 0 && shape[0] == ctx.fixedBatch);
        if (!batchKept) {
            throw w.fail(bad);
        }
        long f;
        if (shape[1] > 0) {
            f = shape[1];
        } else if (shape[1] == -1 && shape[0] != -1 && have > 0) {
            f = have;
        } else if (shape[1] == 0 && !allowZero && ctx.features != null && ctx.features.length == 1) {
            f = ctx.features[0];
        } else {
            throw w.fail(bad);
        }
        if (have > 0 && f != have) {
            throw w.fail("reshapes " + have + " features per sample into " + f + "; the feature count must stay the "
                    + "same");
        }
        if (ctx.inputSize < 0 && f <= Integer.MAX_VALUE - 8) {
            ctx.inputSize = (int) f; // no input shape: the reshape tells the feature count
        }
        ctx.features = new long[] {f};
        ctx.addStep(ctx.layerName(n, k), w, new Identity());
    }

    /** Shape of a graph value of known shape: {@code [batch, dims...]}, sliced by opset 15's start and end. */
    static void shape(MappingState ctx, NodeDef n, Where w) {
        allowOnly(n, w, Set.of("start", "end"));
        singleInput(n, w, 1);
        if (ctx.features == null) {
            throw w.fail("reads a value of unknown shape; give the graph input a fixed [N, C, H, W] or [N, F] shape");
        }
        long[] full = new long[ctx.features.length + 1];
        full[0] = BATCH;
        System.arraycopy(ctx.features, 0, full, 1, ctx.features.length);
        int rank = full.length;
        long start = intAttr(n, w, "start", 0);
        long end = intAttr(n, w, "end", rank);
        start = Math.min(Math.max(start < 0 ? start + rank : start, 0), rank);
        end = Math.min(Math.max(end < 0 ? end + rank : end, 0), rank);
        ctx.shapeValues.put(n.outputs().get(0), new ShapeValue(Arrays.copyOfRange(full, (int) start,
                (int) Math.max(start, end)), false));
        ctx.produced = null;
    }

    static boolean readsShapeValue(MappingState ctx, NodeDef n) {
        return n.inputs().stream().anyMatch(ctx.shapeValues::containsKey);
    }

    /** An input of a shape computation: a value computed from Shape, or an integer constant of rank 0 or 1. */
    static ShapeValue shapeInput(MappingState ctx, NodeDef n, Where w, int index, String what) {
        String name = n.inputs().get(index);
        ShapeValue v = ctx.shapeValues.get(name);
        if (v != null) {
            return v;
        }
        if (ctx.values.containsKey(name)) {
            throw w.fail("reads the graph value '" + name + "' as its " + what + "; gpulrp evaluates " + n.opType()
                    + " only on shapes (as in x.view(x.size(0), -1)), not on the data flowing through the network");
        }
        TensorDef t = ctx.constantInput(n, w, index, what);
        if (t.dims().length > 1) {
            throw w.fail(what + " '" + name + "' has shape " + Arrays.toString(t.dims()) + "; gpulrp evaluates shape "
                    + "computations on scalars and lists only");
        }
        return new ShapeValue(TensorData.longs(t, w, ctx.baseDir), t.dims().length == 0);
    }

    /** Gather, Unsqueeze or Concat on shapes: evaluated here; the result feeds a Reshape (or nothing). */
    static void shapeOp(MappingState ctx, NodeDef n, Where w) {
        ShapeValue result;
        switch (n.opType()) {
            case "Gather" -> {
                allowOnly(n, w, Set.of("axis"));
                if (n.inputs().size() != 2) {
                    throw w.fail("needs 2 inputs (data, indices), has " + n.inputs().size());
                }
                if (intAttr(n, w, "axis", 0) != 0) {
                    throw w.fail("axis=" + intAttr(n, w, "axis", 0) + " is not supported; gpulrp evaluates Gather on "
                            + "a shape list (axis 0)");
                }
                ShapeValue data = shapeInput(ctx, n, w, 0, "data");
                ShapeValue idx = shapeInput(ctx, n, w, 1, "indices");
                if (data.scalar()) {
                    throw w.fail("gathers from a scalar; the data must be a list");
                }
                long[] out = new long[idx.v().length];
                for (int i = 0; i < out.length; i++) {
                    long j = idx.v()[i] < 0 ? idx.v()[i] + data.v().length : idx.v()[i];
                    if (idx.v()[i] == BATCH || j < 0 || j >= data.v().length) {
                        throw w.fail("index " + shapeText(new long[] {idx.v()[i]}) + " is out of range for "
                                + shapeText(data.v()));
                    }
                    out[i] = data.v()[(int) j];
                }
                result = new ShapeValue(out, idx.scalar());
            }
            case "Unsqueeze" -> {
                allowOnly(n, w, Set.of("axes"));
                ShapeValue data = shapeInput(ctx, n, w, 0, "data");
                long[] axes;
                if (n.inputs().size() > 1 && !n.inputs().get(1).isEmpty()) {
                    axes = TensorData.longs(ctx.constantInput(n, w, 1, "axes"), w, ctx.baseDir);
                } else {
                    Attribute a = attr(n, "axes");
                    axes = a == null || a.ints() == null ? new long[0] : a.ints();
                }
                if (!data.scalar() || axes.length != 1 || (axes[0] != 0 && axes[0] != -1)) {
                    throw w.fail("unsqueezes " + (data.scalar() ? "a scalar" : "a list") + " at axes "
                            + Arrays.toString(axes) + "; gpulrp evaluates only a scalar made a list (axes [0])");
                }
                result = new ShapeValue(data.v(), false);
            }
            default -> { // Concat
                allowOnly(n, w, Set.of("axis"));
                long axis = intAttr(n, w, "axis", 0);
                if (axis != 0 && axis != -1) {
                    throw w.fail("axis=" + axis + " on shape lists is not supported (axis 0)");
                }
                List<Long> out = new ArrayList<>();
                for (int i = 0; i < n.inputs().size(); i++) {
                    ShapeValue part = shapeInput(ctx, n, w, i, "input " + i);
                    if (part.scalar()) {
                        throw w.fail("concatenates a scalar; Concat needs lists");
                    }
                    for (long x : part.v()) {
                        out.add(x);
                    }
                }
                result = new ShapeValue(out.stream().mapToLong(Long::longValue).toArray(), false);
            }
        }
        if (n.outputs().size() != 1 || n.outputs().get(0).isEmpty()) {
            throw w.fail("has " + n.outputs().size() + " outputs, expected 1");
        }
        ctx.shapeValues.put(n.outputs().get(0), result);
    }

    /** A shape for messages, the batch shown as "batch". */
    static String shapeText(long[] shape) {
        StringBuilder b = new StringBuilder("[");
        for (int i = 0; i < shape.length; i++) {
            b.append(i > 0 ? ", " : "").append(shape[i] == BATCH ? "batch" : Long.toString(shape[i]));
        }
        return b.append(']').toString();
    }

    static void dropout(MappingState ctx, NodeDef n, Where w, int k) {
        allowOnly(n, w, Set.of("ratio", "seed", "is_test"));
        if (n.inputs().size() > 3) {
            throw w.fail("has " + n.inputs().size() + " inputs; Dropout takes data, ratio and training_mode");
        }
        if (n.inputs().size() > 1 && !n.inputs().get(1).isEmpty()) {
            ctx.constantInput(n, w, 1, "ratio");
        }
        if (n.inputs().size() > 2 && !n.inputs().get(2).isEmpty()) {
            TensorDef mode = ctx.constantInput(n, w, 2, "training_mode");
            if (!TensorData.allZero(mode, w)) {
                throw w.fail("training_mode is true; gpulrp explains inference, where Dropout passes values "
                        + "through (export the model in eval mode)");
            }
        }
        if (n.outputs().size() > 1 && !n.outputs().get(1).isEmpty()
                && ctx.uses.getOrDefault(n.outputs().get(1), 0) > 0) {
            throw w.fail("its mask output '" + n.outputs().get(1) + "' is used; at inference Dropout passes values "
                    + "through and has no mask to use");
        }
        ctx.addStep(ctx.layerName(n, k), w, new Identity());
    }

    /** A constant zero Pad over height and width; merged into the Conv that reads it. */
    static void pad(MappingState ctx, NodeDef n, Where w) {
        allowOnly(n, w, Set.of("mode", "pads", "value"));
        String mode = stringAttr(n, "mode", "constant");
        if (!mode.equals("constant")) {
            throw w.fail("mode '" + mode + "' is not supported; gpulrp supports zero padding only");
        }
        long[] p;
        if (n.inputs().size() > 1 && !n.inputs().get(1).isEmpty()) {
            p = TensorData.longs(ctx.constantInput(n, w, 1, "pads"), w, ctx.baseDir);
        } else {
            Attribute a = attr(n, "pads");
            if (a == null || a.ints() == null) {
                throw w.fail("has no pads");
            }
            p = a.ints();
        }
        boolean zero = floatAttr(n, w, "value", 0f) == 0f;
        if (n.inputs().size() > 2 && !n.inputs().get(2).isEmpty()) {
            zero &= TensorData.allZero(ctx.constantInput(n, w, 2, "constant_value"), w);
        }
        if (!zero) {
            throw w.fail("pads with a non-zero value; gpulrp supports zero padding only");
        }
        if (n.inputs().size() > 3) {
            throw w.fail("axes input is not supported; give pads for all 4 dimensions");
        }
        ctx.image(w);
        if (p.length == 8 && Arrays.stream(p).allMatch(x -> x == 0)) {
            // a no-op (torch exports one for pools)
            ctx.values.put(n.outputs().get(0), ctx.values.get(n.inputs().get(0)));
            ctx.produced = null;
            return;
        }
        if (p.length != 8 || p[0] != 0 || p[1] != 0 || p[4] != 0 || p[5] != 0 || p[2] != p[6] || p[3] != p[7]
                || p[2] < 0 || p[3] < 0) {
            throw w.fail("pads " + Arrays.toString(p) + " are not supported; gpulrp merges into the following Conv "
                    + "only symmetric zero padding of height and width");
        }
        ctx.pads.put(n.outputs().get(0), new Pending(n.inputs().get(0), (int) p[2], (int) p[3], w));
        ctx.produced = null;
    }

    static void passThrough(MappingState ctx, NodeDef n, Where w, int k, Set<String> attrs, int inputs) {
        allowOnly(n, w, attrs);
        singleInput(n, w, inputs);
        ctx.addStep(ctx.layerName(n, k), w, new Identity());
    }
}
