package org.gpulrp.io.onnx;

import static org.gpulrp.io.onnx.NodeAttrs.allowOnly;
import static org.gpulrp.io.onnx.NodeAttrs.floatAttr;
import static org.gpulrp.io.onnx.NodeAttrs.intAttr;
import static org.gpulrp.io.onnx.NodeAttrs.singleInput;

import java.util.Set;
import org.gpulrp.io.onnx.OnnxModel.NodeDef;
import org.gpulrp.io.onnx.OnnxModel.TensorDef;
import org.gpulrp.model.Activation;
import org.gpulrp.model.Softmax;

/**
 * Maps the activations Relu, Sigmoid, Tanh, HardSigmoid (PyTorch's), HardSwish, Gelu (from the erf or tanh chain
 * {@link PatternFusion} finds, or ONNX's own), Clip (as ReLU6 or ReLU, or as nothing where the graph proves it
 * changes nothing) and Softmax (over the features, or over each row of the last axis). The products
 * {@code x * Sigmoid(x)} and {@code x * HardSigmoid(x)} are fused by {@link ProductMapper}.
 */
final class ActivationMapper {
    private ActivationMapper() {
    }

    static void activation(MappingState ctx, NodeDef n, Where w, int k, Activation.Function f) {
        allowOnly(n, w, Set.of());
        singleInput(n, w, 1);
        ctx.addStep(ctx.layerName(n, k), w, new Activation(f));
    }

    /**
     * Softmax over the features of a {@code [batch, features]} sample (an {@link Activation}), or over the last axis
     * of a larger one ({@link Softmax} per row: attention's scores).
     */
    static void softmax(MappingState ctx, NodeDef n, Where w, int k) {
        allowOnly(n, w, Set.of("axis"));
        singleInput(n, w, 1);
        long axis = intAttr(n, w, "axis", ctx.opset < 13 ? 1 : -1);
        MappingState.Value v = ctx.current;
        int rank = ctx.features == null ? 2 : ctx.features.length + 1;
        long a = axis < 0 ? axis + rank : axis;
        // Before opset 13, axis 1 meant "flatten to [batch, rest] and normalize the rest": the same as ours.
        boolean flat = rank == 2 ? a == 1 : ctx.opset < 13 && axis == 1;
        if (flat && (v == null || v.standard())) {
            ctx.addStep(ctx.layerName(n, k), w, new Activation(Activation.Function.SOFTMAX));
            return;
        }
        if (a != rank - 1 || v == null || v.batchAxis() == rank - 1) {
            throw w.fail("axis=" + axis + " on a rank-" + rank + " input is not supported; gpulrp applies softmax "
                    + "over the features of each sample (axis -1 of a [batch, features] input) or over the last "
                    + "axis of each sample");
        }
        ctx.addStep(ctx.layerName(n, k), w, new Softmax((int) ctx.features[ctx.features.length - 1]));
    }

    /** ONNX's Gelu (opset 20, and what {@link PatternFusion} makes of the erf and tanh chains). */
    static void gelu(MappingState ctx, NodeDef n, Where w, int k) {
        allowOnly(n, w, Set.of("approximate"));
        singleInput(n, w, 1);
        String approximate = NodeAttrs.stringAttr(n, "approximate", "none");
        if (!approximate.equals("none") && !approximate.equals("tanh")) {
            throw w.fail("approximate='" + approximate + "' is not supported (none or tanh)");
        }
        ctx.addStep(ctx.layerName(n, k), w, new Activation(approximate.equals("none") ? Activation.Function.GELU
                : Activation.Function.GELU_TANH));
    }

    /** HardSigmoid with PyTorch's alpha 1/6 and beta 1/2 (what {@code nn.Hardsigmoid} exports). */
    static void hardSigmoid(MappingState ctx, NodeDef n, Where w, int k) {
        allowOnly(n, w, Set.of("alpha", "beta"));
        singleInput(n, w, 1);
        float alpha = floatAttr(n, w, "alpha", 0.2f);
        float beta = floatAttr(n, w, "beta", 0.5f);
        if (Math.abs(alpha - 1.0 / 6) > 1e-6 || Math.abs(beta - 0.5) > 1e-6) {
            throw w.fail("alpha=" + alpha + ", beta=" + beta + " is not supported; gpulrp supports PyTorch's hard "
                    + "sigmoid, alpha=1/6 and beta=0.5");
        }
        ctx.addStep(ctx.layerName(n, k), w, new Activation(Activation.Function.HARDSIGMOID));
    }

    /** A Clip's bounds {@code {min, max}}: constant inputs (opset 11+) or attributes, infinite when absent. */
    static float[] clipBounds(MappingState ctx, NodeDef n, Where w) {
        allowOnly(n, w, Set.of("min", "max"));
        singleInput(n, w, 3);
        float min = floatAttr(n, w, "min", Float.NEGATIVE_INFINITY);
        float max = floatAttr(n, w, "max", Float.POSITIVE_INFINITY);
        if (n.inputs().size() > 1 && !n.inputs().get(1).isEmpty()) {
            min = bound(ctx, n, w, 1, "min");
        }
        if (n.inputs().size() > 2 && !n.inputs().get(2).isEmpty()) {
            max = bound(ctx, n, w, 2, "max");
        }
        return new float[] {min, max};
    }

    /**
     * Clip to [0, 6] (ReLU6) or [0, inf) (ReLU); any other Clip only where the bounds of its input, which the graph
     * proves (an attention mask and what is computed from it), lie within the Clip's at every feature: then it
     * changes nothing and maps to no layer.
     */
    static void clip(MappingState ctx, NodeDef n, Where w, int k) {
        float[] range = clipBounds(ctx, n, w);
        float min = range[0];
        float max = range[1];
        MappingState.Value v = ctx.current;
        if (v != null && v.lo() != null && within(v, min, max)) {
            ctx.values.put(n.outputs().get(0), v);
            ctx.produced = null;
            return;
        }
        Activation.Function f;
        if (min == 0f && max == 6f) {
            f = Activation.Function.RELU6;
        } else if (min == 0f && max >= Float.MAX_VALUE) {
            f = Activation.Function.RELU;
        } else {
            throw w.fail("clips to [" + min + ", " + max + "]; gpulrp supports Clip to [0, 6] (ReLU6) or [0, inf) "
                    + "(ReLU), and other bounds only where the graph proves the Clip changes nothing");
        }
        ctx.addStep(ctx.layerName(n, k), w, new Activation(f));
    }

    private static boolean within(MappingState.Value v, float min, float max) {
        for (int i = 0; i < v.lo().length; i++) {
            if (!(v.lo()[i] >= min && v.hi()[i] <= max)) {
                return false;
            }
        }
        return true;
    }

    private static float bound(MappingState ctx, NodeDef n, Where w, int index, String what) {
        TensorDef t = ctx.constantInput(n, w, index, what);
        float[] v = TensorData.floats(t, w, ctx.baseDir);
        if (v.length != 1) {
            throw w.fail(what + " '" + t.name() + "' has " + v.length + " values; Clip takes a scalar bound");
        }
        return v[0];
    }
}
