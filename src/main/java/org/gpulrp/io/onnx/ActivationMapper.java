package org.gpulrp.io.onnx;

import static org.gpulrp.io.onnx.NodeAttrs.allowOnly;
import static org.gpulrp.io.onnx.NodeAttrs.floatAttr;
import static org.gpulrp.io.onnx.NodeAttrs.intAttr;
import static org.gpulrp.io.onnx.NodeAttrs.singleInput;

import java.util.Set;
import org.gpulrp.io.onnx.OnnxModel.NodeDef;
import org.gpulrp.io.onnx.OnnxModel.TensorDef;
import org.gpulrp.model.Activation;

/**
 * Maps the activations Relu, Sigmoid, HardSigmoid (PyTorch's), HardSwish, Clip (as ReLU6 or ReLU) and Softmax. The
 * products {@code x * Sigmoid(x)} and {@code x * HardSigmoid(x)} are fused by {@link ProductMapper}.
 */
final class ActivationMapper {
    private ActivationMapper() {
    }

    static void activation(MappingState ctx, NodeDef n, Where w, int k, Activation.Function f) {
        allowOnly(n, w, Set.of());
        singleInput(n, w, 1);
        ctx.addStep(ctx.layerName(n, k), w, new Activation(f));
    }

    static void softmax(MappingState ctx, NodeDef n, Where w, int k) {
        allowOnly(n, w, Set.of("axis"));
        singleInput(n, w, 1);
        long axis = intAttr(n, w, "axis", ctx.opset < 13 ? 1 : -1);
        int rank = ctx.features == null ? 2 : ctx.features.length + 1;
        // Before opset 13, axis 1 meant "flatten to [batch, rest] and normalize the rest": the same as ours.
        boolean flat = rank == 2 ? axis == 1 || axis == -1 : ctx.opset < 13 && axis == 1;
        if (!flat) {
            throw w.fail("axis=" + axis + " on a rank-" + rank + " input is not supported; gpulrp applies softmax "
                    + "over the features of each sample (axis -1 of a [batch, features] input)");
        }
        ctx.addStep(ctx.layerName(n, k), w, new Activation(Activation.Function.SOFTMAX));
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

    /** Clip to [0, 6] (ReLU6) or [0, inf) (ReLU); bounds as constant inputs (opset 11+) or attributes. */
    static void clip(MappingState ctx, NodeDef n, Where w, int k) {
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
        Activation.Function f;
        if (min == 0f && max == 6f) {
            f = Activation.Function.RELU6;
        } else if (min == 0f && max >= Float.MAX_VALUE) {
            f = Activation.Function.RELU;
        } else {
            throw w.fail("clips to [" + min + ", " + max + "]; gpulrp supports Clip to [0, 6] (ReLU6) or [0, inf) "
                    + "(ReLU)");
        }
        ctx.addStep(ctx.layerName(n, k), w, new Activation(f));
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
