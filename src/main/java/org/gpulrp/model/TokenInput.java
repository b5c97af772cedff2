package org.gpulrp.model;

import java.util.List;
import org.gpulrp.InvalidArgumentException;

/**
 * How a token model's samples are laid out: the ONNX inputs ({@code input_ids}, then {@code attention_mask} and
 * {@code token_type_ids} where the model has them) packed one after another into one float sample of
 * {@code blocks.size() x length} values, ids as exact floats. The network's input relevance has the same layout: the
 * first block is the token relevance; the token-type block holds the token-type embeddings' share; the mask block
 * gets none. docs/DESIGN.md section 2.9.
 *
 * @param length  the sequence length the network was built for (the padded length)
 * @param blocks  the packed inputs in order, each one of {@link #IDS}, {@link #MASK}, {@link #TYPES}; the first is
 *                {@link #IDS}
 * @param vocab   the word embedding's rows (ids must be below it)
 */
public record TokenInput(int length, List<String> blocks, int vocab) {
    public static final String IDS = "input_ids";
    public static final String MASK = "attention_mask";
    public static final String TYPES = "token_type_ids";

    public TokenInput {
        InvalidArgumentException.check(length >= 1, "length", "must be >= 1, got " + length);
        blocks = List.copyOf(blocks);
        InvalidArgumentException.check(!blocks.isEmpty() && blocks.get(0).equals(IDS), "blocks", "must start with "
                + IDS + ", got " + blocks);
        for (String b : blocks) {
            InvalidArgumentException.check(b.equals(IDS) || b.equals(MASK) || b.equals(TYPES), "blocks",
                    "unknown block '" + b + "'");
        }
        InvalidArgumentException.check(blocks.stream().distinct().count() == blocks.size(), "blocks",
                "has a block twice: " + blocks);
        InvalidArgumentException.check(vocab >= 1, "vocab", "must be >= 1, got " + vocab);
    }

    /** Where a block starts in the packed sample, or -1 when the model has no such input. */
    public int offset(String block) {
        int i = blocks.indexOf(block);
        return i < 0 ? -1 : i * length;
    }

    /** Values per packed sample. */
    public int sampleSize() {
        return blocks.size() * length;
    }
}
