package org.gpulrp.io.onnx;

import static org.gpulrp.io.onnx.NodeAttrs.allowOnly;
import static org.gpulrp.io.onnx.NodeAttrs.intAttr;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import org.gpulrp.io.onnx.MappingState.Value;
import org.gpulrp.io.onnx.OnnxModel.NodeDef;
import org.gpulrp.model.Add;
import org.gpulrp.model.Concat;
import org.gpulrp.model.Identity;

/**
 * Maps the merges of branches: Add of graph values (a residual addition) and Concat along channels or features (of
 * one input: an Identity).
 */
final class MergeMapper {
    private MergeMapper() {
    }

    /** The network nodes and shapes of a merge's inputs, all of which must be graph values. */
    static List<Value> mergeInputs(MappingState ctx, NodeDef n, Where w) {
        if (n.inputs().size() < 2) {
            throw w.fail("needs two or more inputs, has " + n.inputs().size());
        }
        List<Value> vs = new ArrayList<>();
        for (String in : n.inputs()) {
            Value v = ctx.values.get(in);
            if (v == null) {
                if (ctx.constants.containsKey(in)) {
                    throw w.fail("adds constant '" + in + "'; gpulrp supports Add of two graph values (a residual "
                            + "addition) or of a constant bias right after a MatMul");
                }
                throw w.fail("reads '" + in + "', which is neither the graph input nor the output of an earlier node "
                        + "(nodes must be in topological order)");
            }
            if (ctx.pads.containsKey(in)) {
                throw w.fail("reads the output of a Pad; gpulrp supports a Pad only right before a Conv");
            }
            vs.add(v);
        }
        return vs;
    }

    static void add(MappingState ctx, NodeDef n, Where w, int k) {
        allowOnly(n, w, Set.of());
        List<Value> vs = mergeInputs(ctx, n, w);
        for (Value v : vs) {
            if (v.shape() != null && vs.get(0).shape() != null && !Arrays.equals(v.shape(), vs.get(0).shape())) {
                throw w.fail("adds shapes " + vs.stream().map(x -> Arrays.toString(x.shape())).toList()
                        + "; gpulrp adds equal shapes only (no broadcasting)");
            }
        }
        ctx.addSteps(n, w, k, new Add(), vs);
        ctx.features = vs.get(0).shape();
    }

    static void concat(MappingState ctx, NodeDef n, Where w, int k) {
        allowOnly(n, w, Set.of("axis"));
        if (n.inputs().size() == 1) {
            // torchvision's DenseNet concatenates a list of one feature map: the value itself
            Value v = ctx.value(n.inputs().get(0), w);
            if (v == null) {
                throw w.fail("reads '" + n.inputs().get(0) + "', which is neither the graph input nor the output of "
                        + "an earlier node (nodes must be in topological order)");
            }
            ctx.source = v.node();
            ctx.features = v.shape();
            ctx.addStep(ctx.layerName(n, k), w, new Identity());
            return;
        }
        List<Value> vs = mergeInputs(ctx, n, w);
        long axis = intAttr(n, w, "axis", 1);
        long[] first = vs.get(0).shape();
        if (first == null) {
            throw w.fail("needs inputs of known shape");
        }
        int rank = first.length + 1;
        if ((axis < 0 ? axis + rank : axis) != 1 || (rank != 2 && rank != 4)) {
            throw w.fail("axis=" + axis + " on rank-" + rank + " inputs is not supported; gpulrp concatenates "
                    + "channels of [N, C, H, W] or features of [N, F] (axis 1)");
        }
        long total = 0;
        for (Value v : vs) {
            if (v.shape() == null || v.shape().length != first.length
                    || (rank == 4 && (v.shape()[1] != first[1] || v.shape()[2] != first[2]))) {
                throw w.fail("concatenates shapes " + vs.stream().map(x -> Arrays.toString(x.shape())).toList()
                        + "; all inputs need the same rank and, for images, the same height and width");
            }
            total += v.shape()[0];
        }
        ctx.addSteps(n, w, k, new Concat(), vs);
        ctx.features = rank == 4 ? new long[] {total, first[1], first[2]} : new long[] {total};
    }
}
