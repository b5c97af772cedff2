package org.gpulrp.io.text;

import java.util.Arrays;
import java.util.List;
import org.gpulrp.InvalidArgumentException;
import org.gpulrp.InvalidInputException;
import org.gpulrp.ShapeMismatchException;
import org.gpulrp.Tensor;
import org.gpulrp.model.TokenInput;

/**
 * A batch of token sequences right-padded to one length: ids, attention mask (1 on a text's tokens, 0 on padding)
 * and token type ids, each {@code [batch][length]}; packed into the samples a token model takes
 * ({@link TokenInput}: the blocks one after another, ids as exact floats), and the token relevance taken back out.
 *
 * @param length the padded length
 * @param ids    token ids, {@link #PAD_ID} on padding
 * @param mask   1 where a text has a token, 0 on padding
 * @param types  token type ids, 0 on padding
 */
public record TokenBatch(int length, int[][] ids, int[][] mask, int[][] types) {
    /** The id on padded positions (masked, so any id the model knows does; 0 always is one). */
    public static final int PAD_ID = 0;

    public TokenBatch {
        InvalidArgumentException.check(length >= 1, "length", "must be >= 1, got " + length);
        InvalidArgumentException.check(ids.length >= 1 && mask.length == ids.length && types.length == ids.length,
                "batch", "needs ids, mask and types for the same samples, at least one");
        for (int b = 0; b < ids.length; b++) {
            if (ids[b].length != length || mask[b].length != length || types[b].length != length) {
                throw new ShapeMismatchException("token batch sample " + b, length + " ids, mask values and types",
                        ids[b].length + ", " + mask[b].length + ", " + types[b].length);
            }
            for (int i = 0; i < length; i++) {
                if (mask[b][i] != 0 && mask[b][i] != 1) {
                    throw new InvalidInputException("sample " + b + ", position " + i + ": attention mask value "
                            + mask[b][i] + " is neither 0 nor 1", b, i);
                }
            }
            if (lastReal(mask[b]) < 0) {
                throw new InvalidInputException("sample " + b + ": the attention mask is all zeros (no token to "
                        + "explain)", b, 0);
            }
        }
    }

    /**
     * Encoded texts right-padded to {@code length} (at least the longest of them): ids with {@link #PAD_ID}, mask 1
     * on each text's tokens, token types as encoded.
     */
    public static TokenBatch pad(List<int[]> ids, List<int[]> types, int length) {
        int n = ids.size();
        InvalidArgumentException.check(types.size() == n, "types", "one per text");
        int[][] id = new int[n][length];
        int[][] mask = new int[n][length];
        int[][] type = new int[n][length];
        for (int b = 0; b < n; b++) {
            int[] t = ids.get(b);
            if (t.length > length) {
                throw new ShapeMismatchException("text " + b, "at most " + length + " tokens", t.length + " tokens");
            }
            Arrays.fill(id[b], PAD_ID);
            System.arraycopy(t, 0, id[b], 0, t.length);
            Arrays.fill(mask[b], 0, t.length, 1);
            System.arraycopy(types.get(b), 0, type[b], 0, t.length);
        }
        return new TokenBatch(length, id, mask, type);
    }

    /** The longest of {@code ids}, at least 1. */
    public static int longest(List<int[]> ids) {
        return Math.max(1, ids.stream().mapToInt(a -> a.length).max().orElse(1));
    }

    public int size() {
        return ids.length;
    }

    /** The last position of sample b where the mask is 1 (its last real token). */
    public int lastReal(int b) {
        return lastReal(mask[b]);
    }

    private static int lastReal(int[] mask) {
        for (int i = mask.length - 1; i >= 0; i--) {
            if (mask[i] == 1) {
                return i;
            }
        }
        return -1;
    }

    /**
     * The samples for a token model built for this length: its blocks ({@code input_ids}, {@code attention_mask},
     * {@code token_type_ids}, in its order) one after another, {@code [batch, blocks * length]}. An id outside the
     * model's vocabulary is an {@link InvalidInputException} naming the sample and position.
     */
    public Tensor pack(TokenInput layout) {
        if (layout.length() != length) {
            throw new ShapeMismatchException("token model sequence length", length + " (the padded batch)",
                    String.valueOf(layout.length()));
        }
        int per = layout.sampleSize();
        float[] data = new float[Math.multiplyExact(ids.length, per)];
        for (int b = 0; b < ids.length; b++) {
            for (int i = 0; i < length; i++) {
                if (ids[b][i] < 0 || ids[b][i] >= layout.vocab()) {
                    throw new InvalidInputException("sample " + b + ", position " + i + ": token id " + ids[b][i]
                            + " is outside the model's vocabulary (0.." + (layout.vocab() - 1) + ")", b, i);
                }
            }
            put(data, b * per, layout.offset(TokenInput.IDS), ids[b]);
            put(data, b * per, layout.offset(TokenInput.MASK), mask[b]);
            put(data, b * per, layout.offset(TokenInput.TYPES), types[b]);
        }
        return new Tensor(data, new int[] {ids.length, per});
    }

    /** Writes a block at {@code offset} of the sample starting at {@code sample}; nothing where the model lacks it. */
    private void put(float[] data, int sample, int offset, int[] values) {
        if (offset < 0) {
            return;
        }
        for (int i = 0; i < length; i++) {
            data[sample + offset + i] = values[i];
        }
    }

    /**
     * The token relevance, {@code [batch * length]} row-major: the first block ({@code input_ids}) of each sample's
     * input relevance, 0 on padding.
     */
    public float[] tokenRelevance(Tensor relevance, TokenInput layout) {
        int per = layout.sampleSize();
        if (relevance.rows() != ids.length || relevance.rowSize() != per) {
            throw new ShapeMismatchException("input relevance", ids.length + " x " + per, relevance.rows() + " x "
                    + relevance.rowSize());
        }
        float[] out = new float[ids.length * length];
        for (int b = 0; b < ids.length; b++) {
            float[] row = relevance.row(b);
            int at = layout.offset(TokenInput.IDS);
            for (int i = 0; i < length; i++) {
                out[b * length + i] = mask[b][i] == 1 ? row[at + i] : 0f;
            }
        }
        return out;
    }
}
