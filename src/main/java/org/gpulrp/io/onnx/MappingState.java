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
     * An ONNX value: the network node producing it ({@link org.gpulrp.model.Network#INPUT} for the input) and its
     * per-sample shape.
     */
    record Value(String node, long[] shape) {
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
    /** The node defining each ONNX value, for the fusions that look one node back (x * Sigmoid(x)). */
    final Map<String, NodeDef> producers = new HashMap<>();
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

    String weightLayerName(String weightName, NodeDef n, int k) {
        return weightName.endsWith(".weight") && weightName.length() > ".weight".length()
                ? unique(sanitize(weightName.substring(0, weightName.length() - ".weight".length()), n, k))
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
