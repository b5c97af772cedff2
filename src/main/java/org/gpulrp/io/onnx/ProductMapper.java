package org.gpulrp.io.onnx;

import static org.gpulrp.io.onnx.NodeAttrs.allowOnly;

import java.util.Arrays;
import java.util.List;
import java.util.Set;
import org.gpulrp.LrpException;
import org.gpulrp.io.onnx.MappingState.Value;
import org.gpulrp.io.onnx.OnnxModel.NodeDef;
import org.gpulrp.io.onnx.OnnxModel.TensorDef;
import org.gpulrp.model.Activation;
import org.gpulrp.model.Multiply;
import org.gpulrp.model.Scale;

/**
 * Maps Mul and Div on graph values: {@code x * Sigmoid(x)} (SiLU) and {@code x * HardSigmoid(x)} (hard swish before
 * opset 14) fused into one activation; the product of two activations (a squeeze-and-excitation gate, or equal
 * shapes) as {@link Multiply}; a product with (or a division by) a constant as {@link Scale}.
 */
final class ProductMapper {
    private ProductMapper() {
    }

    static void product(MappingState ctx, NodeDef n, Where w, int k) {
        allowOnly(n, w, Set.of());
        if (n.inputs().size() != 2) {
            throw w.fail("needs 2 inputs, has " + n.inputs().size());
        }
        boolean div = n.opType().equals("Div");
        String a = n.inputs().get(0);
        String b = n.inputs().get(1);
        Value va = ctx.value(a, w);
        Value vb = ctx.value(b, w);
        if (va != null && vb != null) {
            if (div) {
                throw w.fail("divides two graph values; gpulrp supports Div of a graph value by a constant only");
            }
            if (!fuse(ctx, n, w, k, a, b) && !fuse(ctx, n, w, k, b, a)) {
                gate(ctx, n, w, k, va, vb);
            }
            return;
        }
        if (va == null && vb == null) {
            throw w.fail("reads neither the graph input nor the output of an earlier node (nodes must be in "
                    + "topological order)");
        }
        if (va == null && div) {
            throw w.fail("divides a constant by a graph value; gpulrp supports Div of a graph value by a constant "
                    + "only");
        }
        Value data = va != null ? va : vb;
        TensorDef c = ctx.constantInput(n, w, va != null ? 1 : 0, div ? "divisor" : "factor");
        float[] f = factors(ctx, c, data.shape(), w);
        if (div) {
            for (int i = 0; i < f.length; i++) {
                f[i] = 1f / f[i];
            }
        }
        Scale layer;
        try {
            layer = new Scale(f);
        } catch (LrpException e) {
            throw w.fail("constant '" + c.name() + "'" + (div ? " (as 1/divisor)" : "") + ": " + e.getMessage());
        }
        ctx.source = data.node();
        ctx.features = data.shape();
        ctx.addStep(ctx.layerName(n, k), w, layer);
    }

    /**
     * {@code x * act(x)} with {@code act} a Sigmoid (SiLU) or HardSigmoid (hard swish) node reading {@code x}: one
     * activation; the gate's own layer goes when nothing else reads it.
     */
    private static boolean fuse(MappingState ctx, NodeDef n, Where w, int k, String x, String g) {
        NodeDef p = ctx.producers.get(g);
        if (p == null || p.inputs().isEmpty() || !p.inputs().get(0).equals(x)
                || !(p.opType().equals("Sigmoid") || p.opType().equals("HardSigmoid"))) {
            return false;
        }
        Value vx = ctx.values.get(x);
        Value vg = ctx.values.get(g);
        if (ctx.uses.getOrDefault(g, 0) == 1) {
            ctx.removeStep(vg.node());
        }
        ctx.source = vx.node();
        ctx.features = vx.shape();
        ctx.addStep(ctx.layerName(n, k), w, new Activation(p.opType().equals("Sigmoid") ? Activation.Function.SILU
                : Activation.Function.HARDSWISH));
        return true;
    }

    /** Two activations: equal shapes, or a feature map [C, H, W] and a per-channel gate [C, 1, 1] or [C]. */
    private static void gate(MappingState ctx, NodeDef n, Where w, int k, Value a, Value b) {
        long[] sa = a.shape();
        long[] sb = b.shape();
        if (sa == null || sb == null) {
            throw w.fail("multiplies values of unknown shape; give the graph input a fixed shape");
        }
        if (Arrays.equals(sa, sb)) {
            ctx.addSteps(n, w, k, new Multiply(1), List.of(a, b));
            ctx.features = sa;
            return;
        }
        Value map = isGate(sb, sa) ? a : isGate(sa, sb) ? b : null;
        if (map == null) {
            throw w.fail("multiplies shapes " + Arrays.toString(sa) + " and " + Arrays.toString(sb) + "; gpulrp "
                    + "multiplies equal shapes, or a feature map [C, H, W] by a per-channel gate [C, 1, 1] (as "
                    + "squeeze-and-excitation does)");
        }
        Value gate = map == a ? b : a;
        ctx.addSteps(n, w, k, new Multiply((int) (map.shape()[1] * map.shape()[2])), List.of(map, gate));
        ctx.features = map.shape();
    }

    /** Whether {@code g} is a per-channel gate of the feature map {@code map}. */
    private static boolean isGate(long[] g, long[] map) {
        return map.length == 3 && ((g.length == 3 && g[0] == map[0] && g[1] == 1 && g[2] == 1)
                || (g.length == 1 && g[0] == map[0]));
    }

    /**
     * A constant broadcast (numpy rules) over one sample of the given shape: a single factor when it holds one value,
     * else one factor per feature in the sample's (NCHW) order. Its batch axis, if it has one, must be 1.
     */
    static float[] factors(MappingState ctx, TensorDef c, long[] shape, Where w) {
        long[] d = c.dims();
        float[] v = TensorData.floats(c, w, ctx.baseDir);
        if (v.length == 1) {
            return v;
        }
        String bad = "constant '" + c.name() + "' has shape " + Arrays.toString(d) + ", which does not broadcast "
                + "over one sample of shape " + (shape == null ? "unknown" : Arrays.toString(shape)) + " (per "
                + "feature, per channel [C, 1, 1] or a single value)";
        if (shape == null || d.length > shape.length + 1) {
            throw w.fail(bad);
        }
        int off = shape.length + 1 - d.length; // full-rank axis of d[0]
        for (int i = 0; i < d.length; i++) {
            int axis = off + i;
            if (axis == 0 ? d[i] != 1 : d[i] != 1 && d[i] != shape[axis - 1]) {
                throw w.fail(bad);
            }
        }
        long total = MappingState.product(shape);
        if (total > Integer.MAX_VALUE - 8) {
            throw w.fail(bad);
        }
        float[] out = new float[(int) total];
        int[] coord = new int[shape.length];
        for (int o = 0; o < out.length; o++) {
            int idx = 0;
            for (int i = 0; i < d.length; i++) {
                int axis = off + i;
                idx = (int) (idx * d[i] + (axis == 0 || d[i] == 1 ? 0 : coord[axis - 1]));
            }
            out[o] = v[idx];
            for (int j = shape.length - 1; j >= 0 && ++coord[j] == shape[j]; j--) {
                coord[j] = 0;
            }
        }
        return out;
    }
}
