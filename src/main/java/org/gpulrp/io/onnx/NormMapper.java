package org.gpulrp.io.onnx;

import static org.gpulrp.io.onnx.NodeAttrs.allowOnly;
import static org.gpulrp.io.onnx.NodeAttrs.floatAttr;
import static org.gpulrp.io.onnx.NodeAttrs.intAttr;

import java.util.Set;
import org.gpulrp.LrpException;
import org.gpulrp.io.onnx.OnnxModel.NodeDef;
import org.gpulrp.model.BatchNorm;

/** Maps BatchNormalization (in inference mode; folded into the layer before it later, when it can be). */
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
}
