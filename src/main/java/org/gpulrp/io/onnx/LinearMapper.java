package org.gpulrp.io.onnx;

import static org.gpulrp.io.onnx.NodeAttrs.allowOnly;
import static org.gpulrp.io.onnx.NodeAttrs.autoPad;
import static org.gpulrp.io.onnx.NodeAttrs.floatAttr;
import static org.gpulrp.io.onnx.NodeAttrs.intAttr;
import static org.gpulrp.io.onnx.NodeAttrs.pair;
import static org.gpulrp.io.onnx.NodeAttrs.symmetricPads;

import java.util.Arrays;
import java.util.List;
import java.util.Set;
import org.gpulrp.LrpException;
import org.gpulrp.model.ConvGeometry;
import org.gpulrp.io.onnx.MappingState.Pending;
import org.gpulrp.io.onnx.OnnxModel.NodeDef;
import org.gpulrp.io.onnx.OnnxModel.TensorDef;
import org.gpulrp.model.Conv2d;
import org.gpulrp.model.Dense;

/**
 * Maps the linear ONNX operators: Gemm, MatMul by a constant weight (with the Add of a constant bias that follows
 * it; token-wise on a {@code [batch, T, in]} input) and Conv.
 */
final class LinearMapper {
    private LinearMapper() {
    }

    static void gemm(MappingState ctx, NodeDef n, Where w, int k) {
        allowOnly(n, w, Set.of("alpha", "beta", "transA", "transB"));
        float alpha = floatAttr(n, w, "alpha", 1f);
        float beta = floatAttr(n, w, "beta", 1f);
        long transA = intAttr(n, w, "transA", 0);
        long transB = intAttr(n, w, "transB", 0);
        if (transA != 0) {
            throw w.fail("transA=" + transA + " is not supported: the input must arrive as [batch, features]; "
                    + "export the model without transposing its input");
        }
        if (transB != 0 && transB != 1) {
            throw w.fail("transB=" + transB + " is not valid (0 or 1)");
        }
        if (n.inputs().size() < 2 || n.inputs().size() > 3) {
            throw w.fail("needs inputs A, B and optionally C, has " + n.inputs().size());
        }
        TensorDef b = ctx.constantInput(n, w, 1, "B (the weight)");
        float[] weight = matrix(ctx, b, w, transB == 1);
        int out = (int) (transB == 1 ? b.dims()[0] : b.dims()[1]);
        int in = weight.length / out;
        if (alpha != 1f) {
            for (int i = 0; i < weight.length; i++) {
                weight[i] *= alpha;
            }
        }
        float[] bias = null;
        if (n.inputs().size() == 3 && !n.inputs().get(2).isEmpty()) {
            bias = bias(ctx, ctx.constantInput(n, w, 2, "C (the bias)"), out, w);
            if (beta != 1f) {
                for (int j = 0; j < out; j++) {
                    bias[j] *= beta;
                }
            }
        }
        dense(ctx, n, w, k, b.name(), in, out, weight, bias);
    }

    /** MatMul with a constant [K, N] weight, fused with the Add that follows when it adds a constant bias. */
    static int matMul(MappingState ctx, List<NodeDef> nodes, int k, Where w) {
        NodeDef n = nodes.get(k);
        allowOnly(n, w, Set.of());
        if (n.inputs().size() != 2) {
            throw w.fail("needs 2 inputs, has " + n.inputs().size());
        }
        TensorDef b = ctx.constantInput(n, w, 1, "B (the weight)");
        float[] weight = matrix(ctx, b, w, false);
        int out = (int) b.dims()[1];
        int in = weight.length / out;
        String product = n.outputs().get(0);
        float[] bias = null;
        int consumed = 1;
        String output = product;
        if (k + 1 < nodes.size() && ctx.uses.getOrDefault(product, 0) == 1) {
            NodeDef add = nodes.get(k + 1);
            Where aw = ctx.where(add, k + 1);
            if (add.opType().equals("Add") && (add.domain().isEmpty() || add.domain().equals("ai.onnx"))
                    && add.inputs().size() == 2 && add.inputs().contains(product)) {
                String other = add.inputs().get(0).equals(product) ? add.inputs().get(1) : add.inputs().get(0);
                TensorDef c = ctx.constants.get(other);
                if (c != null && !add.outputs().isEmpty() && !add.outputs().get(0).isEmpty()) {
                    allowOnly(add, aw, Set.of());
                    bias = bias(ctx, c, out, aw);
                    consumed = 2;
                    output = add.outputs().get(0);
                }
            }
        }
        dense(ctx, n, w, k, b.name(), in, out, weight, bias);
        ctx.produced = output;
        return consumed;
    }

    /**
     * A dense layer on the last axis of the value read: {@code [batch, in]}, or token-wise ({@link Dense} with
     * {@code positions}) on {@code [batch, T, in]}, on attention's {@code [S, B, E]} or on GPT-2's {@code [B * T, E]}
     * (a Gemm after {@code x.view(-1, E)}); the output keeps the input's batch layout.
     */
    static void dense(MappingState ctx, NodeDef n, Where w, int k, String weightName, int in, int out,
                      float[] weight, float[] bias) {
        MappingState.Value v = ctx.current;
        boolean gemm = n.opType().equals("Gemm");
        if (gemm || v == null || v.shape() == null) {
            ctx.requireFlat(w);
        }
        if (v != null && v.shape() != null && v.batchAxis() == v.shape().length) {
            throw w.fail("multiplies along the batch axis; gpulrp applies a dense layer to the last axis of each "
                    + "sample");
        }
        long[] s = ctx.features;
        if (s != null && s[s.length - 1] != in) {
            throw w.fail("weight '" + weightName + "' takes " + in + " input features but the node receives "
                    + s[s.length - 1]);
        }
        if (ctx.inputSize < 0) {
            ctx.inputSize = in;
        }
        int positions = v == null || v.shape() == null ? 1 : (int) (v.size() / in);
        Dense layer;
        try {
            layer = new Dense(positions, in, out, weight, bias);
        } catch (LrpException e) {
            throw w.fail("weight '" + weightName + "': " + e.getMessage());
        }
        String name = ctx.weightLayerName(weightName, n, k);
        ctx.addStep(name, w, layer);
        long[] shape = s == null ? new long[] {out} : s.clone();
        shape[shape.length - 1] = out;
        ctx.features = shape;
        if (v != null && v.shape() != null && !v.standard()) {
            ctx.result = v.to(name, shape);
        }
    }

    static void conv(MappingState ctx, NodeDef n, Where w, int k, Pending pad) {
        allowOnly(n, w, Set.of("auto_pad", "dilations", "group", "kernel_shape", "pads", "strides"));
        autoPad(n, w);
        if (n.inputs().size() < 2 || n.inputs().size() > 3) {
            throw w.fail("needs inputs X, W and optionally B, has " + n.inputs().size());
        }
        int[] s = ctx.image(w);
        TensorDef wt = ctx.constantInput(n, w, 1, "W (the weight)");
        long[] d = wt.dims();
        if (d.length != 4 || d[0] <= 0 || d[1] <= 0 || d[2] <= 0 || d[3] <= 0) {
            throw w.fail("weight '" + wt.name() + "' has shape " + Arrays.toString(d) + "; a 2-D convolution "
                    + "weight is [out, in/groups, kH, kW]");
        }
        long[] ks = pair(n, w, "kernel_shape", -1);
        if (ks[0] != -1 && (ks[0] != d[2] || ks[1] != d[3])) {
            throw w.fail("kernel_shape " + Arrays.toString(ks) + " does not match weight '" + wt.name() + "' "
                    + Arrays.toString(d));
        }
        long[] st = pair(n, w, "strides", 1);
        long[] dl = pair(n, w, "dilations", 1);
        long group = intAttr(n, w, "group", 1);
        int[] p = symmetricPads(n, w);
        if (pad != null) {
            p[0] += pad.padH();
            p[1] += pad.padW();
        }
        if (group <= 0 || s[0] % group != 0 || d[1] * group != s[0]) {
            throw w.fail("group=" + group + " with weight " + Arrays.toString(d) + " does not fit " + s[0]
                    + " input channels (in/groups * groups must equal the input channels)");
        }
        float[] bias = null;
        if (n.inputs().size() == 3 && !n.inputs().get(2).isEmpty()) {
            TensorDef bt = ctx.constantInput(n, w, 2, "B (the bias)");
            bias = TensorData.floats(bt, w, ctx.baseDir);
            if (bias.length != d[0]) {
                throw w.fail("bias '" + bt.name() + "' has " + bias.length + " values; the convolution has " + d[0]
                        + " output channels");
            }
        }
        Conv2d layer;
        try {
            layer = new Conv2d(new ConvGeometry(s[0], s[1], s[2], (int) d[0], (int) d[2], (int) d[3], (int) st[0],
                    (int) st[1], p[0], p[1], (int) dl[0], (int) dl[1], (int) group),
                    TensorData.floats(wt, w, ctx.baseDir), bias);
        } catch (LrpException e) {
            throw w.fail("weight '" + wt.name() + "': " + e.getMessage());
        }
        ctx.addStep(ctx.weightLayerName(wt.name(), n, k), w, layer);
        ctx.features = new long[] {layer.outputShape()[0], layer.outputShape()[1], layer.outputShape()[2]};
    }

    /** A rank-2 weight as [out, in] row-major: as stored when {@code outFirst}, else transposed from [in, out]. */
    static float[] matrix(MappingState ctx, TensorDef b, Where w, boolean outFirst) {
        if (b.dims().length != 2 || b.dims()[0] <= 0 || b.dims()[1] <= 0) {
            throw w.fail("weight '" + b.name() + "' has shape " + Arrays.toString(b.dims())
                    + "; a dense weight must be a non-empty matrix");
        }
        float[] v = TensorData.floats(b, w, ctx.baseDir);
        if (outFirst) {
            return v;
        }
        int rows = (int) b.dims()[0];
        int cols = (int) b.dims()[1];
        float[] t = new float[v.length];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                t[c * rows + r] = v[r * cols + c];
            }
        }
        return t;
    }

    /** A bias broadcast over the batch: shape [], [1], [N], [1, 1] or [1, N]. */
    static float[] bias(MappingState ctx, TensorDef c, int out, Where w) {
        long[] d = c.dims();
        boolean ok = switch (d.length) {
            case 0 -> true;
            case 1 -> d[0] == 1 || d[0] == out;
            case 2 -> d[0] == 1 && (d[1] == 1 || d[1] == out);
            default -> false;
        };
        if (!ok) {
            throw w.fail("bias '" + c.name() + "' has shape " + Arrays.toString(d) + "; gpulrp supports a bias "
                    + "of shape [" + out + "], [1, " + out + "] or a scalar (one bias for every sample)");
        }
        float[] v = TensorData.floats(c, w, ctx.baseDir);
        if (v.length == out) {
            return v;
        }
        float[] b = new float[out];
        Arrays.fill(b, v[0]);
        return b;
    }
}
