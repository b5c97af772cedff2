package org.gpulrp.io.onnx;

import org.gpulrp.InvalidArgumentException;

/**
 * Options of an ONNX import ({@link OnnxImporter#load(java.nio.file.Path, ImportOptions)}).
 *
 * @param sequenceLength the padded sequence length T a token model (inputs {@code input_ids}, ... of shape
 *                       {@code [batch, sequence]}) is built for, when the export leaves it symbolic; 0 for none (a
 *                       float-input model ignores it). The network then takes samples of {@code blocks x T} values
 *                       ({@link org.gpulrp.model.TokenInput}).
 */
public record ImportOptions(int sequenceLength) {

    public ImportOptions {
        InvalidArgumentException.check(sequenceLength >= 0, "sequenceLength", "must be >= 0 (0: not given), got "
                + sequenceLength);
    }

    /** No options: what {@link OnnxImporter#load(java.nio.file.Path)} uses. */
    public static ImportOptions defaults() {
        return new ImportOptions(0);
    }

    /** These options with a token model's sequence length. */
    public ImportOptions withSequenceLength(int length) {
        InvalidArgumentException.check(length >= 1, "sequenceLength", "must be >= 1, got " + length);
        return new ImportOptions(length);
    }
}
