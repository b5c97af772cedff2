package org.gpulrp.cli;

import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine.Option;

/** {@code gpulrp explain}'s options for token models: texts or token ids in, token relevance out. */
final class TextOptions {
    @Option(names = "--tokenizer", paramLabel = "tokenizer.json",
            description = "The model's HuggingFace tokenizer.json: tokenizes --text or --input TEXTS.txt, and names "
                    + "the tokens of --input IDS.npy.")
    Path tokenizer;

    @Option(names = "--text", paramLabel = "TEXT",
            description = "A text to explain (repeatable; a tab splits it into a pair of texts). Needs --tokenizer.")
    List<String> texts;

    @Option(names = "--max-length", paramLabel = "N", converter = Converters.Positive.class,
            description = "Truncate longer token sequences to N tokens, with a notice (default: the tokenizer's own "
                    + "truncation length, if any). The batch is padded to its longest sequence.")
    Integer maxLength;

    @Option(names = "--attention-mask", paramLabel = "MASK.npy",
            description = "With --input IDS.npy: the attention mask, [batch, seq] of 0 and 1 (default: all ones).")
    Path attentionMask;

    @Option(names = "--position", paramLabel = "N",
            description = "Language models: explain the next-token logit at position N (from 0; negative counts "
                    + "from the end of each text, -1 its last token, the default).")
    Integer position;

    @Option(names = "--target-token", paramLabel = "ID|TEXT",
            description = "Language models: the token whose logit is explained, as an id or a text of exactly one "
                    + "token (default: the predicted one, the arg-max at the position).")
    String targetToken;

    @Option(names = "--labels", paramLabel = "FILE.txt",
            description = "Classifiers: the class names, one per line, shown with the explained class.")
    Path labels;

    @Option(names = "--html", paramLabel = "FILE.html",
            description = "Write a page showing each text with its tokens coloured by relevance.")
    Path html;

    /** The first text-only option given, or null. */
    String firstGiven() {
        if (tokenizer != null) {
            return "--tokenizer";
        }
        if (texts != null) {
            return "--text";
        }
        if (maxLength != null) {
            return "--max-length";
        }
        if (attentionMask != null) {
            return "--attention-mask";
        }
        if (position != null) {
            return "--position";
        }
        if (targetToken != null) {
            return "--target-token";
        }
        if (labels != null) {
            return "--labels";
        }
        return html != null ? "--html" : null;
    }
}
