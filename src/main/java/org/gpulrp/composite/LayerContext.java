package org.gpulrp.composite;

import org.gpulrp.model.LayerKind;

/**
 * What a composite sees of one linear layer when choosing its rule.
 *
 * @param name        the node's name
 * @param kind        its kind
 * @param linearIndex position among the network's linear layers, 0 = closest to the input
 * @param linearCount number of linear layers in the network
 * @param inputSize   features the layer reads
 */
public record LayerContext(String name, LayerKind kind, int linearIndex, int linearCount, int inputSize) {
    /** True for the linear layer closest to the input. */
    public boolean isFirst() {
        return linearIndex == 0;
    }
}
