package org.gpulrp.io.onnx;

import java.util.Arrays;
import java.util.List;
import java.util.Set;
import org.gpulrp.LrpException;
import org.gpulrp.io.onnx.MappingState.Step;
import org.gpulrp.io.onnx.MappingState.Value;
import org.gpulrp.io.onnx.OnnxModel.NodeDef;
import org.gpulrp.model.MatMul;

/**
 * Maps the product of two network values, attention's {@code Q K^T} and {@code A V}: ONNX MatMul of
 * {@code [..., M, K]} and {@code [..., K, N]} whose leading axes (the batch and, per sample, the heads) match, or
 * broadcast (an {@link org.gpulrp.model.Index} repeats the smaller operand), becomes {@link MatMul} with one matrix
 * per head. The transposes before it ({@code K^T}) are the layout mappers'.
 */
final class AttentionMapper {
    private AttentionMapper() {
    }

    static void matMul(MappingState ctx, NodeDef n, Where w, int k) {
        NodeAttrs.allowOnly(n, w, Set.of());
        if (n.inputs().size() != 2) {
            throw w.fail("needs 2 inputs, has " + n.inputs().size());
        }
        Value a = ctx.value(n.inputs().get(0), w);
        Value b = ctx.value(n.inputs().get(1), w);
        if (a == null) {
            throw w.fail("multiplies a constant by a graph value; gpulrp maps MatMul of a graph value by a constant "
                    + "weight, or of two graph values");
        }
        if (a.shape() == null || b.shape() == null || a.shape().length < 2 || b.shape().length < 2
                || a.shape().length != b.shape().length) {
            throw w.fail("multiplies values of shapes " + text(a) + " and " + text(b) + "; gpulrp multiplies two "
                    + "graph values of one rank (3 or more with the batch) as batched matrices");
        }
        int rank = a.shape().length + 1;
        if (a.batchAxis() >= rank - 2 || b.batchAxis() >= rank - 2) {
            throw w.fail("multiplies matrices that hold the batch axis (" + text(a) + " by " + text(b) + "); gpulrp "
                    + "multiplies the matrices of each sample");
        }
        long m = a.shape()[rank - 3];
        long kk = a.shape()[rank - 2];
        long nn = b.shape()[rank - 2];
        if (b.shape()[rank - 3] != kk) {
            throw w.fail("multiplies [" + m + " x " + kk + "] by [" + b.shape()[rank - 3] + " x " + nn + "] matrices");
        }
        // the leading axes (the batch among them) broadcast: each operand repeated to the common ones
        long[] da = a.onnxDims();
        long[] db = b.onnxDims();
        long[] lead = new long[rank - 2];
        for (int i = 0; i < rank - 2; i++) {
            boolean batch = i == a.batchAxis();
            if (batch != (i == b.batchAxis()) || (batch && (a.outer() != b.outer() || a.inner() != b.inner()))
                    || (!batch && da[i] != db[i] && da[i] != 1 && db[i] != 1)) {
                throw w.fail("multiplies values of shapes " + text(a) + " and " + text(b) + ", whose leading axes "
                        + "do not match; gpulrp needs equal heads (or one operand with 1 to repeat)");
            }
            lead[i] = batch || db[i] == 1 ? da[i] : db[i];
        }
        String name = ctx.layerName(n, k);
        Value ra = repeat(ctx, w, name + ".a", a, lead, m, kk);
        Value rb = repeat(ctx, w, name + ".b", b, lead, kk, nn);
        long matrices = ra.size() / (m * kk);
        MatMul layer;
        try {
            layer = new MatMul((int) matrices, (int) m, (int) kk, (int) nn);
        } catch (LrpException e) {
            throw w.fail(e.getMessage());
        }
        ctx.steps.add(new Step(name, w, layer, new String[] {ra.node(), rb.node()}));
        long[] shape = ra.shape().clone();
        shape[shape.length - 1] = nn;
        ctx.result = ra.to(name, shape);
        ctx.features = shape;
    }

    /** {@code v} repeated over the leading axes {@code lead} (no layer when it has them already). */
    private static Value repeat(MappingState ctx, Where w, String name, Value v, long[] lead, long rows, long cols) {
        long[] to = Arrays.copyOf(lead, lead.length + 2);
        to[lead.length] = rows;
        to[lead.length + 1] = cols;
        return Arrays.equals(to, v.onnxDims()) ? v : LayoutMapper.broadcast(ctx, w, ctx.unique(name), v, to);
    }

    private static String text(Value v) {
        return v.shape() == null ? "unknown" : ShapeGraph.text(v.onnxDims());
    }

    /** Whether a MatMul multiplies two network values (else its weight is a constant: a dense layer). */
    static boolean ofValues(MappingState ctx, NodeDef n) {
        List<String> in = n.inputs();
        return in.size() == 2 && ctx.values.containsKey(in.get(1));
    }
}
