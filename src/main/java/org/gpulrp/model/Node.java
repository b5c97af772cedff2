package org.gpulrp.model;

import java.util.List;

/**
 * A named layer in the network graph with the names of the nodes that feed it. {@code inputs} is empty for a node
 * fed only by the network input; a merge node lists {@link Network#INPUT} where it reads the network input.
 *
 * @param name       unique name (e.g. {@code fc1}, as in a PyTorch state dict)
 * @param layer      the operation
 * @param inputs     names of the nodes whose outputs it reads; empty means the network input
 * @param inputSize  features it reads (summed over the inputs of a merge)
 * @param outputSize features it writes
 */
public record Node(String name, Layer layer, List<String> inputs, int inputSize, int outputSize) {
    public Node {
        inputs = List.copyOf(inputs);
    }

    public LayerKind kind() {
        return layer.kind();
    }

    /** The inputs' names, with {@link Network#INPUT} for the network input. */
    public List<String> sources() {
        return inputs.isEmpty() ? List.of(Network.INPUT) : inputs;
    }
}
