package org.gpulrp.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import org.gpulrp.Target;
import org.gpulrp.Tensor;
import org.gpulrp.eval.ZeroEmbedding;
import org.gpulrp.io.Npy;
import org.gpulrp.io.image.Images;
import org.gpulrp.io.image.Preprocess;
import org.gpulrp.io.text.TokenBatch;
import org.gpulrp.model.Network;

/**
 * The model, samples and target of {@code gpulrp evaluate}: a data file (.npy, .csv), images, or a token model's ids
 * (then the model with the zero row of {@link ZeroEmbedding}, which explains and scores the ids unchanged).
 */
final class EvaluationInputs {
    private final EvaluateCommand cmd;

    EvaluationInputs(EvaluateCommand cmd) {
        this.cmd = cmd;
    }

    /** The loaded model, the samples in its input shape, and the target. */
    record Loaded(Network network, Tensor tensor, Target target) {
    }

    Loaded load(boolean images, Preprocess preprocess) {
        Target fixed = cmd.parseTarget();
        if (!images && cmd.model.isOnnx() && DataFiles.format(cmd.input) == DataFiles.Format.NPY
                && Files.isRegularFile(cmd.input)) {
            Npy.Header h = Failures.naming(cmd.input, () -> Npy.header(cmd.input));
            if (TextInputs.looksLikeIds(h)) {
                TokenBatch batch = TextInputs.ids(cmd.input, cmd.attentionMask, null, 0,
                        cmd.spec.commandLine().getErr()).tokens();
                Network net = cmd.model.loadTokens(batch.length(), TokenModel.ONNX);
                if (net.tokens() != null) {
                    Network prepared = ZeroEmbedding.prepare(net);
                    Tensor packed = batch.pack(prepared.tokens());
                    return new Loaded(prepared, packed, target(fixed, packed.rows()));
                }
                return new Loaded(net, EvaluateCommand.shaped(DataFiles.read(cmd.input, net.inputSize()).tensor(),
                        net), target(fixed, batchRows(h)));
            }
        }
        if (cmd.attentionMask != null) {
            throw new picocli.CommandLine.ParameterException(cmd.spec.commandLine(), "--attention-mask goes with a "
                    + "token model's ids (--input IDS.npy)");
        }
        Network net = cmd.model.load();
        Tensor x;
        if (images) {
            Images.Batch b = cmd.images(preprocess);
            ImageInputs.check(b, preprocess, net.inputShape());
            x = b.tensor();
        } else {
            x = EvaluateCommand.shaped(DataFiles.read(cmd.input, net.inputSize()).tensor(), net);
        }
        return new Loaded(net, x, target(fixed, x.rows()));
    }

    private static int batchRows(Npy.Header h) {
        return h.shape().length == 0 ? 1 : h.shape()[0];
    }

    private Target target(Target fixed, int rows) {
        return fixed != null ? fixed : DataFiles.targets(Path.of(cmd.target), rows);
    }
}
