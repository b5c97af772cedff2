package org.gpulrp.io.onnx;

import static org.gpulrp.io.onnx.NodeAttrs.allowOnly;
import static org.gpulrp.io.onnx.NodeAttrs.floatAttr;
import static org.gpulrp.io.onnx.NodeAttrs.intAttr;

import java.util.Set;
import org.gpulrp.LrpException;
import org.gpulrp.io.onnx.OnnxModel.NodeDef;
import org.gpulrp.model.BatchNorm;
import org.gpulrp.model.LayerNorm;

/**
 * Maps BatchNormalization (in inference mode; folded into the layer before it later, when it can be) and the
 * normalizations over the last axis: LayerNormalization (opset 17, or the ReduceMean, Sub, Pow, ... chain
 * {@link PatternFusion} finds) and RMSNormalization (opset 23, or Llama's Pow, ReduceMean, Add, Sqrt, Div, Mul chain),
 * both as {@link LayerNorm}.
 */
final class NormMapper {
    private NormMapper() {
    }

    static void batchNorm(MappingState ctx, NodeDef n, Where w, int k) {
        allowOnly(n, w, Set.of("epsilon", "momentum", "training_mode", "spatial"));
        if (intAttr(n, w, "training_mode", 0) != 0 || intAttr(n, w, "spatial", 1) != 1) {
            throw w.fail("training_mode=1 or spatial=0 is not supported; export the model in eval mode");
        }
        if (n.inputs().size() != 5) {
            throw w.fail("needs inputs X, scale, B, mean, var, has " + n.inputs().size());
        }
        for (int o = 1; o < n.outputs().size(); o++) {
            if (!n.outputs().get(o).isEmpty() && ctx.uses.getOrDefault(n.outputs().get(o), 0) > 0) {
                throw w.fail("its running-statistics output '" + n.outputs().get(o) + "' is used; gpulrp explains "
                        + "inference (export the model in eval mode)");
            }
        }
        if (ctx.features == null || (ctx.features.length != 3 && ctx.features.length != 1)) {
            throw w.fail("needs a [batch, C, H, W] or [batch, C] input with a known shape");
        }
        int c = (int) ctx.features[0];
        int h = ctx.features.length == 3 ? (int) ctx.features[1] : 1;
        int wd = ctx.features.length == 3 ? (int) ctx.features[2] : 1;
        float[][] p = new float[4][];
        String[] what = {"scale", "B", "mean", "var"};
        for (int i = 0; i < 4; i++) {
            p[i] = TensorData.floats(ctx.constantInput(n, w, i + 1, what[i]), w, ctx.baseDir);
        }
        float eps = floatAttr(n, w, "epsilon", 1e-5f);
        BatchNorm layer;
        try {
            layer = new BatchNorm(c, h, wd, p[0], p[1], p[2], p[3], eps);
        } catch (LrpException e) {
            throw w.fail(e.getMessage());
        }
        ctx.addStep(ctx.weightLayerName(n.inputs().get(1), n, k), w, layer);
    }

    /** LayerNormalization ({@code rms}: RMSNormalization) over the last axis: inputs X, scale and bias, optional. */
    static void layerNorm(MappingState ctx, NodeDef n, Where w, int k, boolean rms) {
        allowOnly(n, w, Set.of("axis", "epsilon", "stash_type"));
        if (n.inputs().size() > (rms ? 2 : 3)) {
            throw w.fail("has " + n.inputs().size() + " inputs; it takes X, scale" + (rms ? "" : " and B"));
        }
        for (int o = 1; o < n.outputs().size(); o++) {
            if (!n.outputs().get(o).isEmpty() && ctx.uses.getOrDefault(n.outputs().get(o), 0) > 0) {
                throw w.fail("its statistics output '" + n.outputs().get(o) + "' is used; gpulrp maps the "
                        + "normalized output only");
            }
        }
        MappingState.Value v = ctx.current;
        if (v == null || v.shape() == null || v.shape().length == 0) {
            throw w.fail("needs an input of known shape");
        }
        int rank = v.shape().length + 1;
        long axis = intAttr(n, w, "axis", -1);
        if ((axis < 0 ? axis + rank : axis) != rank - 1 || v.batchAxis() == rank - 1) {
            throw w.fail("axis=" + axis + " on a rank-" + rank + " input is not supported; gpulrp normalizes the "
                    + "last axis of each sample");
        }
        int hidden = (int) v.shape()[v.shape().length - 1];
        float[] gamma = vector(ctx, n, w, 1, hidden, "scale");
        float[] beta = rms ? null : vector(ctx, n, w, 2, hidden, "B");
        float eps = floatAttr(n, w, "epsilon", 1e-5f);
        LayerNorm layer;
        try {
            layer = new LayerNorm((int) (v.size() / hidden), hidden, gamma, beta, eps, rms);
        } catch (LrpException e) {
            throw w.fail(e.getMessage());
        }
        String name = n.inputs().size() > 1 && !n.inputs().get(1).isEmpty()
                ? ctx.weightLayerName(n.inputs().get(1), n, k) : ctx.layerName(n, k);
        ctx.addStep(name, w, layer);
    }

    /** A constant input of {@code size} values (a single one broadcasts), or null when absent. */
    private static float[] vector(MappingState ctx, NodeDef n, Where w, int index, int size, String what) {
        if (n.inputs().size() <= index || n.inputs().get(index).isEmpty()) {
            return null;
        }
        float[] v = TensorData.floats(ctx.constantInput(n, w, index, what), w, ctx.baseDir);
        if (v.length == 1 && size > 1) {
            float[] out = new float[size];
            java.util.Arrays.fill(out, v[0]);
            return out;
        }
        if (v.length != size) {
            throw w.fail(what + " '" + n.inputs().get(index) + "' has " + v.length + " values for " + size
                    + " features");
        }
        return v;
    }
}
