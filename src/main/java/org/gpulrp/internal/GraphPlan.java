package org.gpulrp.internal;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.gpulrp.InitialRelevance;
import org.gpulrp.model.Activation;
import org.gpulrp.model.Identity;
import org.gpulrp.model.Index;
import org.gpulrp.model.Layer;
import org.gpulrp.model.LayerKind;
import org.gpulrp.model.MatMul;
import org.gpulrp.model.Network;
import org.gpulrp.model.Node;
import org.gpulrp.model.Offset;
import org.gpulrp.model.Permute;
import org.gpulrp.model.Scale;
import org.gpulrp.model.Slice;
import org.gpulrp.model.Softmax;

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
     * scratch buffers (the stacked shortcut's one of two widths included) and the pooling indices, and the host
     * arrays of the steps that run on the host (transient, one step at a time: a step reads its inputs, output and
     * relevance and writes its inputs' relevance, at most {@code 2 (inputs + output)} floats per row).
     */
    static long floatsPerRow(Network network) {
        long widths = network.inputSize();
        long max = network.inputSize();
        long host = 0;
        for (Node node : network.nodes()) {
            widths += node.outputSize();
            max = Math.max(max, node.outputSize());
            host = Math.max(host, 2L * ((long) node.inputSize() + node.outputSize()));
        }
        return 3 * widths + 7 * max + host;
    }

    /**
     * Whether output o is attention weights: the output of a {@link Softmax}, or of a chain of nodes that move or
     * scale a single input without mixing it ({@link Index}, {@link Permute}, {@link Slice}, {@link Identity},
     * {@link Scale}) that starts at one. CP-LRP treats such a matrix product operand as a constant
     * (docs/DESIGN.md section 2.9). Decided from the graph alone.
     */
    boolean attentionWeights(int o) {
        while (o > 0) {
            Layer layer = nodes.get(o - 1).layer();
            if (layer instanceof Softmax) {
                return true;
            }
            if (!(layer instanceof Index || layer instanceof Permute || layer instanceof Slice
                    || layer instanceof Identity || layer instanceof Scale)) {
                return false;
            }
            o = src[o - 1][0];
        }
        return false;
    }

    /** {@link #attentionWeights} of each of node k's inputs. */
    boolean[] attentionInputs(int k) {
        boolean[] a = new boolean[src[k].length];
        for (int i = 0; i < a.length; i++) {
            a[i] = attentionWeights(src[k][i]);
        }
        return a;
    }

    /**
     * Which outputs are non-negative by construction, decided from the graph alone: a ReLU's output
     * ({@code x > 0 ? x : 0}, never -0; likewise ReLU6 and hard sigmoid) and a row softmax's (quotients of
     * non-negative exponentials), and max pooling, average pooling, identities (flatten, dropout), slices,
     * permutations, gathers (their empty slots are +0), additions, concatenations, products and matrix products whose
     * inputs all are, and offsets by constants that are all {@code >= 0} of such an input. The network input is not.
     * Indexed by output number.
     */
    boolean[] nonNegativeOutputs() {
        boolean[] nonNeg = new boolean[nodes.size() + 1];
        for (int k = 0; k < nodes.size(); k++) {
            Layer layer = nodes.get(k).layer();
            if (layer instanceof Activation a) {
                nonNeg[k + 1] = a.function().nonNegative();
            } else if (layer instanceof Softmax) {
                nonNeg[k + 1] = true;
            } else if (layer instanceof org.gpulrp.model.MaxPool2d || layer instanceof org.gpulrp.model.AvgPool2d
                    || layer instanceof Identity || layer instanceof org.gpulrp.model.Add
                    || layer instanceof org.gpulrp.model.Concat || layer instanceof Slice
                    || layer instanceof Permute || layer instanceof org.gpulrp.model.Multiply
                    || layer instanceof Index || layer instanceof MatMul
                    || layer instanceof Offset o && nonNegative(o.values())) {
                boolean all = true;
                for (int o : src[k]) {
                    all &= nonNeg[o];
                }
                nonNeg[k + 1] = all;
            }
        }
        return nonNeg;
    }

    private static boolean nonNegative(float[] values) {
        for (float v : values) {
            if (!(v >= 0)) {
                return false;
            }
        }
        return true;
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
        while (nodes.get(k).layer() instanceof Identity && src[k][0] > 0) {
            k = src[k][0] - 1;
        }
        return nodes.get(k).kind() == LayerKind.ACTIVATION && src[k][0] > 0 ? src[k][0] - 1 : last;
    }
}
