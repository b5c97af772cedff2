package org.gpulrp.io.onnx;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.gpulrp.io.onnx.OnnxModel.Graph;
import org.gpulrp.io.onnx.OnnxModel.NodeDef;
import org.gpulrp.io.onnx.OnnxModel.TensorDef;

/**
 * {@code torch.onnx.export} stores identical initializers once and gives the copies their own names through
 * {@code Identity} nodes that read the initializer (every freshly initialized BatchNorm starts as ones and zeros, and
 * the convolution biases folded from such BatchNorms are all zero, so this happens on most models). Such a node is a
 * constant, not a layer: this rewrite turns each {@code Identity} whose input is an initializer (or an earlier such
 * alias) into an initializer of its output's name, so the graph mapper sees initializers wherever a node reads one.
 */
final class InitializerAliases {
    private InitializerAliases() {
    }

    /** The graph with every initializer-reading Identity node replaced by an aliased initializer. */
    static Graph resolve(Graph g) {
        Map<String, TensorDef> initializers = new HashMap<>();
        for (TensorDef t : g.initializers()) {
            initializers.put(t.name(), t);
        }
        List<NodeDef> kept = new ArrayList<>();
        List<TensorDef> aliases = new ArrayList<>();
        for (NodeDef n : g.nodes()) {
            TensorDef source = n.opType().equals("Identity") && n.inputs().size() == 1 && n.outputs().size() == 1
                    ? initializers.get(n.inputs().get(0)) : null;
            if (source == null || initializers.containsKey(n.outputs().get(0))) {
                kept.add(n);
                continue;
            }
            TensorDef alias = new TensorDef(n.outputs().get(0), source.dims(), source.dataType(), source.floatData(),
                    source.int32Data(), source.int64Data(), source.doubleData(), source.rawData(), source.external(),
                    source.dataLocation());
            initializers.put(alias.name(), alias);
            aliases.add(alias);
        }
        if (aliases.isEmpty()) {
            return g;
        }
        List<TensorDef> all = new ArrayList<>(g.initializers());
        all.addAll(aliases);
        return new Graph(g.name(), kept, all, g.inputs(), g.outputs());
    }
}
