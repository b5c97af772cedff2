package org.gpulrp.composite;

import java.util.ArrayList;
import java.util.List;
import org.gpulrp.model.LayerKind;
import org.gpulrp.model.Network;
import org.gpulrp.model.Node;

/**
 * What a composite sees of one layer when choosing its rule.
 *
 * @param name        the node's name
 * @param kind        its kind
 * @param linearIndex position among the network's linear layers, 0 = closest to the input (-1 for other layers)
 * @param linearCount number of linear layers in the network
 * @param inputSize   features the layer reads
 * @param kindIndex   position among the linear layers of the same kind (dense or convolution), 0 = closest to
 *                    the input (-1 for other layers)
 */
public record LayerContext(String name, LayerKind kind, int linearIndex, int linearCount, int inputSize,
                           int kindIndex) {

    /** A context whose kind index equals its linear index (a network of one linear kind). */
    public LayerContext(String name, LayerKind kind, int linearIndex, int linearCount, int inputSize) {
        this(name, kind, linearIndex, linearCount, inputSize, linearIndex);
    }

    /** True for the linear layer closest to the input. */
    public boolean isFirst() {
        return linearIndex == 0;
    }

    /** The context of every node of {@code network}, in node (forward) order. */
    public static List<LayerContext> of(Network network) {
        int linearCount = network.linearNodes().size();
        int linear = 0;
        int[] perKind = new int[LayerKind.values().length];
        List<LayerContext> out = new ArrayList<>();
        for (Node n : network.nodes()) {
            boolean isLinear = n.kind().isLinear();
            out.add(new LayerContext(n.name(), n.kind(), isLinear ? linear : -1, linearCount, n.inputSize(),
                    isLinear ? perKind[n.kind().ordinal()] : -1));
            if (isLinear) {
                linear++;
                perKind[n.kind().ordinal()]++;
            }
        }
        return out;
    }
}
