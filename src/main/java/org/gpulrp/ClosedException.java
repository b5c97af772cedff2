package org.gpulrp;

/** Use of an explainer or backend after {@code close()}. */
public class ClosedException extends LrpException {
    private static final long serialVersionUID = 1L;

    public ClosedException(String what) {
        super(what + " is closed; prepare a new one with GpuLrp.explainer(...)");
    }
}
