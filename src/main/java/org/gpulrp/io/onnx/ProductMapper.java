package org.gpulrp.io.onnx;

import static org.gpulrp.io.onnx.NodeAttrs.allowOnly;

import java.util.Arrays;
import java.util.List;
import java.util.Set;
import org.gpulrp.io.onnx.MappingState.Value;
import org.gpulrp.io.onnx.OnnxModel.NodeDef;
import org.gpulrp.io.onnx.OnnxModel.TensorDef;
import org.gpulrp.model.Activation;
import org.gpulrp.model.Multiply;

/**
 * Maps Mul and Div on graph values: {@code x * Sigmoid(x)} (SiLU) and {@code x * HardSigmoid(x)} (hard swish before
 * opset 14) fused into one activation; the product of two activations (a squeeze-and-excitation gate, or shapes that
 * broadcast to one) as {@link Multiply}; a product with (or a division by) a constant as a
 * {@link org.gpulrp.model.Scale} ({@link AffineMapper}).
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
        AffineMapper.scale(ctx, n, w, k, data, c, div);
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
        String name = ctx.layerName(n, k);
        ctx.addStep(name, w, new Activation(p.opType().equals("Sigmoid") ? Activation.Function.SILU
                : Activation.Function.HARDSWISH));
        ctx.result = vx.to(name, vx.shape());
        return true;
    }

    /**
     * Two activations: a feature map [C, H, W] and a per-channel gate [C, 1, 1] or [C] (squeeze-and-excitation), or
     * values that broadcast to one shape ({@link Multiply} of spatial 1, the smaller one repeated by an Index first).
     * The second input of a Multiply is its gate: where only the first ONNX operand is an activation's output (a
     * gated MLP's {@code act(gate_proj(x)) * up_proj(x)}), the operands are swapped.
     */
    private static void gate(MappingState ctx, NodeDef n, Where w, int k, Value a, Value b) {
        long[] sa = a.shape();
        long[] sb = b.shape();
        if (sa == null || sb == null) {
            throw w.fail("multiplies values of unknown shape; give the graph input a fixed shape");
        }
        if (a.standard() && b.standard() && !Arrays.equals(sa, sb)) {
            Value map = isGate(sb, sa) ? a : isGate(sa, sb) ? b : null;
            if (map != null) {
                Value gate = map == a ? b : a;
                ctx.addSteps(n, w, k, new Multiply((int) (map.shape()[1] * map.shape()[2])), List.of(map, gate));
                ctx.features = map.shape();
                return;
            }
        }
        String name = ctx.layerName(n, k);
        List<Value> vs;
        try {
            vs = MergeMapper.broadcastAll(ctx, w, name, List.of(a, b), "multiplies");
        } catch (org.gpulrp.io.ModelFormatException e) {
            throw w.fail("multiplies shapes " + text(a) + " and " + text(b) + "; gpulrp multiplies shapes that "
                    + "broadcast to one, or a feature map [C, H, W] "
                    + "by a per-channel gate [C, 1, 1] (as squeeze-and-excitation does)");
        }
        if (activation(ctx, vs.get(0)) && !activation(ctx, vs.get(1))) {
            vs = List.of(vs.get(1), vs.get(0));
        }
        ctx.steps.add(new MappingState.Step(name, w, new Multiply(1), new String[] {vs.get(0).node(),
                vs.get(1).node()}));
        ctx.features = vs.get(0).shape();
        ctx.result = vs.get(0).to(name, vs.get(0).shape());
    }

    private static String text(Value v) {
        return v.standard() ? Arrays.toString(v.shape()) : ShapeGraph.text(v.onnxDims());
    }

    /** Whether the value is the output of an activation layer. */
    private static boolean activation(MappingState ctx, Value v) {
        MappingState.Step s = ctx.step(v.node());
        return s != null && s.layer() instanceof Activation;
    }

    /** Whether {@code g} is a per-channel gate of the feature map {@code map}. */
    private static boolean isGate(long[] g, long[] map) {
        return map.length == 3 && ((g.length == 3 && g[0] == map[0] && g[1] == 1 && g[2] == 1)
                || (g.length == 1 && g[0] == map[0]));
    }
}
