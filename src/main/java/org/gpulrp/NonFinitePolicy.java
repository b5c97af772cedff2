package org.gpulrp;

/** What an explainer does with NaN or infinite input values ({@link Explainer.Builder#nonFinite}). */
public enum NonFinitePolicy {
    /**
     * Refuse the batch before any work: {@link InvalidInputException} naming the first bad sample (its index in the
     * call's batch) and feature. The default.
     */
    REJECT,
    /**
     * Explain anyway: NaN and infinities flow through the network as IEEE arithmetic takes them (a NaN input gives
     * NaN relevance along its paths); the samples are still explained identically on every backend, and
     * {@link Explanation#health()} (with {@link Explainer.Builder#healthReport(boolean)}) counts what came out.
     */
    PROPAGATE
}
