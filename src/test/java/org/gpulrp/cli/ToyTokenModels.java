package org.gpulrp.cli;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Random;
import org.gpulrp.model.Network;
import org.gpulrp.model.TokenInput;
import picocli.CommandLine;

/**
 * Token models built in memory for the text CLI tests: a classifier and a language model over the packed token
 * input, of dense layers the engine runs today (the ids enter as numbers), for any sequence length; and the command
 * run with them in place of the ONNX importer.
 */
final class ToyTokenModels {
    static final int CLASSES = 3;

    private ToyTokenModels() {
    }

    private static float[] weights(long seed, int n, float scale) {
        Random r = new Random(seed);
        float[] w = new float[n];
        for (int i = 0; i < n; i++) {
            w[i] = (float) (r.nextGaussian() * scale);
        }
        return w;
    }

    /** A BERT-like classifier's interface: input_ids, attention_mask, token_type_ids in, CLASSES logits out. */
    static TokenModel classifier(int vocab) {
        return (file, length) -> {
            int in = 3 * length;
            return Network.builder("toy-classifier", new int[] {3, length})
                    .tokens(new TokenInput(length, List.of(TokenInput.IDS, TokenInput.MASK, TokenInput.TYPES), vocab))
                    .dense("fc1", 8, weights(1, 8 * in, 1e-3f), weights(2, 8, 0.1f)).relu("relu")
                    .dense("fc2", CLASSES, weights(3, CLASSES * 8, 0.5f), weights(4, CLASSES, 0.1f))
                    .build();
        };
    }

    /** A GPT-like language model's interface: input_ids, attention_mask in, [length, vocab] logits out. */
    static TokenModel languageModel(int vocab) {
        return (file, length) -> {
            int in = 2 * length;
            return Network.builder("toy-lm", new int[] {2, length})
                    .tokens(new TokenInput(length, List.of(TokenInput.IDS, TokenInput.MASK), vocab))
                    .dense("lm_head", length * vocab, weights(5, length * vocab * in, 1e-3f), null)
                    .build();
        };
    }

    /** The picocli factory that makes {@code explain} and {@code evaluate} load token models with {@code models}. */
    static CommandLine.IFactory factory(TokenModel models) {
        return new CommandLine.IFactory() {
            @Override
            public <K> K create(Class<K> cls) throws Exception {
                return cls == ExplainCommand.class ? cls.cast(new ExplainCommand(models))
                        : cls == EvaluateCommand.class ? cls.cast(new EvaluateCommand(models))
                        : CommandLine.defaultFactory().create(cls);
            }
        };
    }

    /** One in-process run of the command with {@code models}. */
    static CliRun run(TokenModel models, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), factory(models));
        return new CliRun(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    /**
     * {@code gpulrp} with the toy models, for the process tests: {@code toy-classifier:VOCAB} or
     * {@code toy-lm:VOCAB}, then the command's arguments.
     */
    public static void main(String[] args) {
        String[] kind = args[0].split(":");
        int vocab = Integer.parseInt(kind[1]);
        TokenModel m = kind[0].equals("toy-lm") ? languageModel(vocab) : classifier(vocab);
        String[] rest = java.util.Arrays.copyOfRange(args, 1, args.length);
        System.exit(Main.run(rest, System.out, System.err, factory(m)));
    }
}
