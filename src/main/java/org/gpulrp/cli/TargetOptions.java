package org.gpulrp.cli;

import java.nio.file.Path;
import org.gpulrp.InitialRelevance;
import org.gpulrp.Target;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * What is explained, the same in every command that explains (mixed in with {@code @Mixin}): {@code --target} and
 * {@code --init} (docs/DESIGN.md section 2.7). {@code gpulrp evaluate} also scores the perturbed inputs at this
 * target, fixed from the unperturbed input (section 2.10). Language models take {@code --position} and
 * {@code --target-token} instead ({@link TokenSamples#target}).
 */
final class TargetOptions {
    @Spec(Spec.Target.MIXEE)
    private CommandSpec mixee;

    @Option(names = "--target", paramLabel = "argmax|INDEX|FILE.npy", defaultValue = "argmax",
            description = "The class explained: each sample's arg-max (default), one class index, or a .npy file "
                    + "with one class index per sample. (Language models: --position, --target-token.)")
    private String target;

    @Option(names = "--init", paramLabel = "output|onehot|logit", converter = Converters.Init.class,
            defaultValue = "output", description = "Initial relevance: the output at the target (default), 1 at "
                    + "the target, or the logit (the model without its final sigmoid/softmax). The score evaluate "
                    + "follows is the logit with logit, else the output.")
    InitialRelevance init;

    /** Whether {@code --target} is the default, each sample's arg-max. */
    boolean isArgmax() {
        return target.strip().equalsIgnoreCase("argmax");
    }

    /** The fixed target, or null when {@code --target} names a file (read by {@link #forRows} once sizes are known). */
    Target fixed() {
        String v = target.strip();
        if (isArgmax()) {
            return Target.argmax();
        }
        if (v.matches("[+-]?\\d+")) {
            int k;
            try {
                k = Integer.parseInt(v);
            } catch (NumberFormatException x) {
                k = -1;
            }
            if (k < 0) {
                throw new ParameterException(mixee.commandLine(), "--target " + v + ": a class index must be "
                        + "between 0 and the number of outputs - 1");
            }
            return Target.classIndex(k);
        }
        if (DataFiles.format(Path.of(v)) != DataFiles.Format.NPY) {
            throw new ParameterException(mixee.commandLine(), "--target '" + v + "': expected argmax, a class index "
                    + "or a .npy file with one class index per sample");
        }
        return null;
    }

    /** The target of a batch of {@code rows} samples: the fixed one, or one per sample from the file. */
    Target forRows(int rows) {
        Target t = fixed();
        return t != null ? t : DataFiles.targets(Path.of(target.strip()), rows);
    }
}
