package org.gpulrp.io.onnx;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.gpulrp.io.ModelFormatException;
import org.gpulrp.io.onnx.OnnxModel.Model;
import org.gpulrp.io.onnx.OnnxModel.OpsetId;
import org.gpulrp.model.Network;

/**
 * Reads ONNX models (opset 9 and later) into a {@link Network}.
 *
 * <p>Supported: graphs (branches, residual additions, concatenations) of Gemm, MatMul (fused with a following Add as
 * its bias), Conv (a Pad before it folded in), MaxPool (floor or ceil mode), AveragePool (a Pad before it folded in;
 * {@code count_include_pad=0} corrected by a {@link org.gpulrp.model.Scale}), GlobalAveragePool, ReduceMean over
 * height and width, BatchNormalization (folded into the convolution or dense layer before it where it can be), Add,
 * Concat, Mul (x * Sigmoid(x) and x * HardSigmoid(x) fused into SiLU and hard swish, squeeze-and-excitation gates
 * and equal shapes as {@link org.gpulrp.model.Multiply}, constants as {@link org.gpulrp.model.Scale}), Div by a
 * constant, Split and Slice along channels ({@link org.gpulrp.model.Slice}), Transpose keeping the batch axis
 * ({@link org.gpulrp.model.Permute}), Relu, Clip (ReLU6 or ReLU), Sigmoid, HardSigmoid, HardSwish, Softmax (over the
 * features), Flatten (axis 1), Reshape keeping the batch axis (to {@code [batch, features]} an Identity layer, to a
 * higher rank a view without a layer), Identity and Dropout (inference: pass-through). The integer subgraphs that
 * compute shapes (Shape, Gather, Unsqueeze, Concat, Div, ...) are evaluated while importing, the batch kept
 * symbolic; {@code GraphMapper.SUPPORTED} is the list the errors quote.
 *
 * <p>Transformers (BERT-style encoders, GPT-2 and Llama-style decoders, torchvision's ViT, as {@code torch.onnx.export}
 * writes them at opsets 14 to 17): MatMul by a weight on {@code [batch, T, in]} is a token-wise
 * {@link org.gpulrp.model.Dense}; MatMul of two values a batched {@link org.gpulrp.model.MatMul}; Transpose, Reshape,
 * Split, Slice, Gather, Expand and Concat on any axis but the batch rearrange each sample's values
 * ({@link org.gpulrp.model.Index}); LayerNorm, RMSNorm and GELU (exported whole or as their elementary chains) map to
 * one layer each; every node whose inputs are constants once the sequence length is fixed (position ids and
 * embeddings, the causal mask, rotary tables) is evaluated while importing. A token model's inputs
 * ({@code input_ids}, {@code attention_mask}, {@code token_type_ids}, int64) are packed into one float sample
 * ({@link org.gpulrp.model.TokenInput}, {@link Network#tokens()}); its sequence length comes from
 * {@link ImportOptions} when the export leaves it symbolic.
 * Initializers may be FLOAT, DOUBLE or FLOAT16 (converted to float32), as {@code raw_data}, typed fields or external
 * data files. The batch dimension may be symbolic or fixed.
 *
 * <p>Layer names: a Gemm/MatMul (or Conv) whose weight is named {@code <prefix>.weight} (as in a PyTorch export) is
 * named {@code <prefix>}, so the layers match the state dict ({@code fc1}, {@code fc2}, ...); other nodes keep their
 * ONNX node name with PyTorch's scope slashes turned into dots ({@code /Relu_1} becomes {@code Relu_1},
 * {@code /fc1/Relu} becomes {@code fc1.Relu}), or get {@code <op>_<index>} when unnamed.
 *
 * <p>Anything else (another operator, attribute value or data type) stops the load
 * with a {@link ModelFormatException} naming the node and its op type; a corrupt or truncated file gives a
 * file-level one.
 */
public final class OnnxImporter {
    /** Oldest default-domain opset read. */
    public static final int MIN_OPSET = 9;

    private OnnxImporter() {
    }

    /**
     * Reads an ONNX model file into a Network; external data files are resolved relative to the model's folder.
     *
     * @throws ModelFormatException when the file is not ONNX or uses something not supported
     * @throws UncheckedIOException when the file cannot be read
     */
    public static Network load(Path file) {
        return load(file, ImportOptions.defaults());
    }

    /**
     * Reads an ONNX model file with options: a token model (inputs {@code input_ids}, {@code attention_mask},
     * {@code token_type_ids}) whose sequence length the export leaves symbolic is built for
     * {@code options.sequenceLength()} (its {@link Network#tokens()} says how a sample packs the inputs).
     *
     * @throws ModelFormatException when the file is not ONNX or uses something not supported, or a token model's
     *                              sequence length is neither fixed by the export nor given
     * @throws UncheckedIOException when the file cannot be read
     */
    public static Network load(Path file, ImportOptions options) {
        byte[] bytes;
        try {
            if (Files.size(file) > Integer.MAX_VALUE - 8) {
                throw new ModelFormatException(file + ": larger than 2 GB; protobuf cannot hold that, so keep the "
                        + "weights as ONNX external data beside the model");
            }
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        }
        Path dir = file.toAbsolutePath().getParent();
        return load(bytes, file.toString(), dir, options);
    }

    /**
     * Same, from bytes already read; {@code baseDir} resolves external data (may be null: then external data is an
     * error).
     *
     * @param model   the bytes of the {@code .onnx} file
     * @param name    the file name used in messages (and, without {@code .onnx}, as the network's name)
     * @param baseDir folder for external data files, or null
     * @throws ModelFormatException when the bytes are not ONNX or use something not supported
     */
    public static Network load(byte[] model, String name, Path baseDir) {
        return load(model, name, baseDir, ImportOptions.defaults());
    }

    /** Same, with options (see {@link #load(Path, ImportOptions)}). */
    public static Network load(byte[] model, String name, Path baseDir, ImportOptions options) {
        if (options == null) {
            throw new org.gpulrp.InvalidArgumentException("options", "must not be null");
        }
        if (model == null) {
            throw new org.gpulrp.InvalidArgumentException("model", "must not be null");
        }
        String file = name == null || name.isBlank() ? "model.onnx" : name;
        Model m = OnnxParser.parse(model, file);
        if (m.graph() == null || m.irVersion() <= 0) {
            throw new ModelFormatException(file + ": not an ONNX model: " + (m.graph() == null ? "it has no graph"
                    : "it has no IR version") + " (the file is corrupt, truncated, or not ONNX)");
        }
        return GraphMapper.map(PatternFusion.rewrite(InitializerAliases.resolve(m.graph())), file, baseDir,
                opset(m, file), options);
    }

    /** The default-domain opset; older than {@link #MIN_OPSET} is refused. */
    private static long opset(Model m, String file) {
        long version = -1;
        for (OpsetId id : m.opsets()) {
            if (id.domain().isEmpty() || id.domain().equals("ai.onnx")) {
                version = Math.max(version, id.version());
            }
        }
        if (version < 0) {
            throw new ModelFormatException(file + ": the model imports no standard ONNX opset (IR version "
                    + m.irVersion() + "); gpulrp reads opset " + MIN_OPSET + " and later");
        }
        if (version < MIN_OPSET) {
            throw new ModelFormatException(file + ": opset " + version + " is too old; gpulrp reads opset "
                    + MIN_OPSET + " and later (convert it with onnx.version_converter.convert_version(model, 13) or "
                    + "re-export with opset_version=13 or newer)");
        }
        return version;
    }
}
