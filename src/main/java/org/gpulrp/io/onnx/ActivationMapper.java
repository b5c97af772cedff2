package org.gpulrp.io.onnx;

import static org.gpulrp.io.onnx.NodeAttrs.allowOnly;
import static org.gpulrp.io.onnx.NodeAttrs.intAttr;
import static org.gpulrp.io.onnx.NodeAttrs.singleInput;

import java.util.Set;
import org.gpulrp.io.onnx.OnnxModel.NodeDef;
import org.gpulrp.model.Activation;

/** Maps the activations Relu, Sigmoid and Softmax. */
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
}
