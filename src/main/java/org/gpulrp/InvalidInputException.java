package org.gpulrp;

/** Input data that cannot be explained, such as NaN or infinite values; names the sample and feature. */
public class InvalidInputException extends LrpException {
    private static final long serialVersionUID = 1L;
    private final int sample;
    private final int feature;

    public InvalidInputException(String message, int sample, int feature) {
        super(message);
        this.sample = sample;
        this.feature = feature;
    }

    /** The offending sample's index in the batch, or -1 where the problem is not tied to one sample. */
    public int sample() {
        return sample;
    }

    /** The offending feature's index, or -1. */
    public int feature() {
        return feature;
    }
}
