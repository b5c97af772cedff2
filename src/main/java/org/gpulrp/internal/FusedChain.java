package org.gpulrp.internal;

import java.util.ArrayList;
import java.util.List;
import org.gpulrp.backend.Backend;
import org.gpulrp.backend.DenseChain;
import org.gpulrp.model.Activation;
import org.gpulrp.model.Dense;
import org.gpulrp.model.Identity;
import org.gpulrp.model.Layer;
import org.gpulrp.rules.Epsilon;
import org.gpulrp.rules.Rule;

/**
 * The fused route of a network whose relevance pass is a narrow chain of dense layers explained with the epsilon
 * rule, ReLUs and identities between them (the article's sample model, small tabular MLPs): where the backend offers
 * a {@link DenseChain} for it, the engine runs the chain's forward pass and its relevance pass as one kernel each
 * instead of its nodes' primitives, for calls that report nothing per layer. The same bits (docs/DESIGN.md section
 * 4.4); the nodes after the top (an output sigmoid) run their own steps.
 */
final class FusedChain implements AutoCloseable {
    final DenseChain chain;
    /** The chain's last node, a dense layer: its output is the chain's top. */
    final int end;

    private FusedChain(DenseChain chain, int end) {
        this.chain = chain;
        this.end = end;
    }

    @Override
    public void close() {
        chain.close();
    }

    /**
     * The backend's chain for nodes {@code 0 .. end()}, the longest run of nodes from the input that is such a chain
     * and ends on a dense layer (every node one input, the previous node's output or the network input for the
     * first; the network input and each output inside the chain read by the next node alone), or null where there
     * is none, a layer is too wide, or the backend does not fuse. The nodes after it (an output sigmoid, whose
     * relevance passes through) keep their own steps.
     */
    static FusedChain of(Backend be, GraphPlan plan, Rule[] rules) {
        List<DenseChain.Layer> layers = new ArrayList<>();
        int end = -1;
        int ends = 0;
        for (int k = 0; k <= plan.top && plan.src[k].length == 1 && plan.src[k][0] == k; k++) {
            Layer layer = plan.nodes.get(k).layer();
            if (layer instanceof Dense d && d.positions() == 1 && rules[k] instanceof Epsilon e) {
                layers.add(new DenseChain.Layer(d.in(), d.out(), d.weight(), d.bias(), e.epsilon(), false));
                end = k;
                ends = layers.size();
            } else if (layer instanceof Activation a && a.function() == Activation.Function.RELU
                    && !layers.isEmpty()) {
                layers.set(layers.size() - 1, layers.get(layers.size() - 1).withRelu(true));
            } else if (!(layer instanceof Identity)) {
                break;
            }
        }
        if (end < 0) {
            return null;
        }
        for (int k = 0; k < plan.nodes.size(); k++) {
            for (int o : plan.src[k]) {
                if (o <= end && o != k) {
                    return null; // a value inside the chain read by a node other than the next one
                }
            }
        }
        // A ReLU after the last dense layer is not the chain's: its output is the dense layer's z.
        List<DenseChain.Layer> chain = new ArrayList<>(layers.subList(0, ends));
        chain.set(ends - 1, chain.get(ends - 1).withRelu(false));
        if (!DenseChain.fits(chain)) {
            return null;
        }
        DenseChain fused = be.denseChain(chain);
        return fused == null ? null : new FusedChain(fused, end);
    }
}
