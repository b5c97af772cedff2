package org.gpulrp.canonize;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.gpulrp.InvalidArgumentException;
import org.gpulrp.model.ConvGeometry;
import org.gpulrp.model.BatchNorm;
import org.gpulrp.model.Conv2d;
import org.gpulrp.model.Dense;
import org.gpulrp.model.Layer;
import org.gpulrp.model.Network;
import org.gpulrp.model.Node;

/** Network rewrites that keep the network's function but give LRP the structure it expects. */
public final class Canonizers {
    private Canonizers() {
    }

    /**
     * Folds every {@link BatchNorm} that directly follows a {@link Conv2d} or {@link Dense} whose output feeds only
     * that batch norm into the linear layer: with {@code s = gamma / sqrt(var + eps)} per output channel, {@code W' =
     * W * s} and {@code b' = (b - mean) * s + beta}, computed in double and rounded to float. The folded layer keeps
     * the linear layer's name; nodes that read the batch norm read it instead. Batch norms after anything else stay
     * standalone (see {@link BatchNorm}). Pure: returns a new network, the given one is unchanged (and returned as
     * is when there is nothing to fold).
     */
    public static Network foldBatchNorm(Network network) {
        InvalidArgumentException.check(network != null, "network", "must not be null");
        List<Node> nodes = network.nodes();
        Map<String, Integer> consumers = new HashMap<>();
        for (Node n : nodes) {
            for (String s : n.sources()) {
                consumers.merge(s, 1, Integer::sum);
            }
        }
        Map<String, Node> byName = new HashMap<>();
        for (Node n : nodes) {
            byName.put(n.name(), n);
        }
        String outputNode = nodes.get(nodes.size() - 1).name();
        Map<String, Layer> replaced = new HashMap<>(); // linear node -> folded layer
        Set<String> dropped = new HashSet<>();          // folded batch norms
        Map<String, String> rename = new HashMap<>();   // batch norm -> linear node
        for (Node n : nodes) {
            if (!(n.layer() instanceof BatchNorm bn) || n.sources().size() != 1) {
                continue;
            }
            Node prev = byName.get(n.sources().get(0));
            if (prev == null || consumers.getOrDefault(prev.name(), 0) != 1 || prev.name().equals(outputNode)) {
                continue;
            }
            Layer folded = fold(prev.layer(), bn);
            if (folded != null) {
                replaced.put(prev.name(), folded);
                dropped.add(n.name());
                rename.put(n.name(), prev.name());
            }
        }
        if (dropped.isEmpty()) {
            return network;
        }
        Network.Builder b = Network.builder(network.name(), network.inputShape()).tokens(network.tokens());
        for (Node n : nodes) {
            if (dropped.contains(n.name())) {
                continue;
            }
            List<String> ins = new ArrayList<>();
            for (String s : n.sources()) {
                ins.add(rename.getOrDefault(s, s));
            }
            b.add(n.name(), replaced.getOrDefault(n.name(), n.layer()), ins.toArray(new String[0]));
        }
        return b.build();
    }

    /** The linear layer with the batch norm folded in, or null when their shapes do not match. */
    private static Layer fold(Layer linear, BatchNorm bn) {
        double[] s = bn.scale();
        float[] mean = bn.mean();
        float[] beta = bn.beta();
        if (linear instanceof Conv2d c) {
            ConvGeometry g = c.geometry();
            if (g.outChannels() != bn.channels() || g.outH() != bn.height() || g.outW() != bn.width()) {
                return null;
            }
            float[] w = c.weight();
            float[] bias = c.bias();
            int per = g.weightSize() / g.outChannels();
            for (int o = 0; o < g.outChannels(); o++) {
                for (int i = 0; i < per; i++) {
                    w[o * per + i] = (float) (w[o * per + i] * s[o]);
                }
                bias[o] = (float) (((double) bias[o] - mean[o]) * s[o] + beta[o]);
            }
            return new Conv2d(g, w, bias);
        }
        if (linear instanceof Dense d) {
            // A token-wise dense layer (positions > 1) is not folded: a batch norm's channels are not its features.
            if (d.positions() != 1 || d.out() != bn.channels() || bn.height() != 1 || bn.width() != 1) {
                return null;
            }
            float[] w = d.weight();
            float[] bias = d.bias();
            int in = d.in();
            for (int o = 0; o < d.out(); o++) {
                for (int i = 0; i < in; i++) {
                    w[o * in + i] = (float) (w[o * in + i] * s[o]);
                }
                bias[o] = (float) (((double) bias[o] - mean[o]) * s[o] + beta[o]);
            }
            return new Dense(in, d.out(), w, bias);
        }
        return null;
    }
}
