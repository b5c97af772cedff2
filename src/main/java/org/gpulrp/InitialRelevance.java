package org.gpulrp;

/** How the relevance at the top of the network is set for each sample's target class t. */
public enum InitialRelevance {
    /** {@code R = output * onehot(t)}: input relevances sum to about the explained score (the default). */
    OUTPUT,
    /** {@code R = onehot(t)}. */
    ONEHOT,
    /**
     * Explain the logit: the network without its final activation (sigmoid, softmax), {@code R = logit * onehot(t)}.
     */
    LOGIT
}
