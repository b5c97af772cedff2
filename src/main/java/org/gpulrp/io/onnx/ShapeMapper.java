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
     * Reshape that keeps each sample's values together. The target's batch axis is its batch marker (the batch, or
     * a known multiple of it), a 0 copying the input's batch axis, the fixed batch size first, or a -1 first; its
     * size may merge the batch with other axes as long as every sample keeps its own values (the product of the axes
     * before the batch stays the same), which is what attention's head splits and GPT-2's {@code x.view(-1, n)}
     * export. To {@code [batch, features]} an Identity layer (as before); otherwise no layer at all (the values stay
     * where they are; only their logical shape changes, which a Transpose or a token-wise layer after it reads).
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
                + "features] (the batch axis first and unchanged, or merged with other axes so that each sample keeps "
                + "its values), e.g. [-1, N], [0, N], [batch, -1] or [batch, C, H, W]";
        Value v = ctx.current;
        if (v == null || v.shape() == null) {
            reshapeUnknown(ctx, n, w, k, shape, allowZero, bad);
            return;
        }
        long[] in = v.onnxDims();
        long[] t = shape.clone();
        int batch = -1;
        long factor = 0;
        for (int i = 0; i < t.length; i++) {
            if (t[i] == 0 && !allowZero && i < in.length) {
                t[i] = in[i];
            }
            if (ShapeGraph.marker(t[i])) {
                if (ShapeGraph.batchFactor(t[i]) == 0 || batch >= 0) {
                    throw w.fail(bad);
                }
                batch = i;
                factor = ShapeGraph.batchFactor(t[i]);
            }
        }
        if (batch < 0 && t.length > 0 && (t[0] == -1 || (t[0] > 0 && t[0] == ctx.fixedBatch))) {
            batch = 0;
            factor = t[0] == -1 ? -1 : 1;
        }
        if (batch < 0 || t.length < 2) {
            throw w.fail(bad);
        }
        long have = v.size();
        long known = 1;
        int free = -1;
        for (int i = 0; i < t.length; i++) {
            if (i == batch) {
                continue;
            }
            if (t[i] == -1 && free < 0 && factor > 0) {
                free = i;
            } else if (t[i] <= 0) {
                throw w.fail(bad);
            } else {
                known = MappingState.product(new long[] {known, t[i]});
            }
        }
        long need = factor > 0 ? factor * known : known;
        if (have % need != 0 || (free < 0 && factor > 0 && have != need)) {
            throw w.fail("reshapes " + have + " features per sample into " + (factor > 0 ? ShapeGraph.text(shape)
                    : Long.toString(known)) + "; the feature count must stay the same");
        }
        if (free >= 0) {
            t[free] = have / need;
        } else if (factor < 0) {
            factor = have / known;
        }
        long before = v.outer();
        for (int j = 0; j < v.batchAxis(); j++) {
            before *= in[j];
        }
        long prefix = 1;
        for (int j = 0; j < batch; j++) {
            prefix *= t[j];
        }
        if (before % prefix != 0 || factor % (before / prefix) != 0) {
            throw w.fail(bad);
        }
        long outer = before / prefix;
        long[] dims = new long[t.length - 1];
        for (int j = 0, o = 0; j < t.length; j++) {
            if (j != batch) {
                dims[o++] = t[j];
            }
        }
        Value out = new Value(v.node(), dims, batch, outer, factor / outer, v.integer(), v.lo(), v.hi());
        if (out.standard() && dims.length == 1) {
            ctx.features = dims;
            ctx.addStep(ctx.layerName(n, k), w, new Identity());
            return; // GraphMapper defines the output, as for every layer
        }
        ctx.values.put(n.outputs().get(0), out); // a view: no layer
        ctx.produced = null;
    }

    /** Reshape of an input without a shape: only to {@code [batch, features]}, which tells the feature count. */
    private static void reshapeUnknown(MappingState ctx, NodeDef n, Where w, int k, long[] shape, boolean allowZero,
                                       String bad) {
        long b = shape.length == 0 ? 1 : shape[0];
        boolean batchKept = b == -1 || b == ShapeGraph.BATCH || (b == 0 && !allowZero)
                || (b > 0 && b == ctx.fixedBatch);
        if (shape.length != 2 || !batchKept) {
            throw w.fail(shape.length > 2 && batchKept ? "reshapes a value of unknown shape to rank " + shape.length
                    + "; give the graph input a fixed [N, C, H, W] shape" : bad);
        }
        long f = shape[1];
        if (f <= 0 || ShapeGraph.marker(f)) {
            throw w.fail(bad);
        }
        if (ctx.inputSize < 0 && f <= Integer.MAX_VALUE - 8) {
            ctx.inputSize = (int) f; // no input shape: the reshape tells the feature count
        }
        ctx.features = new long[] {f};
        ctx.addStep(ctx.layerName(n, k), w, new Identity());
    }

    static void dropout(MappingState ctx, NodeDef n, Where w, int k) {
        allowOnly(n, w, Set.of("ratio", "seed", "is_test"));
        if (n.inputs().size() > 3) {
            throw w.fail("has " + n.inputs().size() + " inputs; Dropout takes data, ratio and training_mode");
        }
        boolean noRatio = true;
        if (n.inputs().size() > 1 && !n.inputs().get(1).isEmpty()) {
            float[] ratio = TensorData.floats(ctx.constantInput(n, w, 1, "ratio"), w, ctx.baseDir);
            noRatio = ratio.length == 1 && ratio[0] == 0f;
        }
        if (n.inputs().size() > 2 && !n.inputs().get(2).isEmpty()) {
            TensorDef mode = ctx.constantInput(n, w, 2, "training_mode");
            // F.dropout(x, p=0.0) with its default training=True (torchvision's Swin attention) is the identity
            if (!TensorData.allZero(mode, w) && !noRatio) {
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
