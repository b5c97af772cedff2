package org.gpulrp.eval;

import java.util.Arrays;
import org.gpulrp.InvalidArgumentException;
import org.gpulrp.model.Embedding;
import org.gpulrp.model.Network;
import org.gpulrp.model.Node;
import org.gpulrp.model.TokenInput;

/**
 * Token removal as LXT's perturbation protocol does it (its issue #40): a removed token's input embedding becomes the
 * zero vector. The network's word embedding (the first {@link Embedding} with the token layout's vocabulary and one
 * row per position) gets one more row, all zeros, at id {@code vocab}; removing a token writes that id into its
 * position of the ids block. Every other id looks up the same row as before, so the prepared network explains and
 * scores the original ids with the same bits. docs/DESIGN.md section 2.10.
 */
public final class ZeroEmbedding {
    private ZeroEmbedding() {
    }

    /** {@code network} with the zero row appended to its word embedding; its token layout counts the new id. */
    public static Network prepare(Network network) {
        TokenInput t = network.tokens();
        InvalidArgumentException.check(t != null, "network", "is not a token model (no token input layout)");
        Node word = null;
        for (Node n : network.nodes()) {
            if (n.layer() instanceof Embedding e && e.vocab() == t.vocab() && e.positions() == t.length()) {
                word = n;
                break;
            }
        }
        InvalidArgumentException.check(word != null, "network", "has no word embedding of " + t.vocab() + " rows "
                + "for its " + t.length() + " token positions");
        Embedding e = (Embedding) word.layer();
        float[] table = Arrays.copyOf(e.table(), (e.vocab() + 1) * e.hidden());
        return network.withLayer(word.name(), new Embedding(e.positions(), e.vocab() + 1, e.hidden(), table),
                new TokenInput(t.length(), t.blocks(), t.vocab() + 1));
    }

    /** The baseline of a {@link #prepare prepared} network: the zero row's id, written into removed positions. */
    public static Baseline baseline(Network prepared) {
        return new Baseline.Value(prepared.tokens().vocab() - 1);
    }
}
