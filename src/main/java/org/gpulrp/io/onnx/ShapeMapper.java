package org.gpulrp.io.onnx;

import static org.gpulrp.io.onnx.NodeAttrs.allowOnly;
import static org.gpulrp.io.onnx.NodeAttrs.attr;
import static org.gpulrp.io.onnx.NodeAttrs.floatAttr;
import static org.gpulrp.io.onnx.NodeAttrs.intAttr;
import static org.gpulrp.io.onnx.NodeAttrs.singleInput;
import static org.gpulrp.io.onnx.NodeAttrs.stringAttr;

import java.util.Arrays;
import java.util.Set;
import org.gpulrp.io.onnx.MappingState.Pending;
import org.gpulrp.io.onnx.MappingState.Value;
import org.gpulrp.io.onnx.ShapeGraph.ShapeValue;
import org.gpulrp.io.onnx.OnnxModel.Attribute;
import org.gpulrp.io.onnx.OnnxModel.NodeDef;
import org.gpulrp.io.onnx.OnnxModel.TensorDef;
import org.gpulrp.model.Identity;

/**
 * Maps the operators that only move or reshape values: Flatten, Reshape, Identity, Dropout (inference) and a zero
 * Pad (merged into the Conv or AveragePool that reads it). The shape computations feeding Reshape are evaluated by
 * {@link ShapeGraph}.
 */
final class ShapeMapper {
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

    /**
     * Reshape keeping the batch axis first ({@code -1}, {@code 0}, the fixed batch or the computed batch marker):
     * to {@code [batch, features]} an Identity layer (as before), to a higher rank no layer at all (the values stay
     * where they are; only their logical per-sample shape changes, which a Transpose after it reads).
     */
    static void reshape(MappingState ctx, NodeDef n, Where w, int k) {
        allowOnly(n, w, Set.of("allowzero"));
        if (n.inputs().size() != 2) {
            throw w.fail("needs 2 inputs (data, shape), has " + n.inputs().size());
        }
        boolean allowZero = intAttr(n, w, "allowzero", 0) != 0;
        ShapeValue computed = ctx.shapeValues.get(n.inputs().get(1));
        long[] shape = computed != null ? computed.v()
                : TensorData.longs(ctx.constantInput(n, w, 1, "shape"), w, ctx.baseDir);
        String bad = "reshapes to " + ShapeGraph.text(shape) + "; gpulrp supports only a shape that keeps [batch, "
                + "features] (the batch axis first and unchanged), e.g. [-1, N], [0, N], [batch, -1] or [batch, C, "
                + "H, W]";
        long b = shape.length == 0 ? 1 : shape[0];
        boolean batchKept = b == -1 || b == ShapeGraph.BATCH || (b == 0 && !allowZero)
                || (b > 0 && b == ctx.fixedBatch);
        if (shape.length < 2 || !batchKept) {
            throw w.fail(bad);
        }
        long[] in = ctx.features;
        long[] out = new long[shape.length - 1];
        int free = -1;
        long known = 1;
        for (int i = 1; i < shape.length; i++) {
            long x = shape[i];
            if (x == 0 && !allowZero) {
                if (in == null || i - 1 >= in.length) {
                    throw w.fail(bad);
                }
                x = in[i - 1];
            }
            if (x == -1 && b != -1 && free < 0) {
                free = i - 1;
                continue;
            }
            if (x <= 0) {
                throw w.fail(bad);
            }
            out[i - 1] = x;
            known = MappingState.product(new long[] {known, x});
        }
        long have = in == null ? -1 : MappingState.product(in);
        if (free >= 0) {
            if (have < 0 || have % known != 0) {
                throw w.fail(have < 0 ? bad : "reshapes " + have + " features per sample into " + ShapeGraph.text(
                        shape) + "; the feature count must stay the same");
            }
            out[free] = have / known;
        }
        long f = MappingState.product(out);
        if (have > 0 && f != have) {
            throw w.fail("reshapes " + have + " features per sample into " + f + "; the feature count must stay the "
                    + "same");
        }
        if (out.length > 1) {
            if (in == null) {
                throw w.fail("reshapes a value of unknown shape to rank " + shape.length + "; give the graph input a "
                        + "fixed [N, C, H, W] shape");
            }
            ctx.values.put(n.outputs().get(0), new Value(ctx.source, out)); // a view: no layer
            ctx.produced = null;
            return;
        }
        if (ctx.inputSize < 0 && f <= Integer.MAX_VALUE - 8) {
            ctx.inputSize = (int) f; // no input shape: the reshape tells the feature count
        }
        ctx.features = out;
        ctx.addStep(ctx.layerName(n, k), w, new Identity());
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
                    + "or AveragePool only symmetric zero padding of height and width");
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
