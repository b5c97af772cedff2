package org.gpulrp.cli;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.gpulrp.LrpException;
import org.gpulrp.Target;
import org.gpulrp.io.Npy;
import org.gpulrp.io.text.TokenBatch;
import org.gpulrp.io.text.Tokenizer;
import org.gpulrp.model.Network;
import org.gpulrp.model.TokenInput;
import picocli.CommandLine;
import picocli.CommandLine.ParameterException;

/**
 * The token samples of a command that explains ({@code gpulrp explain} and {@code gpulrp evaluate} alike), from its
 * {@link TextOptions}: texts ({@code --text}, {@code --input TEXTS.txt}) tokenized with {@code --tokenizer} into a
 * padded batch, or token ids ({@code --input IDS.npy}, {@code --attention-mask}); the model loaded for the padded
 * length; the target, a class ({@code --target}) for classifiers and the next token at a position
 * ({@code --position}, {@code --target-token}) for language models (docs/DESIGN.md section 2.9). Holds the tokenizer,
 * closed with it.
 */
final class TokenSamples implements AutoCloseable {
    /** The tokenizer, or null for ids without {@code --tokenizer}. */
    final Tokenizer tokenizer;
    /** The padded batch and each sample's pieces. */
    final TextInputs.Batch in;
    /** The model for the batch's padded length. */
    final Network network;
    /** Whether the samples are texts (else token ids). */
    final boolean texts;

    private final CommandLine cl;
    private final TextOptions o;

    private TokenSamples(CommandLine cl, TextOptions o, Tokenizer tokenizer, TextInputs.Batch in, Network network,
                         boolean texts) {
        this.cl = cl;
        this.o = o;
        this.tokenizer = tokenizer;
        this.in = in;
        this.network = network;
        this.texts = texts;
    }

    /** Whether the command's inputs are texts, or a text option asks for a token model. */
    static boolean wanted(TextOptions o, Path input) {
        return o.firstGiven() != null || TextInputs.isTextFile(input);
    }

    /**
     * With an ONNX model and a {@code .npy} input of integers ({@code [batch, seq]}): the model loaded for that
     * sequence length, which is a token model or, where its {@code tokens()} is null, an ordinary one taking those
     * numbers as features; null for every other input.
     */
    static Network idsModel(ModelOptions model, Path input, TokenModel models) {
        if (model.isOnnx() && input != null && DataFiles.format(input) == DataFiles.Format.NPY
                && Files.isRegularFile(input)) {
            Npy.Header h = Failures.naming(input, () -> Npy.header(input));
            if (TextInputs.looksLikeIds(h)) {
                return model.loadTokens(h.shape()[h.shape().length - 1], models);
            }
        }
        return null;
    }

    /**
     * Reads the samples and loads the model for their padded length ({@code preloaded} where it is a token model of
     * that length already). Usage errors are one line naming the options.
     */
    static TokenSamples load(CommandLine cl, TextOptions o, Path input, ModelOptions model, TokenModel models,
                             Network preloaded, PrintWriter err) {
        boolean texts = check(cl, o, input);
        Tokenizer tokenizer = o.tokenizer == null ? null : loadTokenizer(o.tokenizer);
        try {
            int limit = o.maxLength != null ? o.maxLength : tokenizer != null ? tokenizer.truncation() : 0;
            String limitName = o.maxLength != null ? "--max-length" : "the tokenizer's max_length";
            TextInputs.Batch in = texts
                    ? TextInputs.encode(tokenizer, o.texts != null ? o.texts : TextInputs.readTexts(input), limit,
                            limitName, err)
                    : TextInputs.ids(input, o.attentionMask, tokenizer, o.maxLength != null ? o.maxLength : 0, err);
            TokenBatch batch = in.tokens();
            Network net = preloaded != null && preloaded.tokens() != null
                    && preloaded.tokens().length() == batch.length() ? preloaded
                    : model.loadTokens(batch.length(), models);
            TokenSamples s = new TokenSamples(cl, o, tokenizer, in, net, texts);
            s.checkLayout(model.file());
            s.checkVocabulary();
            return s;
        } catch (RuntimeException x) {
            if (tokenizer != null) {
                tokenizer.close();
            }
            throw x;
        }
    }

    /** The usage checks of the text options; returns whether the samples are texts (else token ids). */
    static boolean check(CommandLine cl, TextOptions o, Path input) {
        boolean texts = o.texts != null || TextInputs.isTextFile(input);
        if (o.texts != null && input != null) {
            throw new ParameterException(cl, "give --text or --input, not both");
        }
        if (texts && o.tokenizer == null) {
            throw new ParameterException(cl, (o.texts != null ? "--text" : "--input " + input) + " needs --tokenizer "
                    + "tokenizer.json (the model's tokenizer)");
        }
        if (texts && o.attentionMask != null) {
            throw new ParameterException(cl, "--attention-mask goes with --input IDS.npy; texts get their mask from "
                    + "the tokenizer");
        }
        if (!texts && (input == null || DataFiles.format(input) != DataFiles.Format.NPY)) {
            throw new ParameterException(cl, "token models take --text, --input TEXTS.txt (one text per line) or "
                    + "--input IDS.npy, not " + input);
        }
        return texts;
    }

    private static Tokenizer loadTokenizer(Path file) {
        ModelOptions.requireFile(file, "--tokenizer");
        return Failures.naming(file, () -> Tokenizer.load(file));
    }

    /** The model's token layout. */
    TokenInput layout() {
        return network.tokens();
    }

    /** Whether the model is a language model: an output of {@code [seq, vocab]}. */
    boolean languageModel() {
        return network.outputSize() == (long) in.tokens().length() * layout().vocab();
    }

    /** A float model given texts or a tokenizer is an error naming the options, as is one of another length. */
    private void checkLayout(Path modelFile) {
        TokenInput t = network.tokens();
        int length = in.tokens().length();
        if (t == null) {
            String given = o.firstGiven();
            throw new LrpException("--model " + modelFile + ": not a token model (it takes float inputs "
                    + Arrays.toString(network.inputShape()) + ")" + (given != null ? "; " + given
                    + " needs a model whose inputs are input_ids[, attention_mask, token_type_ids]" : ""));
        }
        if (t.length() != length) {
            throw new LrpException("--model " + modelFile + ": built for sequences of " + t.length()
                    + " tokens, but the batch is padded to " + length + (length > t.length() ? "; use --max-length "
                    + t.length() : ""));
        }
    }

    /** Every id must be a row of the model's embedding; the error names the text, the position and the token. */
    private void checkVocabulary() {
        TokenBatch batch = in.tokens();
        int vocab = layout().vocab();
        for (int b = 0; b < batch.size(); b++) {
            for (int i = 0; i < batch.length(); i++) {
                int id = batch.ids()[b][i];
                if (id >= vocab) {
                    String token = tokenizer == null ? null : tokenizer.token(id);
                    throw new LrpException("text " + (b + 1) + ", position " + i + ": token id " + id
                            + (token != null ? " ('" + token + "')" : "") + " is outside the model's vocabulary (0.."
                            + (vocab - 1) + ")" + (tokenizer != null ? "; is " + o.tokenizer
                            + " the model's tokenizer?" : ""));
                }
            }
        }
    }

    /**
     * The target: for classifiers {@code --target}; for language models, per text, the position (its last real
     * token, or {@code --position}) and the token (the arg-max, or {@code --target-token}).
     */
    Target target(TargetOptions t) {
        TokenBatch batch = in.tokens();
        if (!languageModel()) {
            if (o.position != null || o.targetToken != null) {
                throw new ParameterException(cl, (o.position != null ? "--position" : "--target-token") + " is for "
                        + "language models (an output of [seq, vocab]); this model is a classifier: use --target");
            }
            return t.forRows(batch.size());
        }
        if (!t.isArgmax()) {
            throw new ParameterException(cl, "--target is for classifiers; this model is a language model (an output "
                    + "of [seq, vocab]): use --position and --target-token");
        }
        int vocab = layout().vocab();
        int token = o.targetToken == null ? -1 : targetToken(vocab);
        int[] positions = new int[batch.size()];
        int[] tokens = new int[batch.size()];
        for (int b = 0; b < batch.size(); b++) {
            int last = batch.lastReal(b);
            int p = o.position == null ? last : o.position >= 0 ? o.position : last + 1 + o.position;
            if (p < 0 || p > last) {
                throw new LrpException("--position " + o.position + ": text " + (b + 1) + " has " + (last + 1)
                        + " tokens (positions 0.." + last + ", or -1..-" + (last + 1) + " from its end)");
            }
            positions[b] = p;
            tokens[b] = token;
        }
        return Target.atPositions(vocab, positions, tokens);
    }

    /** {@code --target-token}: an id below the vocabulary, or a text that is exactly one token. */
    private int targetToken(int vocab) {
        String v = o.targetToken;
        if (v.strip().matches("\\d+")) {
            int id;
            try {
                id = Integer.parseInt(v.strip());
            } catch (NumberFormatException x) {
                id = Integer.MAX_VALUE;
            }
            if (id >= vocab) {
                throw new ParameterException(cl, "--target-token " + v + ": outside the model's vocabulary (0.."
                        + (vocab - 1) + ")");
            }
            return id;
        }
        if (tokenizer == null) {
            throw new ParameterException(cl, "--target-token '" + v + "' is a text: add --tokenizer to turn it into "
                    + "an id, or give the id");
        }
        int[] ids = tokenizer.idsOf(v);
        if (ids.length != 1) {
            List<String> toks = new ArrayList<>();
            for (int id : ids) {
                toks.add(String.valueOf(tokenizer.token(id)));
            }
            throw new ParameterException(cl, "--target-token '" + v + "' is " + ids.length + " tokens " + toks
                    + ", not one; give a single token or its id");
        }
        if (ids[0] >= vocab) {
            throw new ParameterException(cl, "--target-token '" + v + "' is id " + ids[0] + ", outside the model's "
                    + "vocabulary (0.." + (vocab - 1) + ")");
        }
        return ids[0];
    }

    @Override
    public void close() {
        if (tokenizer != null) {
            tokenizer.close();
        }
    }
}
