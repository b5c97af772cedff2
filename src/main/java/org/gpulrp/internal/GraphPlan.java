package org.gpulrp.internal;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.gpulrp.InitialRelevance;
import org.gpulrp.model.Activation;
import org.gpulrp.model.LayerKind;
import org.gpulrp.model.Network;
import org.gpulrp.model.Node;

/**
 * The graph half of the {@link Engine}: how a network's values are numbered and where relevance flows, decided once
 * from the graph alone (docs/DESIGN.md section 4). Outputs are numbered: 0 = the network input, k + 1 = node k's
 * output; {@link #src}{@code [k]} lists node k's inputs. No buffers, no backend.
 */
final class GraphPlan {
    final Network network;
    final List<Node> nodes;
    /** Each node's inputs as output numbers. */
    final int[][] src;
    /** Index of the node whose output receives the initial relevance. */
    final int top;
    /** Whether output o carries relevance (an ancestor of the top node, or the top node itself). */
    final boolean[] reached;
    /** How many relevance contributions output o receives (one per reached consumer edge). */
    final int[] fanOut;

    GraphPlan(Network network, InitialRelevance init) {
        this.network = network;
        this.nodes = network.nodes();
        this.src = sources(network);
        this.top = topNode(nodes, src, init);
        int n = nodes.size();
        this.reached = new boolean[n + 1];
        this.fanOut = new int[n + 1];
        reached[top + 1] = true;
        for (int k = top; k >= 0; k--) {
            if (reached[k + 1]) {
                for (int o : src[k]) {
                    reached[o] = true;
                    fanOut[o]++;
                }
            }
        }
    }

    /** Features of output o. */
    int width(int o) {
        return o == 0 ? network.inputSize() : nodes.get(o - 1).outputSize();
    }

    /** The widest output, the network input included. */
    int maxWidth() {
        int max = network.inputSize();
        for (Node node : nodes) {
            max = Math.max(max, node.outputSize());
        }
        return max;
    }

    /**
     * An upper bound of the per-batch floats one row needs: every node's output and relevance, the input, the
     * scratch buffers (the stacked shortcut's one of two widths included) and the pooling indices.
     */
    static long floatsPerRow(Network network) {
        long widths = network.inputSize();
        long max = network.inputSize();
        for (Node node : network.nodes()) {
            widths += node.outputSize();
            max = Math.max(max, node.outputSize());
        }
        return 3 * widths + 7 * max;
    }

    /**
     * Which outputs are non-negative by construction, decided from the graph alone: a ReLU's output
     * ({@code x > 0 ? x : 0}, never -0; likewise ReLU6 and hard sigmoid), and max pooling, average pooling,
     * identities (flatten, dropout), slices, permutations, additions, concatenations and products whose inputs all
     * are. The network input is not. Indexed by output number.
     */
    boolean[] nonNegativeOutputs() {
        boolean[] nonNeg = new boolean[nodes.size() + 1];
        for (int k = 0; k < nodes.size(); k++) {
            org.gpulrp.model.Layer layer = nodes.get(k).layer();
            if (layer instanceof Activation a) {
                nonNeg[k + 1] = a.function().nonNegative();
            } else if (layer instanceof org.gpulrp.model.MaxPool2d || layer instanceof org.gpulrp.model.AvgPool2d
                    || layer instanceof org.gpulrp.model.Identity || layer instanceof org.gpulrp.model.Add
                    || layer instanceof org.gpulrp.model.Concat || layer instanceof org.gpulrp.model.Slice
                    || layer instanceof org.gpulrp.model.Permute || layer instanceof org.gpulrp.model.Multiply) {
                boolean all = true;
                for (int o : src[k]) {
                    all &= nonNeg[o];
                }
                nonNeg[k + 1] = all;
            }
        }
        return nonNeg;
    }

    private static int[][] sources(Network network) {
        List<Node> nodes = network.nodes();
        Map<String, Integer> index = new HashMap<>();
        index.put(Network.INPUT, 0);
        int[][] src = new int[nodes.size()][];
        for (int k = 0; k < nodes.size(); k++) {
            List<String> names = nodes.get(k).sources();
            src[k] = new int[names.size()];
            for (int i = 0; i < names.size(); i++) {
                src[k][i] = index.get(names.get(i));
            }
            index.put(nodes.get(k).name(), k + 1);
        }
        return src;
    }

    /**
     * The node whose output receives the initial relevance: the last one, or for LOGIT the one below the final
     * activation (looking past trailing identities such as dropout at inference).
     */
    private static int topNode(List<Node> nodes, int[][] src, InitialRelevance init) {
        int last = nodes.size() - 1;
        if (init != InitialRelevance.LOGIT) {
            return last;
        }
        int k = last;
        while (nodes.get(k).layer() instanceof org.gpulrp.model.Identity && src[k][0] > 0) {
            k = src[k][0] - 1;
        }
        return nodes.get(k).kind() == LayerKind.ACTIVATION && src[k][0] > 0 ? src[k][0] - 1 : last;
    }
}
