package org.gpulrp.cli;

import java.nio.file.Path;
import org.gpulrp.io.onnx.ImportOptions;
import org.gpulrp.io.onnx.OnnxImporter;
import org.gpulrp.model.Network;

/**
 * Loads a token model (BERT, GPT-2, Llama from ONNX) built for one padded sequence length: the one place that knows
 * how the ONNX importer is told the length.
 */
@FunctionalInterface
interface TokenModel {
    /** The network of {@code file} for sequences of {@code length} tokens. */
    Network load(Path file, int length);

    /** The ONNX importer, told the length by {@link ImportOptions#sequenceLength()}. */
    TokenModel ONNX = (file, length) -> OnnxImporter.load(file, ImportOptions.defaults().withSequenceLength(length));
}
