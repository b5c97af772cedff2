package org.gpulrp.io.onnx;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.gpulrp.io.ModelFormatException;
import org.gpulrp.io.onnx.OnnxModel.Graph;
import org.gpulrp.io.onnx.OnnxModel.NodeDef;
import org.gpulrp.io.onnx.OnnxModel.TensorDef;
import org.gpulrp.io.onnx.ShapeGraph.ShapeValue;
import org.gpulrp.model.Layer;

/**
 * The state of one ONNX import that the operator mappers share: the graph's constants and use counts, the network
 * layers so far, the ONNX values with their network nodes and shapes, and the node being imported (what it reads,
 * its shape, what it defines). Also the helpers that name layers and read constant inputs.
 */
final class MappingState {
    /** One network layer to be, with where it came from for error messages and the nodes it reads. */
    record Step(String name, Where where, Layer layer, String[] inputs) {
    }

    /**
     * An ONNX value: the network node producing it ({@link org.gpulrp.model.Network#INPUT} for the input), its shape
     * without the batch axis, and where the batch is. The ONNX tensor has the batch axis at {@code batchAxis}, of
     * size {@code outer * batch * inner} (the batch merged with other axes, as attention exports it: {@code [S, B *
     * heads, d]} has inner = heads, {@code [S * B, E]} outer = S); {@code shape} is the other axes. One sample's
     * values are, row-major, {@link #perSample()}: {@code shape} with {@code [outer, inner]} at {@code batchAxis}.
     * Values that are the same for every sample flow through the network like any other. {@code integer}: token ids
     * or a mask before its Cast; {@code lo}/{@code hi}: per-feature bounds of the values when the graph proves them
     * (a mask and what is computed from it), else null.
     */
    record Value(String node, long[] shape, int batchAxis, long outer, long inner, boolean integer, float[] lo,
                 float[] hi) {
        Value(String node, long[] shape) {
            this(node, shape, 0, 1, 1, false, null, null);
        }

        /** The batch on axis 0, alone ({@code [batch, ...]}), as every layer except the layout ones expects. */
        boolean standard() {
            return batchAxis == 0 && outer == 1 && inner == 1;
        }

        /** The ONNX shape with the batch axis as a marker of its size ({@link ShapeGraph#batchTimes}). */
        long[] onnxDims() {
            long[] out = new long[shape.length + 1];
            System.arraycopy(shape, 0, out, 0, batchAxis);
            out[batchAxis] = ShapeGraph.batchTimes(outer * inner);
            System.arraycopy(shape, batchAxis, out, batchAxis + 1, shape.length - batchAxis);
            return out;
        }

        /** One sample's values as a row-major tensor: {@code shape} with {@code [outer, inner]} at the batch axis. */
        long[] perSample() {
            long[] out = new long[shape.length + 2];
            System.arraycopy(shape, 0, out, 0, batchAxis);
            out[batchAxis] = outer;
            out[batchAxis + 1] = inner;
            System.arraycopy(shape, batchAxis, out, batchAxis + 2, shape.length - batchAxis);
            return out;
        }

        /** The axis of {@link #perSample()} that ONNX axis {@code a} (not the batch axis) is. */
        int sampleAxis(int a) {
            return a < batchAxis ? a : a + 1;
        }

        /** Values per sample. */
        long size() {
            return product(shape) * outer * inner;
        }

        /** Another node's output with this value's batch layout and the given other axes (no type, no bounds). */
        Value to(String newNode, long[] newShape) {
            return new Value(newNode, newShape, batchAxis, outer, inner, false, null, null);
        }

        /** The same value as the output of another node. */
        Value named(String newNode) {
            return new Value(newNode, shape, batchAxis, outer, inner, integer, lo, hi);
        }

        Value bounded(float[] newLo, float[] newHi) {
            return new Value(node, shape, batchAxis, outer, inner, integer, newLo, newHi);
        }
    }

    /** A zero Pad waiting to be merged into the Conv that reads it. */
    record Pending(String source, int padH, int padW, Where where) {
    }

    final Graph graph;
    final String file;
    final Path baseDir;
    final long opset;
    final Map<String, TensorDef> constants = new HashMap<>();
    final Map<String, Integer> uses = new HashMap<>();
    final List<Step> steps = new ArrayList<>();
    final Set<String> names = new HashSet<>();
    /** Non-batch dims of the value flowing down the chain; null while unknown (input without a shape). */
    long[] features;
    /** The input's batch dim when fixed, else -1. */
    long fixedBatch = -1;
    int inputSize = -1;
    long[] inputShape;
    final Map<String, Value> values = new HashMap<>();
    final Map<String, Pending> pads = new HashMap<>();
    final Map<String, ShapeValue> shapeValues = new HashMap<>();
    /** Constants expanded over the batch by an Expand (the same for every sample). */
    final Set<String> batchBroadcast = new HashSet<>();
    /** The nodes reading each ONNX value, for the mappers that look one node ahead (an Add followed by a Clip). */
    final Map<String, List<NodeDef>> consumers = new HashMap<>();
    /** ONNX values already defined by a node that looked ahead (the Clip an Add absorbed): its output's value. */
    final Map<String, String> absorbed = new HashMap<>();
    /** The options of this import (the sequence length of a token model). */
    ImportOptions options = ImportOptions.defaults();
    /** A token model's packed inputs in order ({@link org.gpulrp.model.TokenInput}'s blocks), else null. */
    List<String> blocks;
    /** The rows of the embedding that reads a token model's ids (0 until it is mapped). */
    int vocab;
    /** The node defining each ONNX value, for the fusions that look one node back (x * Sigmoid(x)). */
    final Map<String, NodeDef> producers = new HashMap<>();
    /** The value the node being imported reads first (its input 0), with its batch layout. */
    Value current;
    /** The output value a mapper defines with a batch layout of its own (null: {@code [batch, features]}). */
    Value result;
    /** The network node the node being imported reads. */
    String source;
    /** The ONNX value the node being imported defines (null: none, e.g. a Pad waiting for its Conv). */
    String produced;

    MappingState(Graph graph, String file, Path baseDir, long opset) {
        this.graph = graph;
        this.file = file;
        this.baseDir = baseDir;
        this.opset = opset;
    }

    ModelFormatException fileError(String message) {
        return new ModelFormatException(file + ": " + message);
    }

    Where where(NodeDef n, int k) {
        return new Where(n.name().isBlank() ? generated(n, k) : n.name(), n.opType(), file);
    }

    private static String generated(NodeDef n, int k) {
        return n.opType().toLowerCase(Locale.ROOT) + "_" + k;
    }

    /** The ONNX node name made safe as a layer (and file) name, or {@code <op>_<k>}; unique in the network. */
    String layerName(NodeDef n, int k) {
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

    String unique(String name) {
        String candidate = name;
        for (int i = 2; !names.add(candidate); i++) {
            candidate = name + "_" + i;
        }
        return candidate;
    }

    /**
     * {@code <prefix>} for a weight named {@code <prefix>.weight}; else, for a node in a PyTorch scope
     * ({@code /encoder/layer.0/query/MatMul} reading {@code onnx::MatMul_390}), the scope; else the node's name.
     */
    String weightLayerName(String weightName, NodeDef n, int k) {
        if (weightName.endsWith(".weight") && weightName.length() > ".weight".length()) {
            return unique(sanitize(weightName.substring(0, weightName.length() - ".weight".length()), n, k));
        }
        int slash = n.name().lastIndexOf('/');
        return slash > 0 && !weightName.contains(".") ? unique(sanitize(n.name().substring(0, slash), n, k))
                : layerName(n, k);
    }

    TensorDef constantInput(NodeDef n, Where w, int index, String what) {
        String name = n.inputs().get(index);
        TensorDef t = constants.get(name);
        if (t == null) {
            throw w.fail("input " + what + " '" + name + "' is not a constant (an initializer or Constant node); "
                    + "gpulrp needs constant weights and shapes");
        }
        return t;
    }

    void addStep(String name, Where w, Layer layer) {
        steps.add(new Step(name, w, layer, new String[] {source}));
    }

    void addSteps(NodeDef n, Where w, int k, Layer layer, List<Value> vs) {
        steps.add(new Step(layerName(n, k), w, layer, vs.stream().map(Value::node).toArray(String[]::new)));
    }

    /** Removes the layer of the given name (a step another node absorbed, e.g. the Sigmoid of x * Sigmoid(x)). */
    void removeStep(String name) {
        steps.removeIf(s -> s.name().equals(name));
    }

    /** The step named {@code name}, or null. */
    Step step(String name) {
        for (Step s : steps) {
            if (s.name().equals(name)) {
                return s;
            }
        }
        return null;
    }

    /** The graph value named {@code name} (null when it is not one), refusing the output of a pending Pad. */
    Value value(String name, Where w) {
        if (pads.containsKey(name)) {
            throw w.fail("reads the output of a Pad; gpulrp supports a Pad only right before a Conv or an "
                    + "AveragePool");
        }
        return values.get(name);
    }

    /** The input as an image {@code [C, H, W]}, or an error saying the operator needs one. */
    int[] image(Where w) {
        if (features == null || features.length != 3) {
            throw w.fail("needs a [batch, channels, height, width] input with a known shape, receives "
                    + (features == null ? "an input of unknown shape" : "rank " + (features.length + 1))
                    + " (give the graph input a fixed [N, C, H, W] shape)");
        }
        return new int[] {(int) features[0], (int) features[1], (int) features[2]};
    }

    void requireFlat(Where w) {
        if (features != null && features.length != 1) {
            throw w.fail("receives a rank-" + (features.length + 1) + " input; a dense layer needs [batch, "
                    + "features] (add a Flatten before it)");
        }
    }

    static long product(long[] dims) {
        long p = 1;
        for (long d : dims) {
            p = d != 0 && p > Long.MAX_VALUE / d ? Long.MAX_VALUE : p * d;
        }
        return p;
    }
}
