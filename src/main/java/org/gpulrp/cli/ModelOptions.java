package org.gpulrp.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import org.gpulrp.LrpException;
import org.gpulrp.io.onnx.OnnxImporter;
import org.gpulrp.io.torch.Architecture;
import org.gpulrp.io.torch.StateDict;
import org.gpulrp.model.Network;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Option;
import picocli.CommandLine.TypeConversionException;

/** Where the model comes from: an ONNX file, or a PyTorch state dict bound to an architecture spec. */
final class ModelOptions {
    @Option(names = "--model", paramLabel = "FILE.onnx", required = true, converter = OnnxFile.class,
            description = "The model as ONNX (Gemm/MatMul+Add, Conv, MaxPool, AveragePool, GlobalAveragePool, "
                    + "ReduceMean, BatchNormalization, Add, Concat, Mul, Div, Split, Slice, Transpose, Pad, Relu, "
                    + "Clip, Sigmoid, HardSigmoid, HardSwish, Softmax, Flatten, Reshape, Identity, Dropout, and the "
                    + "shape computations feeding Reshape).")
    private Path model;

    @ArgGroup(exclusive = false)
    private Torch torch;

    /** {@code --weights FILE --arch SPEC}, both required together. */
    static final class Torch {
        @Option(names = "--weights", paramLabel = "FILE.pth|.safetensors", required = true,
                converter = WeightsFile.class,
                description = "A PyTorch state dict (torch.save(model.state_dict())) or a .safetensors file.")
        private Path weights;

        @Option(names = "--arch", paramLabel = "SPEC", required = true, converter = ArchConverter.class,
                description = "The layers the weights belong to, e.g. "
                        + "fc1:linear,relu,fc2:linear,relu,fc3:linear,sigmoid")
        private Architecture arch;
    }

    /** {@code --model}: refuses a PyTorch file up front with the options to use instead. */
    static final class OnnxFile implements ITypeConverter<Path> {
        @Override
        public Path convert(String v) {
            if (v.toLowerCase(Locale.ROOT).matches(".*\\.(pth|pt|safetensors)$")) {
                throw new TypeConversionException("'" + v + "' is PyTorch weights, not ONNX: use --weights " + v
                        + " --arch SPEC");
            }
            return Path.of(v);
        }
    }

    /** {@code --weights}: refuses an ONNX file up front with the option to use instead. */
    static final class WeightsFile implements ITypeConverter<Path> {
        @Override
        public Path convert(String v) {
            if (v.toLowerCase(Locale.ROOT).endsWith(".onnx")) {
                throw new TypeConversionException("'" + v + "' is an ONNX model: use --model " + v);
            }
            return Path.of(v);
        }
    }

    /** Parses {@code --arch} at parse time, so a bad spec is a usage error. */
    static final class ArchConverter implements ITypeConverter<Architecture> {
        @Override
        public Architecture convert(String v) {
            try {
                return Architecture.parse(v);
            } catch (LrpException e) {
                throw new TypeConversionException(e.getMessage());
            }
        }
    }

    /** The file the model is read from, for messages. */
    Path file() {
        return model != null ? model : torch.weights;
    }

    /** Loads the network; errors name the file. */
    Network load() {
        Path f = file();
        requireFile(f, model != null ? "--model" : "--weights");
        return Failures.naming(f, () -> model != null ? OnnxImporter.load(f) : torch.arch.bind(StateDict.read(f)));
    }

    /** Whether the model is an ONNX file (token models come only from ONNX). */
    boolean isOnnx() {
        return model != null;
    }

    /**
     * Loads the model for token sequences of {@code length} (the padded batch) with {@code loader}; errors name the
     * file. A PyTorch state dict is refused: token models come from ONNX.
     */
    Network loadTokens(int length, TokenModel loader) {
        if (model == null) {
            throw new LrpException("--weights " + torch.weights + ": token inputs need the model as ONNX (--model "
                    + "FILE.onnx)");
        }
        requireFile(model, "--model");
        return Failures.naming(model, () -> loader.load(model, length));
    }

    /** Fails with one clear line when an input file is missing or is a directory. */
    static void requireFile(Path f, String option) {
        if (!Files.exists(f)) {
            throw new LrpException(option + " " + f + ": no such file");
        }
        if (!Files.isRegularFile(f) || !Files.isReadable(f)) {
            throw new LrpException(option + " " + f + ": not a readable file");
        }
    }
}
