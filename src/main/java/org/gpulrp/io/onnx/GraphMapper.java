package org.gpulrp.io.onnx;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.gpulrp.LrpException;
import org.gpulrp.backend.ConvGeometry;
import org.gpulrp.backend.PoolGeometry;
import org.gpulrp.canonize.Canonizers;
import org.gpulrp.io.ModelFormatException;
import org.gpulrp.io.onnx.OnnxModel.Attribute;
import org.gpulrp.io.onnx.OnnxModel.Dim;
import org.gpulrp.io.onnx.OnnxModel.Graph;
import org.gpulrp.io.onnx.OnnxModel.NodeDef;
import org.gpulrp.io.onnx.OnnxModel.TensorDef;
import org.gpulrp.io.onnx.OnnxModel.ValueInfo;
import org.gpulrp.model.Activation;
import org.gpulrp.model.Add;
import org.gpulrp.model.AvgPool2d;
import org.gpulrp.model.BatchNorm;
import org.gpulrp.model.Concat;
import org.gpulrp.model.Conv2d;
import org.gpulrp.model.Dense;
import org.gpulrp.model.Identity;
import org.gpulrp.model.Layer;
import org.gpulrp.model.MaxPool2d;
import org.gpulrp.model.Network;

/**
 * Maps an ONNX graph onto the library's {@link Network}: each ONNX value becomes the output of a network node (or the
 * network input), so branches, residual additions and concatenations carry over; nodes must come in topological
 * order, as exporters write them. Batch norms that follow a convolution or dense layer are folded into it afterwards
 * ({@link Canonizers#foldBatchNorm}). Anything unsupported stops with an error naming the node.
 */
final class GraphMapper {
    static final String SUPPORTED = "Gemm, MatMul (+ Add as its bias), Conv, MaxPool, AveragePool, "
            + "GlobalAveragePool, BatchNormalization, Add, Concat, Pad (into a Conv), Relu, Sigmoid, Softmax, "
            + "Flatten, Reshape (constant shape or [batch, -1] computed by Shape/Gather/Unsqueeze/Concat), Identity, "
            + "Dropout";
    /** Marks the batch size inside a shape computed at import time (the batch is symbolic). */
    static final long BATCH = Long.MIN_VALUE;

    /** One network layer to be, with where it came from for error messages and the nodes it reads. */
    private record Step(String name, Where where, Layer layer, String[] inputs) {
    }

    /** An ONNX value: the network node producing it ({@link Network#INPUT} for the input) and its per-sample shape. */
    private record Value(String node, long[] shape) {
    }

    /**
     * An integer tensor computed from shapes while importing ({@code x.view(x.size(0), -1)} exports as
     * Shape, Gather, Unsqueeze, Concat, Reshape): a scalar or a list, {@link #BATCH} standing for the batch size.
     */
    private record ShapeValue(long[] v, boolean scalar) {
    }

    /** A zero Pad waiting to be merged into the Conv that reads it. */
    private record Pending(String source, int padH, int padW, Where where) {
    }

    private final Graph graph;
    private final String file;
    private final Path baseDir;
    private final long opset;
    private final Map<String, TensorDef> constants = new HashMap<>();
    private final Map<String, Integer> uses = new HashMap<>();
    private final List<Step> steps = new ArrayList<>();
    private final Set<String> names = new HashSet<>();
    /** Non-batch dims of the value flowing down the chain; null while unknown (input without a shape). */
    private long[] features;
    /** The input's batch dim when fixed, else -1. */
    private long fixedBatch = -1;
    private int inputSize = -1;
    private long[] inputShape;
    private final Map<String, Value> values = new HashMap<>();
    private final Map<String, Pending> pads = new HashMap<>();
    private final Map<String, ShapeValue> shapeValues = new HashMap<>();
    /** The network node the node being imported reads. */
    private String source;
    /** The ONNX value the node being imported defines (null: none, e.g. a Pad waiting for its Conv). */
    private String produced;

    private GraphMapper(Graph graph, String file, Path baseDir, long opset) {
        this.graph = graph;
        this.file = file;
        this.baseDir = baseDir;
        this.opset = opset;
    }

    static Network map(Graph graph, String file, Path baseDir, long opset) {
        return new GraphMapper(graph, file, baseDir, opset).map();
    }

    private ModelFormatException fileError(String message) {
        return new ModelFormatException(file + ": " + message);
    }

    private Network map() {
        for (TensorDef t : graph.initializers()) {
            if (constants.put(t.name(), t) != null) {
                throw fileError("initializer '" + t.name() + "' is defined twice");
            }
        }
        List<NodeDef> nodes = graph.nodes();
        for (int k = 0; k < nodes.size(); k++) {
            NodeDef n = nodes.get(k);
            for (String in : n.inputs()) {
                if (!in.isEmpty()) {
                    uses.merge(in, 1, Integer::sum);
                }
            }
            if (n.opType().equals("Constant")) {
                constant(n, where(n, k));
            }
        }
        for (ValueInfo out : graph.outputs()) {
            uses.merge(out.name(), 1, Integer::sum);
        }
        input();
        int k = 0;
        while (k < nodes.size()) {
            k += node(nodes, k);
        }
        finish();
        if (inputSize < 0) {
            throw fileError("cannot tell the number of input features: the graph input has no shape and no "
                    + "Gemm/MatMul weight gives it");
        }
        Network.Builder b = inputShape != null && inputShape.length == 3
                ? Network.builder(networkName(), (int) inputShape[0], (int) inputShape[1], (int) inputShape[2])
                : Network.builder(networkName(), inputSize);
        for (Step s : steps) {
            try {
                b.add(s.name(), s.layer(), s.inputs());
            } catch (LrpException e) {
                throw s.where().fail(e.getMessage());
            }
        }
        return Canonizers.foldBatchNorm(b.build());
    }

    private String networkName() {
        String base = Path.of(file).getFileName() == null ? file : Path.of(file).getFileName().toString();
        return base.endsWith(".onnx") && base.length() > 5 ? base.substring(0, base.length() - 5) : base;
    }

    /** Finds the single graph input (inputs that are initializers are weights, as older exporters list them). */
    private void input() {
        List<ValueInfo> real = new ArrayList<>();
        for (ValueInfo v : graph.inputs()) {
            if (!constants.containsKey(v.name())) {
                real.add(v);
            }
        }
        if (real.size() != 1) {
            throw fileError("the graph has " + real.size() + " inputs " + real.stream().map(ValueInfo::name).toList()
                    + "; gpulrp explains models with exactly one input");
        }
        ValueInfo in = real.get(0);
        int t = in.elemType();
        if (t != 0 && t != OnnxModel.FLOAT && t != OnnxModel.DOUBLE && t != OnnxModel.FLOAT16) {
            throw fileError("graph input '" + in.name() + "' has element type " + OnnxModel.typeName(t)
                    + "; gpulrp explains models with floating-point inputs");
        }
        values.put(in.name(), new Value(Network.INPUT, null));
        List<Dim> shape = in.shape();
        if (shape == null) {
            return;
        }
        if (shape.size() < 2) {
            throw fileError("graph input '" + in.name() + "' has rank " + shape.size()
                    + "; gpulrp needs [batch, features] (the first dimension is the batch)");
        }
        if (shape.get(0).known()) {
            fixedBatch = shape.get(0).value();
        }
        if (shape.size() == 2 && !shape.get(1).known()) {
            return; // feature count comes from the first weight
        }
        long[] dims = new long[shape.size() - 1];
        for (int d = 1; d < shape.size(); d++) {
            Dim dim = shape.get(d);
            if (!dim.known() || dim.value() == 0) {
                throw fileError("graph input '" + in.name() + "' dimension " + d + " is "
                        + (dim.param() != null ? "symbolic ('" + dim.param() + "')" : "unknown or 0")
                        + "; only the batch dimension may vary");
            }
            dims[d - 1] = dim.value();
        }
        features = dims;
        inputShape = dims;
        values.put(in.name(), new Value(Network.INPUT, dims));
        long n = product(dims);
        if (n > Integer.MAX_VALUE - 8) {
            throw fileError("graph input '" + in.name() + "' has " + n + " features per sample; too many");
        }
        inputSize = (int) n;
    }

    private void finish() {
        if (steps.isEmpty()) {
            throw fileError("the graph has no layers gpulrp can explain");
        }
        if (graph.outputs().size() != 1) {
            throw fileError("the graph has " + graph.outputs().size() + " outputs; gpulrp explains models with "
                    + "exactly one output (branching graphs come with issue 4)");
        }
        Set<String> read = new HashSet<>();
        for (Step s : steps) {
            read.addAll(Arrays.asList(s.inputs()));
        }
        for (int i = 0; i < steps.size() - 1; i++) {
            if (!read.contains(steps.get(i).name())) {
                throw steps.get(i).where().fail("its output does not reach the graph output; gpulrp explains "
                        + "graphs without dead branches (remove the unused nodes)");
            }
        }
        String out = graph.outputs().get(0).name();
        Value v = values.get(out);
        String last = steps.get(steps.size() - 1).name();
        if (v == null || !v.node().equals(last)) {
            throw fileError("graph output '" + out + "' is not the output of the last imported node ('" + last
                    + "'); gpulrp explains the output of the graph's last layer (remove dead branches or put the "
                    + "output's node last)");
        }
    }

    /** Imports node k (and, for MatMul, a following Add); returns how many nodes it consumed. */
    private int node(List<NodeDef> nodes, int k) {
        NodeDef n = nodes.get(k);
        Where w = where(n, k);
        String op = n.opType();
        if (!n.domain().isEmpty() && !n.domain().equals("ai.onnx")) {
            throw w.fail("operator domain '" + n.domain() + "' is not supported; gpulrp reads standard ONNX "
                    + "operators (" + SUPPORTED + ")");
        }
        if (op.equals("Constant")) {
            return 1; // registered in the first pass
        }
        checkSupported(op, w);
        if (n.inputs().isEmpty() || n.outputs().isEmpty() || n.outputs().get(0).isEmpty()) {
            throw w.fail("has no input or no output");
        }
        String in = n.inputs().get(0);
        if (op.equals("Gather") || op.equals("Unsqueeze") || (op.equals("Concat") && readsShapeValue(n))) {
            shapeOp(n, w);
            return 1;
        }
        Pending pad = pads.get(in);
        if (pad != null && !op.equals("Conv")) {
            throw pad.where().fail("its output feeds " + op + " node '" + w.node() + "'; gpulrp supports a Pad "
                    + "only when a Conv reads it (the padding is merged into the convolution)");
        }
        Value v = pad != null ? values.get(pad.source()) : values.get(in);
        if (v == null && !op.equals("Add") && !op.equals("Concat")) {
            throw w.fail("reads '" + in + "', which is neither the graph input nor the output of an earlier node "
                    + "(nodes must be in topological order)");
        }
        features = v == null ? null : v.shape();
        source = v == null ? null : v.node();
        produced = n.outputs().get(0);
        int consumed = 1;
        switch (op) {
            case "Gemm" -> gemm(n, w, k);
            case "MatMul" -> consumed = matMul(nodes, k, w);
            case "Conv" -> conv(n, w, k, pad);
            case "MaxPool", "AveragePool", "GlobalAveragePool" -> pool(n, w, k);
            case "BatchNormalization" -> batchNorm(n, w, k);
            case "Add" -> add(n, w, k);
            case "Concat" -> concat(n, w, k);
            case "Pad" -> pad(n, w);
            case "Relu" -> activation(n, w, k, Activation.Function.RELU);
            case "Sigmoid" -> activation(n, w, k, Activation.Function.SIGMOID);
            case "Softmax" -> softmax(n, w, k);
            case "Flatten" -> flatten(n, w, k);
            case "Reshape" -> reshape(n, w, k);
            case "Shape" -> shape(n, w);
            case "Identity" -> passThrough(n, w, k, Set.of(), 1);
            case "Dropout" -> dropout(n, w, k);
            default -> throw new IllegalStateException(op); // checkSupported let through only the cases above
        }
        if (produced != null) {
            values.put(produced, new Value(steps.get(steps.size() - 1).name(), features));
        }
        return consumed;
    }

    private static void checkSupported(String op, Where w) {
        switch (op) {
            case "Gemm", "MatMul", "Relu", "Sigmoid", "Softmax", "Flatten", "Reshape", "Identity", "Dropout",
                 "Conv", "MaxPool", "AveragePool", "GlobalAveragePool", "BatchNormalization", "Add", "Concat",
                 "Pad", "Shape", "Gather", "Unsqueeze" -> {
                return;
            }
            default -> throw w.fail("operator not supported; supported: " + SUPPORTED
                    + " (simplify the export, e.g. with onnx-simplifier, or ask for the operator)");
        }
    }

    // ---- operators -----------------------------------------------------------------------------------------

    private void gemm(NodeDef n, Where w, int k) {
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
        TensorDef b = constantInput(n, w, 1, "B (the weight)");
        float[] weight = matrix(b, w, transB == 1);
        int out = (int) (transB == 1 ? b.dims()[0] : b.dims()[1]);
        int in = weight.length / out;
        if (alpha != 1f) {
            for (int i = 0; i < weight.length; i++) {
                weight[i] *= alpha;
            }
        }
        float[] bias = null;
        if (n.inputs().size() == 3 && !n.inputs().get(2).isEmpty()) {
            bias = bias(constantInput(n, w, 2, "C (the bias)"), out, w);
            if (beta != 1f) {
                for (int j = 0; j < out; j++) {
                    bias[j] *= beta;
                }
            }
        }
        dense(n, w, k, b.name(), in, out, weight, bias);
    }

    /** MatMul with a constant [K, N] weight, fused with the Add that follows when it adds a constant bias. */
    private int matMul(List<NodeDef> nodes, int k, Where w) {
        NodeDef n = nodes.get(k);
        allowOnly(n, w, Set.of());
        if (n.inputs().size() != 2) {
            throw w.fail("needs 2 inputs, has " + n.inputs().size());
        }
        TensorDef b = constantInput(n, w, 1, "B (the weight)");
        float[] weight = matrix(b, w, false);
        int out = (int) b.dims()[1];
        int in = weight.length / out;
        String product = n.outputs().get(0);
        float[] bias = null;
        int consumed = 1;
        String output = product;
        if (k + 1 < nodes.size() && uses.getOrDefault(product, 0) == 1) {
            NodeDef add = nodes.get(k + 1);
            Where aw = where(add, k + 1);
            if (add.opType().equals("Add") && (add.domain().isEmpty() || add.domain().equals("ai.onnx"))
                    && add.inputs().size() == 2 && add.inputs().contains(product)) {
                String other = add.inputs().get(0).equals(product) ? add.inputs().get(1) : add.inputs().get(0);
                TensorDef c = constants.get(other);
                if (c != null && !add.outputs().isEmpty() && !add.outputs().get(0).isEmpty()) {
                    allowOnly(add, aw, Set.of());
                    bias = bias(c, out, aw);
                    consumed = 2;
                    output = add.outputs().get(0);
                }
            }
        }
        dense(n, w, k, b.name(), in, out, weight, bias);
        produced = output;
        return consumed;
    }

    private void dense(NodeDef n, Where w, int k, String weightName, int in, int out, float[] weight,
                       float[] bias) {
        requireFlat(w);
        if (features != null && features[0] != in) {
            throw w.fail("weight '" + weightName + "' takes " + in + " input features but the node receives "
                    + features[0]);
        }
        if (inputSize < 0) {
            inputSize = in;
        }
        Dense layer;
        try {
            layer = new Dense(in, out, weight, bias);
        } catch (LrpException e) {
            throw w.fail("weight '" + weightName + "': " + e.getMessage());
        }
        String name = weightName.endsWith(".weight") && weightName.length() > ".weight".length()
                ? unique(sanitize(weightName.substring(0, weightName.length() - ".weight".length()), n, k))
                : layerName(n, k);
        addStep(name, w, layer);
        features = new long[] {out};
    }

    private void activation(NodeDef n, Where w, int k, Activation.Function f) {
        allowOnly(n, w, Set.of());
        singleInput(n, w, 1);
        addStep(layerName(n, k), w, new Activation(f));
    }

    private void softmax(NodeDef n, Where w, int k) {
        allowOnly(n, w, Set.of("axis"));
        singleInput(n, w, 1);
        long axis = intAttr(n, w, "axis", opset < 13 ? 1 : -1);
        int rank = features == null ? 2 : features.length + 1;
        // Before opset 13, axis 1 meant "flatten to [batch, rest] and normalize the rest": the same as ours.
        boolean flat = rank == 2 ? axis == 1 || axis == -1 : opset < 13 && axis == 1;
        if (!flat) {
            throw w.fail("axis=" + axis + " on a rank-" + rank + " input is not supported; gpulrp applies softmax "
                    + "over the features of each sample (axis -1 of a [batch, features] input)");
        }
        addStep(layerName(n, k), w, new Activation(Activation.Function.SOFTMAX));
    }

    private void flatten(NodeDef n, Where w, int k) {
        allowOnly(n, w, Set.of("axis"));
        singleInput(n, w, 1);
        long axis = intAttr(n, w, "axis", 1);
        int rank = features == null ? 2 : features.length + 1;
        if ((axis < 0 ? axis + rank : axis) != 1) {
            throw w.fail("axis=" + axis + " is not supported: gpulrp keeps the batch dimension and flattens the "
                    + "rest (axis 1)");
        }
        if (features != null) {
            features = new long[] {product(features)};
        }
        addStep(layerName(n, k), w, new Identity());
    }

    private void reshape(NodeDef n, Where w, int k) {
        allowOnly(n, w, Set.of("allowzero"));
        if (n.inputs().size() != 2) {
            throw w.fail("needs 2 inputs (data, shape), has " + n.inputs().size());
        }
        boolean allowZero = intAttr(n, w, "allowzero", 0) != 0;
        ShapeValue computed = shapeValues.get(n.inputs().get(1));
        long[] shape = computed != null ? computed.v() : TensorData.longs(constantInput(n, w, 1, "shape"), w, baseDir);
        String bad = "reshapes to " + shapeText(shape) + "; gpulrp supports only a shape that keeps [batch, features], "
                + "e.g. [-1, N], [0, N] or [batch, -1]";
        if (shape.length != 2 || shape[1] == BATCH) {
            throw w.fail(bad);
        }
        long have = features == null ? -1 : product(features);
        boolean batchKept = shape[0] == -1 || shape[0] == BATCH || (shape[0] == 0 && !allowZero)
                || (shape[0] > 0 && shape[0] == fixedBatch);
        if (!batchKept) {
            throw w.fail(bad);
        }
        long f;
        if (shape[1] > 0) {
            f = shape[1];
        } else if (shape[1] == -1 && shape[0] != -1 && have > 0) {
            f = have;
        } else if (shape[1] == 0 && !allowZero && features != null && features.length == 1) {
            f = features[0];
        } else {
            throw w.fail(bad);
        }
        if (have > 0 && f != have) {
            throw w.fail("reshapes " + have + " features per sample into " + f + "; the feature count must stay the "
                    + "same");
        }
        if (inputSize < 0 && f <= Integer.MAX_VALUE - 8) {
            inputSize = (int) f; // no input shape: the reshape tells the feature count
        }
        features = new long[] {f};
        addStep(layerName(n, k), w, new Identity());
    }

    /** Shape of a graph value of known shape: {@code [batch, dims...]}, sliced by opset 15's start and end. */
    private void shape(NodeDef n, Where w) {
        allowOnly(n, w, Set.of("start", "end"));
        singleInput(n, w, 1);
        if (features == null) {
            throw w.fail("reads a value of unknown shape; give the graph input a fixed [N, C, H, W] or [N, F] shape");
        }
        long[] full = new long[features.length + 1];
        full[0] = BATCH;
        System.arraycopy(features, 0, full, 1, features.length);
        int rank = full.length;
        long start = intAttr(n, w, "start", 0);
        long end = intAttr(n, w, "end", rank);
        start = Math.min(Math.max(start < 0 ? start + rank : start, 0), rank);
        end = Math.min(Math.max(end < 0 ? end + rank : end, 0), rank);
        shapeValues.put(n.outputs().get(0), new ShapeValue(Arrays.copyOfRange(full, (int) start,
                (int) Math.max(start, end)), false));
        produced = null;
    }

    private boolean readsShapeValue(NodeDef n) {
        return n.inputs().stream().anyMatch(shapeValues::containsKey);
    }

    /** An input of a shape computation: a value computed from Shape, or an integer constant of rank 0 or 1. */
    private ShapeValue shapeInput(NodeDef n, Where w, int index, String what) {
        String name = n.inputs().get(index);
        ShapeValue v = shapeValues.get(name);
        if (v != null) {
            return v;
        }
        if (values.containsKey(name)) {
            throw w.fail("reads the graph value '" + name + "' as its " + what + "; gpulrp evaluates " + n.opType()
                    + " only on shapes (as in x.view(x.size(0), -1)), not on the data flowing through the network");
        }
        TensorDef t = constantInput(n, w, index, what);
        if (t.dims().length > 1) {
            throw w.fail(what + " '" + name + "' has shape " + Arrays.toString(t.dims()) + "; gpulrp evaluates shape "
                    + "computations on scalars and lists only");
        }
        return new ShapeValue(TensorData.longs(t, w, baseDir), t.dims().length == 0);
    }

    /** Gather, Unsqueeze or Concat on shapes: evaluated here; the result feeds a Reshape (or nothing). */
    private void shapeOp(NodeDef n, Where w) {
        ShapeValue result;
        switch (n.opType()) {
            case "Gather" -> {
                allowOnly(n, w, Set.of("axis"));
                if (n.inputs().size() != 2) {
                    throw w.fail("needs 2 inputs (data, indices), has " + n.inputs().size());
                }
                if (intAttr(n, w, "axis", 0) != 0) {
                    throw w.fail("axis=" + intAttr(n, w, "axis", 0) + " is not supported; gpulrp evaluates Gather on "
                            + "a shape list (axis 0)");
                }
                ShapeValue data = shapeInput(n, w, 0, "data");
                ShapeValue idx = shapeInput(n, w, 1, "indices");
                if (data.scalar()) {
                    throw w.fail("gathers from a scalar; the data must be a list");
                }
                long[] out = new long[idx.v().length];
                for (int i = 0; i < out.length; i++) {
                    long j = idx.v()[i] < 0 ? idx.v()[i] + data.v().length : idx.v()[i];
                    if (idx.v()[i] == BATCH || j < 0 || j >= data.v().length) {
                        throw w.fail("index " + shapeText(new long[] {idx.v()[i]}) + " is out of range for "
                                + shapeText(data.v()));
                    }
                    out[i] = data.v()[(int) j];
                }
                result = new ShapeValue(out, idx.scalar());
            }
            case "Unsqueeze" -> {
                allowOnly(n, w, Set.of("axes"));
                ShapeValue data = shapeInput(n, w, 0, "data");
                long[] axes;
                if (n.inputs().size() > 1 && !n.inputs().get(1).isEmpty()) {
                    axes = TensorData.longs(constantInput(n, w, 1, "axes"), w, baseDir);
                } else {
                    Attribute a = attr(n, "axes");
                    axes = a == null || a.ints() == null ? new long[0] : a.ints();
                }
                if (!data.scalar() || axes.length != 1 || (axes[0] != 0 && axes[0] != -1)) {
                    throw w.fail("unsqueezes " + (data.scalar() ? "a scalar" : "a list") + " at axes "
                            + Arrays.toString(axes) + "; gpulrp evaluates only a scalar made a list (axes [0])");
                }
                result = new ShapeValue(data.v(), false);
            }
            default -> { // Concat
                allowOnly(n, w, Set.of("axis"));
                long axis = intAttr(n, w, "axis", 0);
                if (axis != 0 && axis != -1) {
                    throw w.fail("axis=" + axis + " on shape lists is not supported (axis 0)");
                }
                List<Long> out = new ArrayList<>();
                for (int i = 0; i < n.inputs().size(); i++) {
                    ShapeValue part = shapeInput(n, w, i, "input " + i);
                    if (part.scalar()) {
                        throw w.fail("concatenates a scalar; Concat needs lists");
                    }
                    for (long x : part.v()) {
                        out.add(x);
                    }
                }
                result = new ShapeValue(out.stream().mapToLong(Long::longValue).toArray(), false);
            }
        }
        if (n.outputs().size() != 1 || n.outputs().get(0).isEmpty()) {
            throw w.fail("has " + n.outputs().size() + " outputs, expected 1");
        }
        shapeValues.put(n.outputs().get(0), result);
    }

    /** A shape for messages, the batch shown as "batch". */
    private static String shapeText(long[] shape) {
        StringBuilder b = new StringBuilder("[");
        for (int i = 0; i < shape.length; i++) {
            b.append(i > 0 ? ", " : "").append(shape[i] == BATCH ? "batch" : Long.toString(shape[i]));
        }
        return b.append(']').toString();
    }

    private void dropout(NodeDef n, Where w, int k) {
        allowOnly(n, w, Set.of("ratio", "seed", "is_test"));
        if (n.inputs().size() > 3) {
            throw w.fail("has " + n.inputs().size() + " inputs; Dropout takes data, ratio and training_mode");
        }
        if (n.inputs().size() > 1 && !n.inputs().get(1).isEmpty()) {
            constantInput(n, w, 1, "ratio");
        }
        if (n.inputs().size() > 2 && !n.inputs().get(2).isEmpty()) {
            TensorDef mode = constantInput(n, w, 2, "training_mode");
            if (!TensorData.allZero(mode, w)) {
                throw w.fail("training_mode is true; gpulrp explains inference, where Dropout passes values "
                        + "through (export the model in eval mode)");
            }
        }
        if (n.outputs().size() > 1 && !n.outputs().get(1).isEmpty() && uses.getOrDefault(n.outputs().get(1), 0) > 0) {
            throw w.fail("its mask output '" + n.outputs().get(1) + "' is used; at inference Dropout passes values "
                    + "through and has no mask to use");
        }
        addStep(layerName(n, k), w, new Identity());
    }

    private void addStep(String name, Where w, Layer layer) {
        steps.add(new Step(name, w, layer, new String[] {source}));
    }

    /** The input as an image {@code [C, H, W]}, or an error saying the operator needs one. */
    private int[] image(Where w) {
        if (features == null || features.length != 3) {
            throw w.fail("needs a [batch, channels, height, width] input with a known shape, receives "
                    + (features == null ? "an input of unknown shape" : "rank " + (features.length + 1))
                    + " (give the graph input a fixed [N, C, H, W] shape)");
        }
        return new int[] {(int) features[0], (int) features[1], (int) features[2]};
    }

    /** A 2-element spatial attribute ([H, W]), or {@code absent}. */
    private static long[] pair(NodeDef n, Where w, String name, long absent) {
        Attribute a = attr(n, name);
        if (a == null) {
            return new long[] {absent, absent};
        }
        if (a.ints() == null || a.ints().length != 2) {
            throw w.fail("attribute '" + name + "' must list 2 values (height, width), has "
                    + (a.ints() == null ? "none" : Arrays.toString(a.ints())) + "; gpulrp supports 2-D images only");
        }
        return a.ints();
    }

    /** Symmetric 2-D pads {@code [top, left, bottom, right]} as {@code [padH, padW]}; anything else is an error. */
    private static int[] symmetricPads(NodeDef n, Where w) {
        Attribute a = attr(n, "pads");
        if (a == null) {
            return new int[] {0, 0};
        }
        long[] p = a.ints();
        if (p == null || p.length != 4) {
            throw w.fail("attribute 'pads' must list 4 values [top, left, bottom, right], has "
                    + (p == null ? "none" : Arrays.toString(p)));
        }
        if (p[0] != p[2] || p[1] != p[3] || p[0] < 0 || p[1] < 0) {
            throw w.fail("pads " + Arrays.toString(p) + " are asymmetric or negative; gpulrp supports the same "
                    + "padding at top and bottom and at left and right (as PyTorch's padding=)");
        }
        return new int[] {(int) p[0], (int) p[1]};
    }

    private static String stringAttr(NodeDef n, String name, String absent) {
        Attribute a = attr(n, name);
        return a == null || a.s() == null ? absent : new String(a.s(), java.nio.charset.StandardCharsets.UTF_8);
    }

    private static void autoPad(NodeDef n, Where w) {
        String ap = stringAttr(n, "auto_pad", "NOTSET");
        if (!ap.equals("NOTSET") && !ap.equals("VALID")) {
            throw w.fail("auto_pad=" + ap + " is not supported; export with explicit pads (auto_pad NOTSET or "
                    + "VALID)");
        }
    }

    private void conv(NodeDef n, Where w, int k, Pending pad) {
        allowOnly(n, w, Set.of("auto_pad", "dilations", "group", "kernel_shape", "pads", "strides"));
        autoPad(n, w);
        if (n.inputs().size() < 2 || n.inputs().size() > 3) {
            throw w.fail("needs inputs X, W and optionally B, has " + n.inputs().size());
        }
        int[] s = image(w);
        TensorDef wt = constantInput(n, w, 1, "W (the weight)");
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
            TensorDef bt = constantInput(n, w, 2, "B (the bias)");
            bias = TensorData.floats(bt, w, baseDir);
            if (bias.length != d[0]) {
                throw w.fail("bias '" + bt.name() + "' has " + bias.length + " values; the convolution has " + d[0]
                        + " output channels");
            }
        }
        Conv2d layer;
        try {
            layer = new Conv2d(new ConvGeometry(s[0], s[1], s[2], (int) d[0], (int) d[2], (int) d[3], (int) st[0],
                    (int) st[1], p[0], p[1], (int) dl[0], (int) dl[1], (int) group), TensorData.floats(wt, w, baseDir),
                    bias);
        } catch (LrpException e) {
            throw w.fail("weight '" + wt.name() + "': " + e.getMessage());
        }
        addStep(weightLayerName(wt.name(), n, k), w, layer);
        features = new long[] {layer.outputShape()[0], layer.outputShape()[1], layer.outputShape()[2]};
    }

    private String weightLayerName(String weightName, NodeDef n, int k) {
        return weightName.endsWith(".weight") && weightName.length() > ".weight".length()
                ? unique(sanitize(weightName.substring(0, weightName.length() - ".weight".length()), n, k))
                : layerName(n, k);
    }

    private void pool(NodeDef n, Where w, int k) {
        String op = n.opType();
        int[] s = image(w);
        singleInput(n, w, 1);
        PoolGeometry g;
        if (op.equals("GlobalAveragePool")) {
            allowOnly(n, w, Set.of());
            g = new PoolGeometry(s[0], s[1], s[2], s[1], s[2], 1, 1, 0, 0);
        } else {
            allowOnly(n, w, op.equals("MaxPool")
                    ? Set.of("auto_pad", "ceil_mode", "dilations", "kernel_shape", "pads", "storage_order", "strides")
                    : Set.of("auto_pad", "ceil_mode", "count_include_pad", "kernel_shape", "pads", "strides"));
            autoPad(n, w);
            if (intAttr(n, w, "ceil_mode", 0) != 0) {
                throw w.fail("ceil_mode=1 is not supported; gpulrp pools in floor mode (PyTorch's default)");
            }
            long[] ks = pair(n, w, "kernel_shape", -1);
            if (ks[0] == -1) {
                throw w.fail("has no kernel_shape");
            }
            long[] st = pair(n, w, "strides", 1);
            long[] dl = pair(n, w, "dilations", 1);
            if (dl[0] != 1 || dl[1] != 1) {
                throw w.fail("dilations " + Arrays.toString(dl) + " are not supported; gpulrp pools undilated windows");
            }
            int[] p = symmetricPads(n, w);
            if (op.equals("AveragePool") && intAttr(n, w, "count_include_pad", 0) == 0 && (p[0] != 0 || p[1] != 0)) {
                throw w.fail("count_include_pad=0 with padding is not supported; gpulrp divides every window by "
                        + "kH*kW (PyTorch's count_include_pad=True)");
            }
            if (n.outputs().size() > 1 && !n.outputs().get(1).isEmpty()
                    && uses.getOrDefault(n.outputs().get(1), 0) > 0) {
                throw w.fail("its Indices output is used; gpulrp supports only the pooled values");
            }
            try {
                g = new PoolGeometry(s[0], s[1], s[2], (int) ks[0], (int) ks[1], (int) st[0], (int) st[1], p[0], p[1]);
            } catch (LrpException e) {
                throw w.fail(e.getMessage());
            }
        }
        addStep(layerName(n, k), w, op.equals("MaxPool") ? new MaxPool2d(g) : new AvgPool2d(g));
        features = new long[] {g.channels(), g.outH(), g.outW()};
    }

    private void batchNorm(NodeDef n, Where w, int k) {
        allowOnly(n, w, Set.of("epsilon", "momentum", "training_mode", "spatial"));
        if (intAttr(n, w, "training_mode", 0) != 0 || intAttr(n, w, "spatial", 1) != 1) {
            throw w.fail("training_mode=1 or spatial=0 is not supported; export the model in eval mode");
        }
        if (n.inputs().size() != 5) {
            throw w.fail("needs inputs X, scale, B, mean, var, has " + n.inputs().size());
        }
        for (int o = 1; o < n.outputs().size(); o++) {
            if (!n.outputs().get(o).isEmpty() && uses.getOrDefault(n.outputs().get(o), 0) > 0) {
                throw w.fail("its running-statistics output '" + n.outputs().get(o) + "' is used; gpulrp explains "
                        + "inference (export the model in eval mode)");
            }
        }
        if (features == null || (features.length != 3 && features.length != 1)) {
            throw w.fail("needs a [batch, C, H, W] or [batch, C] input with a known shape");
        }
        int c = (int) features[0];
        int h = features.length == 3 ? (int) features[1] : 1;
        int wd = features.length == 3 ? (int) features[2] : 1;
        float[][] p = new float[4][];
        String[] what = {"scale", "B", "mean", "var"};
        for (int i = 0; i < 4; i++) {
            p[i] = TensorData.floats(constantInput(n, w, i + 1, what[i]), w, baseDir);
        }
        float eps = floatAttr(n, w, "epsilon", 1e-5f);
        BatchNorm layer;
        try {
            layer = new BatchNorm(c, h, wd, p[0], p[1], p[2], p[3], eps);
        } catch (LrpException e) {
            throw w.fail(e.getMessage());
        }
        addStep(weightLayerName(n.inputs().get(1), n, k), w, layer);
    }

    /** The network nodes and shapes of a merge's inputs, all of which must be graph values. */
    private List<Value> mergeInputs(NodeDef n, Where w) {
        if (n.inputs().size() < 2) {
            throw w.fail("needs two or more inputs, has " + n.inputs().size());
        }
        List<Value> vs = new ArrayList<>();
        for (String in : n.inputs()) {
            Value v = values.get(in);
            if (v == null) {
                if (constants.containsKey(in)) {
                    throw w.fail("adds constant '" + in + "'; gpulrp supports Add of two graph values (a residual "
                            + "addition) or of a constant bias right after a MatMul");
                }
                throw w.fail("reads '" + in + "', which is neither the graph input nor the output of an earlier node "
                        + "(nodes must be in topological order)");
            }
            if (pads.containsKey(in)) {
                throw w.fail("reads the output of a Pad; gpulrp supports a Pad only right before a Conv");
            }
            vs.add(v);
        }
        return vs;
    }

    private void addSteps(NodeDef n, Where w, int k, Layer layer, List<Value> vs) {
        steps.add(new Step(layerName(n, k), w, layer, vs.stream().map(Value::node).toArray(String[]::new)));
    }

    private void add(NodeDef n, Where w, int k) {
        allowOnly(n, w, Set.of());
        List<Value> vs = mergeInputs(n, w);
        for (Value v : vs) {
            if (v.shape() != null && vs.get(0).shape() != null && !Arrays.equals(v.shape(), vs.get(0).shape())) {
                throw w.fail("adds shapes " + vs.stream().map(x -> Arrays.toString(x.shape())).toList()
                        + "; gpulrp adds equal shapes only (no broadcasting)");
            }
        }
        addSteps(n, w, k, new Add(), vs);
        features = vs.get(0).shape();
    }

    private void concat(NodeDef n, Where w, int k) {
        allowOnly(n, w, Set.of("axis"));
        List<Value> vs = mergeInputs(n, w);
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
        addSteps(n, w, k, new Concat(), vs);
        features = rank == 4 ? new long[] {total, first[1], first[2]} : new long[] {total};
    }

    /** A constant zero Pad over height and width; merged into the Conv that reads it. */
    private void pad(NodeDef n, Where w) {
        allowOnly(n, w, Set.of("mode", "pads", "value"));
        String mode = stringAttr(n, "mode", "constant");
        if (!mode.equals("constant")) {
            throw w.fail("mode '" + mode + "' is not supported; gpulrp supports zero padding only");
        }
        long[] p;
        if (n.inputs().size() > 1 && !n.inputs().get(1).isEmpty()) {
            p = TensorData.longs(constantInput(n, w, 1, "pads"), w, baseDir);
        } else {
            Attribute a = attr(n, "pads");
            if (a == null || a.ints() == null) {
                throw w.fail("has no pads");
            }
            p = a.ints();
        }
        boolean zero = floatAttr(n, w, "value", 0f) == 0f;
        if (n.inputs().size() > 2 && !n.inputs().get(2).isEmpty()) {
            zero &= TensorData.allZero(constantInput(n, w, 2, "constant_value"), w);
        }
        if (!zero) {
            throw w.fail("pads with a non-zero value; gpulrp supports zero padding only");
        }
        if (n.inputs().size() > 3) {
            throw w.fail("axes input is not supported; give pads for all 4 dimensions");
        }
        image(w);
        if (p.length == 8 && Arrays.stream(p).allMatch(x -> x == 0)) {
            values.put(n.outputs().get(0), values.get(n.inputs().get(0))); // a no-op (torch exports one for pools)
            produced = null;
            return;
        }
        if (p.length != 8 || p[0] != 0 || p[1] != 0 || p[4] != 0 || p[5] != 0 || p[2] != p[6] || p[3] != p[7]
                || p[2] < 0 || p[3] < 0) {
            throw w.fail("pads " + Arrays.toString(p) + " are not supported; gpulrp merges into the following Conv "
                    + "only symmetric zero padding of height and width");
        }
        pads.put(n.outputs().get(0), new Pending(n.inputs().get(0), (int) p[2], (int) p[3], w));
        produced = null;
    }

    private void passThrough(NodeDef n, Where w, int k, Set<String> attrs, int inputs) {
        allowOnly(n, w, attrs);
        singleInput(n, w, inputs);
        addStep(layerName(n, k), w, new Identity());
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
                constants.put(name, new TensorDef(name, t.dims(), t.dataType(), t.floatData(), t.int32Data(),
                        t.int64Data(), t.doubleData(), t.rawData(), t.external(), t.dataLocation()));
                return;
            }
            if (a.name().equals("value_ints") || a.name().equals("value_int")) {
                long[] v = a.name().equals("value_ints") ? a.ints() : new long[] {a.i() == null ? 0 : a.i()};
                long[] dims = a.name().equals("value_ints") ? new long[] {v.length} : new long[0];
                String name = n.outputs().get(0);
                constants.put(name, new TensorDef(name, dims, OnnxModel.INT64, new float[0], new long[0], v,
                        new double[0], null, Map.of(), 0));
                return;
            }
        }
        throw w.fail("only Constant nodes with a 'value' tensor or 'value_ints' are supported");
    }

    // ---- helpers -------------------------------------------------------------------------------------------

    private Where where(NodeDef n, int k) {
        return new Where(n.name().isBlank() ? generated(n, k) : n.name(), n.opType(), file);
    }

    private static String generated(NodeDef n, int k) {
        return n.opType().toLowerCase(Locale.ROOT) + "_" + k;
    }

    /** The ONNX node name made safe as a layer (and file) name, or {@code <op>_<k>}; unique in the network. */
    private String layerName(NodeDef n, int k) {
        return unique(sanitize(n.name(), n, k));
    }

    /** PyTorch's scoped names ({@code /fc1/Relu}) become {@code fc1.Relu}; odd characters become '_'. */
    private static String sanitize(String raw, NodeDef n, int k) {
        String s = raw.strip();
        while (s.startsWith("/")) {
            s = s.substring(1);
        }
        s = s.replace('/', '.').replaceAll("[^A-Za-z0-9._-]", "_");
        return s.isEmpty() ? generated(n, k) : s;
    }

    private String unique(String name) {
        String candidate = name;
        for (int i = 2; !names.add(candidate); i++) {
            candidate = name + "_" + i;
        }
        return candidate;
    }

    private TensorDef constantInput(NodeDef n, Where w, int index, String what) {
        String name = n.inputs().get(index);
        TensorDef t = constants.get(name);
        if (t == null) {
            throw w.fail("input " + what + " '" + name + "' is not a constant (an initializer or Constant node); "
                    + "gpulrp needs constant weights and shapes");
        }
        return t;
    }

    /** A rank-2 weight as [out, in] row-major: as stored when {@code outFirst}, else transposed from [in, out]. */
    private float[] matrix(TensorDef b, Where w, boolean outFirst) {
        if (b.dims().length != 2 || b.dims()[0] <= 0 || b.dims()[1] <= 0) {
            throw w.fail("weight '" + b.name() + "' has shape " + Arrays.toString(b.dims())
                    + "; a dense weight must be a non-empty matrix");
        }
        float[] v = TensorData.floats(b, w, baseDir);
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
    private float[] bias(TensorDef c, int out, Where w) {
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
        float[] v = TensorData.floats(c, w, baseDir);
        if (v.length == out) {
            return v;
        }
        float[] b = new float[out];
        Arrays.fill(b, v[0]);
        return b;
    }

    private void requireFlat(Where w) {
        if (features != null && features.length != 1) {
            throw w.fail("receives a rank-" + (features.length + 1) + " input; a dense layer needs [batch, "
                    + "features] (add a Flatten before it)");
        }
    }

    private static void singleInput(NodeDef n, Where w, int max) {
        if (n.inputs().size() > max) {
            throw w.fail("has " + n.inputs().size() + " inputs, expected " + max);
        }
    }

    private static void allowOnly(NodeDef n, Where w, Set<String> allowed) {
        for (Attribute a : n.attributes()) {
            if (!allowed.contains(a.name())) {
                throw w.fail("attribute '" + a.name() + "' is not supported"
                        + (allowed.isEmpty() ? "" : " (supported: " + String.join(", ", allowed.stream().sorted()
                        .toList()) + ")"));
            }
        }
    }

    private static Attribute attr(NodeDef n, String name) {
        for (Attribute a : n.attributes()) {
            if (a.name().equals(name)) {
                return a;
            }
        }
        return null;
    }

    private static float floatAttr(NodeDef n, Where w, String name, float absent) {
        Attribute a = attr(n, name);
        if (a == null) {
            return absent;
        }
        if (a.type() != OnnxModel.ATTR_FLOAT && (a.type() != 0 || a.f() == null)) {
            throw w.fail("attribute '" + name + "' must be a float");
        }
        float v = a.f() == null ? 0f : a.f();
        if (!Float.isFinite(v)) {
            throw w.fail("attribute '" + name + "' is " + v + "; it must be finite");
        }
        return v;
    }

    private static long intAttr(NodeDef n, Where w, String name, long absent) {
        Attribute a = attr(n, name);
        if (a == null) {
            return absent;
        }
        if (a.type() != OnnxModel.ATTR_INT && (a.type() != 0 || a.i() == null)) {
            throw w.fail("attribute '" + name + "' must be an int");
        }
        return a.i() == null ? 0 : a.i();
    }

    private static long product(long[] dims) {
        long p = 1;
        for (long d : dims) {
            p = d != 0 && p > Long.MAX_VALUE / d ? Long.MAX_VALUE : p * d;
        }
        return p;
    }
}
