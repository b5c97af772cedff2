package org.gpulrp.cli;

import org.gpulrp.Tensor;
import org.gpulrp.Target;
import org.gpulrp.eval.ZeroEmbedding;
import org.gpulrp.io.image.Images;
import org.gpulrp.io.image.Preprocess;
import org.gpulrp.model.Network;

/**
 * The model, samples and target of {@code gpulrp evaluate}: a data file (.npy, .csv), images, or a token model's
 * texts or ids, read by {@link TokenSamples} as {@code gpulrp explain} reads them (then the model with the zero row
 * of {@link ZeroEmbedding}, which explains and scores the ids unchanged).
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
        cmd.targets.fixed(); // a bad --target is a usage error before anything loads
        Network ids = images || TokenSamples.wanted(cmd.text, cmd.input) ? null
                : TokenSamples.idsModel(cmd.model, cmd.input, cmd.tokenModels);
        if (TokenSamples.wanted(cmd.text, cmd.input) || ids != null && ids.tokens() != null) {
            return tokens(ids);
        }
        Network net = ids != null ? ids : cmd.model.load();
        Tensor x;
        if (images) {
            Images.Batch b = Images.read(ImageInputs.list(cmd.input, false, false), preprocess);
            ImageInputs.check(b, preprocess, net.inputShape());
            x = b.tensor();
        } else {
            x = shaped(DataFiles.read(cmd.input, net.inputSize()).tensor(), net);
        }
        return new Loaded(net, x, cmd.targets.forRows(x.rows()));
    }

    /** Texts or token ids, as {@code gpulrp explain} reads them; {@code preloaded} the model loaded for the ids. */
    private Loaded tokens(Network preloaded) {
        String image = cmd.image.firstNonTextOption();
        if (image != null) {
            throw new picocli.CommandLine.ParameterException(cmd.spec.commandLine(), image + " is an image option, "
                    + "not one for token inputs");
        }
        try (TokenSamples s = TokenSamples.load(cmd.spec.commandLine(), cmd.text, cmd.input, cmd.model,
                cmd.tokenModels, preloaded, cmd.spec.commandLine().getErr())) {
            Target t = s.target(cmd.targets);
            Network prepared = ZeroEmbedding.prepare(s.network);
            return new Loaded(prepared, s.in.tokens().pack(prepared.tokens()), t);
        }
    }

    /** Tensors with the batch's first dimension and the model's sample shape. */
    static Tensor shaped(Tensor t, Network net) {
        int[] s = net.inputShape();
        int[] shape = new int[s.length + 1];
        shape[0] = t.rows();
        System.arraycopy(s, 0, shape, 1, s.length);
        return java.util.Arrays.equals(shape, t.shape()) ? t : new Tensor(t.toArray(), shape);
    }
}
