package org.gpulrp.io.onnx;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.gpulrp.LrpException;
import org.gpulrp.canonize.Canonizers;
import org.gpulrp.io.onnx.MappingState.Pending;
import org.gpulrp.io.onnx.MappingState.Step;
import org.gpulrp.io.onnx.MappingState.Value;
import org.gpulrp.io.onnx.OnnxModel.Attribute;
import org.gpulrp.io.onnx.OnnxModel.Dim;
import org.gpulrp.io.onnx.OnnxModel.Graph;
import org.gpulrp.io.onnx.OnnxModel.NodeDef;
import org.gpulrp.io.onnx.OnnxModel.TensorDef;
import org.gpulrp.io.onnx.OnnxModel.ValueInfo;
import org.gpulrp.model.Activation;
import org.gpulrp.model.Network;

/**
 * Maps an ONNX graph onto the library's {@link Network}: each ONNX value becomes the output of a network node (or the
 * network input), so branches, residual additions and concatenations carry over; nodes must come in topological
 * order, as exporters write them. Batch norms that follow a convolution or dense layer are folded into it afterwards
 * ({@link Canonizers#foldBatchNorm}). Anything unsupported stops with an error naming the node.
 */
final class GraphMapper {
    static final String SUPPORTED = "Gemm, MatMul (by a constant weight, + Add as its bias, token-wise on "
            + "[batch, T, in]; or of two graph values, batched), Conv, MaxPool, AveragePool, GlobalAveragePool, "
            + "ReduceMean (over height and width), BatchNormalization, LayerNormalization, RMSNormalization, Add, "
            + "Sub, Mul, Div (of graph values, broadcast, or with constants), Neg, Concat, Split, Slice, Gather, "
            + "Transpose, Reshape, Flatten, Unsqueeze, Squeeze, Expand (each sample's axes; the batch may merge with "
            + "others), Cast, Pad (into a Conv or AveragePool), Relu, Clip (0..6, 0..inf, or provably nothing), "
            + "Sigmoid, Tanh, HardSigmoid, HardSwish, Gelu (and its erf and tanh chains), Softmax, Identity, Dropout, "
            + "token inputs (input_ids, attention_mask, token_type_ids: Gather from a table is an embedding), and "
            + "every node of constants (Shape, Gather, Range, Trilu, Where, MatMul, Cos, ...) evaluated while "
            + "importing";

    /** Operators whose first input need not be a graph value (they find theirs among their inputs). */
    private static final Set<String> MULTI_INPUT = Set.of("Add", "Concat", "Mul", "Div", "Sub", "Gather", "MatMul");
    /** Operators that read {@code [batch, ...]} values only (the image layers). */
    private static final Set<String> BATCH_FIRST = Set.of("Conv", "MaxPool", "AveragePool", "GlobalAveragePool",
            "ReduceMean", "BatchNormalization", "Pad", "Flatten");

    private final MappingState ctx;

    private GraphMapper(Graph graph, String file, Path baseDir, long opset, ImportOptions options) {
        this.ctx = new MappingState(graph, file, baseDir, opset);
        ctx.options = options;
    }

    static Network map(Graph graph, String file, Path baseDir, long opset, ImportOptions options) {
        return new GraphMapper(graph, file, baseDir, opset, options).map();
    }

    private Network map() {
        for (TensorDef t : ctx.graph.initializers()) {
            if (ctx.constants.put(t.name(), t) != null) {
                throw ctx.fileError("initializer '" + t.name() + "' is defined twice");
            }
        }
        List<NodeDef> nodes = ctx.graph.nodes();
        for (int k = 0; k < nodes.size(); k++) {
            NodeDef n = nodes.get(k);
            for (String out : n.outputs()) {
                ctx.producers.put(out, n);
            }
            for (String in : n.inputs()) {
                if (!in.isEmpty()) {
                    ctx.uses.merge(in, 1, Integer::sum);
                    ctx.consumers.computeIfAbsent(in, x -> new ArrayList<>()).add(n);
                }
            }
            if (n.opType().equals("Constant")) {
                constant(n, ctx.where(n, k));
            }
        }
        for (ValueInfo out : ctx.graph.outputs()) {
            ctx.uses.merge(out.name(), 1, Integer::sum);
        }
        input();
        int k = 0;
        while (k < nodes.size()) {
            k += node(nodes, k);
        }
        finish();
        if (ctx.inputSize < 0) {
            throw ctx.fileError("cannot tell the number of input features: the graph input has no shape and no "
                    + "Gemm/MatMul weight gives it");
        }
        Network.Builder b = ctx.blocks != null
                ? Network.builder(networkName(), new int[] {(int) ctx.inputShape[0], (int) ctx.inputShape[1]})
                : ctx.inputShape != null && ctx.inputShape.length == 3
                ? Network.builder(networkName(), (int) ctx.inputShape[0], (int) ctx.inputShape[1],
                        (int) ctx.inputShape[2])
                : Network.builder(networkName(), ctx.inputSize);
        for (Step s : ctx.steps) {
            try {
                b.add(s.name(), s.layer(), s.inputs());
            } catch (LrpException e) {
                throw s.where().fail(e.getMessage());
            }
        }
        if (ctx.blocks != null) {
            b.tokens(TokenInputs.tokenInput(ctx));
        }
        return Canonizers.foldBatchNorm(b.build());
    }

    private String networkName() {
        Path name = Path.of(ctx.file).getFileName();
        String base = name == null ? ctx.file : name.toString();
        return base.endsWith(".onnx") && base.length() > 5 ? base.substring(0, base.length() - 5) : base;
    }

    /** Finds the single graph input (inputs that are initializers are weights, as older exporters list them). */
    private void input() {
        List<ValueInfo> real = new ArrayList<>();
        for (ValueInfo v : ctx.graph.inputs()) {
            if (!ctx.constants.containsKey(v.name())) {
                real.add(v);
            }
        }
        if (TokenInputs.tokenModel(real)) {
            TokenInputs.read(ctx, real);
            return;
        }
        if (real.size() != 1) {
            throw ctx.fileError("the graph has " + real.size() + " inputs "
                    + real.stream().map(ValueInfo::name).toList() + "; gpulrp explains models with exactly one input");
        }
        ValueInfo in = real.get(0);
        int t = in.elemType();
        if (t != 0 && t != OnnxModel.FLOAT && t != OnnxModel.DOUBLE && t != OnnxModel.FLOAT16) {
            throw ctx.fileError("graph input '" + in.name() + "' has element type " + OnnxModel.typeName(t)
                    + "; gpulrp explains models with floating-point inputs");
        }
        ctx.values.put(in.name(), new Value(Network.INPUT, null));
        List<Dim> shape = in.shape();
        if (shape == null) {
            return;
        }
        if (shape.size() < 2) {
            throw ctx.fileError("graph input '" + in.name() + "' has rank " + shape.size()
                    + "; gpulrp needs [batch, features] (the first dimension is the batch)");
        }
        if (shape.get(0).known()) {
            ctx.fixedBatch = shape.get(0).value();
        }
        if (shape.size() == 2 && !shape.get(1).known()) {
            return; // feature count comes from the first weight
        }
        long[] dims = new long[shape.size() - 1];
        for (int d = 1; d < shape.size(); d++) {
            Dim dim = shape.get(d);
            if (!dim.known() || dim.value() == 0) {
                throw ctx.fileError("graph input '" + in.name() + "' dimension " + d + " is "
                        + (dim.param() != null ? "symbolic ('" + dim.param() + "')" : "unknown or 0")
                        + "; only the batch dimension may vary");
            }
            dims[d - 1] = dim.value();
        }
        ctx.features = dims;
        ctx.inputShape = dims;
        ctx.values.put(in.name(), new Value(Network.INPUT, dims));
        long n = MappingState.product(dims);
        if (n > Integer.MAX_VALUE - 8) {
            throw ctx.fileError("graph input '" + in.name() + "' has " + n + " features per sample; too many");
        }
        ctx.inputSize = (int) n;
    }

    private void finish() {
        LayoutMapper.joinGathers(ctx);
        if (ctx.blocks != null) {
            for (String block : ctx.blocks) {
                String node = ctx.values.get(block).node();
                if (ctx.steps.stream().noneMatch(s -> Arrays.asList(s.inputs()).contains(node))) {
                    ctx.removeStep(node); // a token input only the shape computations read
                }
            }
        }
        if (ctx.steps.isEmpty()) {
            throw ctx.fileError("the graph has no layers gpulrp can explain");
        }
        if (ctx.graph.outputs().size() != 1) {
            throw ctx.fileError("the graph has " + ctx.graph.outputs().size() + " outputs; gpulrp explains models "
                    + "with exactly one output (branching graphs come with issue 4)");
        }
        Set<String> read = new HashSet<>();
        for (Step s : ctx.steps) {
            read.addAll(Arrays.asList(s.inputs()));
        }
        for (int i = 0; i < ctx.steps.size() - 1; i++) {
            if (!read.contains(ctx.steps.get(i).name())) {
                throw ctx.steps.get(i).where().fail("its output does not reach the graph output; gpulrp explains "
                        + "graphs without dead branches (remove the unused nodes)");
            }
        }
        String out = ctx.graph.outputs().get(0).name();
        Value v = ctx.values.get(out);
        String last = ctx.steps.get(ctx.steps.size() - 1).name();
        if (v == null || !v.node().equals(last)) {
            throw ctx.fileError("graph output '" + out + "' is not the output of the last imported node ('" + last
                    + "'); gpulrp explains the output of the graph's last layer (remove dead branches or put the "
                    + "output's node last)");
        }
        if (v.shape() != null && !v.standard()) {
            throw ctx.fileError("graph output '" + out + "' has the shape " + ShapeGraph.text(v.onnxDims())
                    + "; gpulrp explains outputs with the batch axis first, alone");
        }
    }

    /** Imports node k (and, for MatMul, a following Add); returns how many nodes it consumed. */
    private int node(List<NodeDef> nodes, int k) {
        NodeDef n = nodes.get(k);
        Where w = ctx.where(n, k);
        String op = n.opType();
        if (!n.domain().isEmpty() && !n.domain().equals("ai.onnx")) {
            throw w.fail("operator domain '" + n.domain() + "' is not supported; gpulrp reads standard ONNX "
                    + "operators (" + SUPPORTED + ")");
        }
        if (op.equals("Constant")) {
            return 1; // registered in the first pass
        }
        String absorbedBy = n.outputs().isEmpty() ? null : ctx.absorbed.get(n.outputs().get(0));
        if (absorbedBy != null) {
            ctx.values.put(n.outputs().get(0), ctx.values.get(absorbedBy)); // mapped with the node before it
            return 1;
        }
        checkSupported(op, w);
        if (n.inputs().isEmpty() || n.outputs().isEmpty() || n.outputs().get(0).isEmpty()) {
            throw w.fail("has no input or no output");
        }
        if (ShapeGraph.handles(ctx, n)) {
            ShapeGraph.eval(ctx, n, w);
            return 1;
        }
        String in = n.inputs().get(0);
        Pending pad = ctx.pads.get(in);
        if (pad != null && !op.equals("Conv") && !op.equals("AveragePool")) {
            throw pad.where().fail("its output feeds " + op + " node '" + w.node() + "'; gpulrp supports a Pad "
                    + "only when a Conv or an AveragePool reads it (the padding is merged into it)");
        }
        Value v = pad != null ? ctx.values.get(pad.source()) : ctx.values.get(in);
        if (v == null && !MULTI_INPUT.contains(op)) {
            throw w.fail("reads '" + in + "', which is neither the graph input nor the output of an earlier node "
                    + "(nodes must be in topological order)");
        }
        if (v != null && v.shape() != null && !v.standard() && BATCH_FIRST.contains(op)) {
            throw w.fail("reads a value of shape " + ShapeGraph.text(v.onnxDims()) + "; gpulrp maps " + op
                    + " on values with the batch axis first, alone");
        }
        ctx.current = v;
        ctx.features = v == null ? null : v.shape();
        ctx.source = v == null ? null : v.node();
        ctx.produced = n.outputs().get(0);
        ctx.result = null;
        int consumed = 1;
        switch (op) {
            case "Gemm" -> LinearMapper.gemm(ctx, n, w, k);
            case "MatMul" -> {
                if (AttentionMapper.ofValues(ctx, n)) {
                    AttentionMapper.matMul(ctx, n, w, k);
                } else {
                    consumed = LinearMapper.matMul(ctx, nodes, k, w);
                }
            }
            case "Gather" -> {
                if (v == null) {
                    TokenInputs.embedding(ctx, n, w, k);
                } else {
                    LayoutMapper.gather(ctx, n, w, k);
                }
            }
            case "Unsqueeze", "Squeeze" -> LayoutMapper.squeeze(ctx, n, w, op.equals("Unsqueeze"));
            case "Expand" -> LayoutMapper.expand(ctx, n, w, k);
            case "Neg" -> AffineMapper.neg(ctx, n, w, k);
            case "Cast" -> AffineMapper.cast(ctx, n, w);
            case "Tanh" -> ActivationMapper.activation(ctx, n, w, k, Activation.Function.TANH);
            case "Gelu" -> ActivationMapper.gelu(ctx, n, w, k);
            case "LayerNormalization" -> NormMapper.layerNorm(ctx, n, w, k, false);
            case "RMSNormalization" -> NormMapper.layerNorm(ctx, n, w, k, true);
            case "Conv" -> LinearMapper.conv(ctx, n, w, k, pad);
            case "MaxPool", "AveragePool", "GlobalAveragePool" -> PoolMapper.pool(ctx, n, w, k, pad);
            case "ReduceMean" -> PoolMapper.reduceMean(ctx, n, w, k);
            case "BatchNormalization" -> NormMapper.batchNorm(ctx, n, w, k);
            case "Add" -> MergeMapper.add(ctx, n, w, k);
            case "Concat" -> MergeMapper.concat(ctx, n, w, k);
            case "Pad" -> ShapeMapper.pad(ctx, n, w);
            case "Relu" -> ActivationMapper.activation(ctx, n, w, k, Activation.Function.RELU);
            case "Sigmoid" -> ActivationMapper.activation(ctx, n, w, k, Activation.Function.SIGMOID);
            case "HardSwish" -> ActivationMapper.activation(ctx, n, w, k, Activation.Function.HARDSWISH);
            case "HardSigmoid" -> ActivationMapper.hardSigmoid(ctx, n, w, k);
            case "Clip" -> ActivationMapper.clip(ctx, n, w, k);
            case "Mul", "Div" -> ProductMapper.product(ctx, n, w, k);
            case "Transpose" -> LayoutMapper.transpose(ctx, n, w, k);
            case "Split" -> LayoutMapper.split(ctx, n, w, k);
            case "Slice" -> LayoutMapper.slice(ctx, n, w, k);
            case "Sub" -> AffineMapper.sub(ctx, n, w, k);
            case "Softmax" -> ActivationMapper.softmax(ctx, n, w, k);
            case "Flatten" -> ShapeMapper.flatten(ctx, n, w, k);
            case "Reshape" -> ShapeMapper.reshape(ctx, n, w, k);
            case "Identity" -> ShapeMapper.passThrough(ctx, n, w, k, Set.of(), 1);
            case "Dropout" -> ShapeMapper.dropout(ctx, n, w, k);
            default -> throw new IllegalStateException(op); // checkSupported let through only the cases above
        }
        if (ctx.produced != null) {
            String last = ctx.steps.get(ctx.steps.size() - 1).name();
            Value out;
            if (ctx.result != null) {
                out = ctx.result.node() == null ? ctx.result.named(last) : ctx.result;
            } else if (v != null && v.shape() != null && !v.standard() && ctx.features == v.shape()) {
                out = v.to(last, v.shape()); // an elementwise layer keeps the batch layout
            } else {
                out = new Value(last, ctx.features);
            }
            ctx.values.put(ctx.produced, out);
        }
        return consumed;
    }

    private static void checkSupported(String op, Where w) {
        switch (op) {
            case "Gemm", "MatMul", "Relu", "Sigmoid", "Softmax", "Flatten", "Reshape", "Identity", "Dropout",
                 "Conv", "MaxPool", "AveragePool", "GlobalAveragePool", "BatchNormalization", "Add", "Concat",
                 "Pad", "ReduceMean", "Clip", "HardSigmoid", "HardSwish", "Mul", "Div", "Sub", "Transpose", "Split",
                 "Slice", "Gather", "Unsqueeze", "Squeeze", "Expand", "Neg", "Cast", "Tanh", "Gelu",
                 "LayerNormalization", "RMSNormalization" -> {
                return;
            }
            default -> {
                if (ShapeGraph.SHAPE_ONLY.contains(op)) {
                    return;
                }
                throw w.fail("operator not supported; supported: " + SUPPORTED
                        + " (simplify the export, e.g. with onnx-simplifier, or ask for the operator)");
            }
        }
    }

    /** Registers a Constant node's tensor under its output name. */
    private void constant(NodeDef n, Where w) {
        if (n.outputs().size() != 1) {
            throw w.fail("has " + n.outputs().size() + " outputs, expected 1");
        }
        for (Attribute a : n.attributes()) {
            if (a.name().equals("value") && a.t() != null) {
                TensorDef t = a.t();
                String name = n.outputs().get(0);
                ctx.constants.put(name, new TensorDef(name, t.dims(), t.dataType(), t.floatData(), t.int32Data(),
                        t.int64Data(), t.doubleData(), t.rawData(), t.external(), t.dataLocation()));
                return;
            }
            if (a.name().equals("value_ints") || a.name().equals("value_int")) {
                long[] v = a.name().equals("value_ints") ? a.ints() : new long[] {a.i() == null ? 0 : a.i()};
                long[] dims = a.name().equals("value_ints") ? new long[] {v.length} : new long[0];
                String name = n.outputs().get(0);
                ctx.constants.put(name, new TensorDef(name, dims, OnnxModel.INT64, new float[0], new long[0], v,
                        new double[0], null, Map.of(), 0));
                return;
            }
        }
        throw w.fail("only Constant nodes with a 'value' tensor or 'value_ints' are supported");
    }
}
