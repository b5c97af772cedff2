package org.gpulrp;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.gpulrp.backend.BackendInfo;

/**
 * The result of explaining a batch: input relevance, model outputs, targets, optionally the relevance at every
 * layer, which backend ran, and per sample how well relevance was conserved.
 */
public final class Explanation {
    private final Tensor relevance;
    private final Tensor outputs;
    private final int[] targets;
    private final float[] scores;
    private final Map<String, Tensor> layers;
    private final BackendInfo backend;
    private final HealthReport health;
    /** Set once a later call took this explanation's arrays ({@code Explainer.explain(inputs, target, last)}). */
    private volatile boolean spent;

    Explanation(Tensor relevance, Tensor outputs, int[] targets, float[] scores, Map<String, Tensor> layers,
                BackendInfo backend) {
        this(relevance, outputs, targets, scores, layers, backend, null);
    }

    Explanation(Tensor relevance, Tensor outputs, int[] targets, float[] scores, Map<String, Tensor> layers,
                BackendInfo backend, HealthReport health) {
        this.health = health;
        this.relevance = relevance;
        this.outputs = outputs;
        this.targets = targets;
        this.scores = scores;
        this.layers = Collections.unmodifiableMap(new LinkedHashMap<>(layers));
        this.backend = backend;
    }

    /**
     * Where relevance went, per layer ({@link Explainer.Builder#healthReport(boolean)}).
     *
     * @throws IllegalStateException when the explainer was built without the health report
     */
    public HealthReport health() {
        if (health == null) {
            throw new IllegalStateException("no health report: build the explainer with healthReport(true)");
        }
        return health;
    }

    /** Relevance of each input feature, {@code [batch, features]}. */
    public Tensor relevance() {
        live();
        return relevance;
    }

    /** The model's outputs, {@code [batch, outputs]}. */
    public Tensor outputs() {
        live();
        return outputs;
    }

    /** The explained class of each sample. */
    public int[] targets() {
        live();
        return targets.clone();
    }

    /** The initial relevance put at each sample's target (its score, for {@link InitialRelevance#OUTPUT}). */
    public float[] scores() {
        live();
        return scores.clone();
    }

    /**
     * Hands this explanation's result arrays to a later call of {@code rows} samples of {@code network}, which writes
     * every value of them again; this explanation is spent from then on. Null (and this explanation untouched) where
     * they do not fit that call.
     *
     * @throws IllegalStateException when a call took them already
     */
    synchronized org.gpulrp.internal.Engine.Reuse takeBuffers(org.gpulrp.model.Network network, int rows) {
        if (spent) {
            throw new IllegalStateException("this explanation's arrays were already reused by a later call; pass "
                    + "the latest explanation");
        }
        org.gpulrp.internal.Engine.Reuse r = new org.gpulrp.internal.Engine.Reuse(relevance.view(), outputs.view(),
                targets, scores);
        if (!r.fits(network, rows)) {
            return null;
        }
        spent = true;
        return r;
    }

    private void live() {
        if (spent) {
            throw new IllegalStateException("this explanation's arrays were reused by a later call (explain with "
                    + "reuse); read an explanation before passing it on");
        }
    }

    /**
     * Relevance at the output of each node, from the top of the relevance pass down, keyed by node name; empty
     * unless the explainer keeps layer relevances. The input relevance is {@link #relevance()}.
     */
    public Map<String, Tensor> layerRelevances() {
        return layers;
    }

    /** Relevance at the output of one node; throws when layer relevances were not kept or the name is unknown. */
    public Tensor layerRelevance(String node) {
        Tensor t = layers.get(node);
        if (t == null) {
            throw new InvalidArgumentException("node", layers.isEmpty()
                    ? "layer relevances were not kept; build the explainer with keepLayerRelevances(true)"
                    : "no relevance for '" + node + "'; known: " + layers.keySet());
        }
        return t;
    }

    /** Which backend and device computed this. */
    public BackendInfo backend() {
        return backend;
    }

    public int batchSize() {
        return targets.length;
    }

    /** Per sample: initial relevance vs the sum of input relevance. */
    public List<Conservation> conservation() {
        List<Conservation> c = new ArrayList<>(targets.length);
        for (int b = 0; b < targets.length; b++) {
            c.add(conservation(b));
        }
        return Collections.unmodifiableList(c);
    }

    /**
     * Sample {@code sample}'s initial relevance vs the sum of its input relevance (its values added in ascending order
     * in double), computed when asked: summing every row of every call cost the 10-input sample model 6 % of its time.
     */
    public Conservation conservation(int sample) {
        live();
        if (sample < 0 || sample >= targets.length) {
            throw new IndexOutOfBoundsException("sample " + sample + " of a batch of " + targets.length);
        }
        return new Conservation(scores[sample], org.gpulrp.internal.Health.rowSum(relevance.view(), sample,
                relevance.rowSize()));
    }
}
