package org.gpulrp.rules;

/** Relevance passes through unchanged (activations, identity). */
public record Pass() implements Rule {
    @Override
    public String describe() {
        return "pass";
    }
}
