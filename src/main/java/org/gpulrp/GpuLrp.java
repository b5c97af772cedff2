package org.gpulrp;

import org.gpulrp.composite.Composite;
import org.gpulrp.model.Network;

/**
 * Entry point. One-shot: {@link #explain(Network, float[][], Target, Composite)}. Repeated calls: prepare once with
 * {@link #explainer(Network)}, explain many times, close.
 */
public final class GpuLrp {
    private GpuLrp() {
    }

    /** Configures a prepared explainer for repeated calls. */
    public static Explainer.Builder explainer(Network network) {
        return Explainer.builder(network);
    }

    /** Prepares, explains one batch on the automatically chosen backend, and releases everything. */
    public static Explanation explain(Network network, float[][] inputs, Target target, Composite composite) {
        try (Explainer e = explainer(network).composite(composite).build()) {
            return e.explain(inputs, target);
        }
    }

    /** As {@link #explain(Network, float[][], Target, Composite)} for a batch tensor. */
    public static Explanation explain(Network network, Tensor inputs, Target target, Composite composite) {
        try (Explainer e = explainer(network).composite(composite).build()) {
            return e.explain(inputs, target);
        }
    }
}
