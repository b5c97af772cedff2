package org.gpulrp.io.text;

import java.util.ArrayList;
import java.util.List;
import java.util.function.IntFunction;

/**
 * What one token shows of its text: the characters it covers, whether a space comes before it (false for a word's
 * continuation, such as WordPiece's {@code ##ing}), and whether it is a special token ({@code [CLS]}, {@code </s>}).
 *
 * @param text    the characters shown
 * @param space   whether a space separates it from the previous piece
 * @param special whether the tokenizer added it (not part of the text)
 */
public record Piece(String text, boolean space, boolean special) {
    /** WordPiece's continuation mark. */
    static final String CONTINUATION = "##";
    /** Byte-level BPE's (GPT-2) and SentencePiece's (Llama) marks of a word start. */
    static final String BPE_SPACE = "\u0120";
    static final String SENTENCEPIECE_SPACE = "\u2581";

    public Piece {
        text = text == null ? "" : text;
    }

    /**
     * Pieces for ids without their text: each token as {@code vocabulary} spells it ({@code #id} where it has no
     * entry), {@code ##x} joined to the previous piece, {@code Ġx} and {@code ▁x} a new word; a token spelled
     * {@code [..]} or {@code <..>} counts as special.
     */
    public static List<Piece> fromTokens(int[] ids, IntFunction<String> vocabulary) {
        List<Piece> out = new ArrayList<>(ids.length);
        boolean marks = usesWordStartMarks(vocabulary, ids);
        for (int i = 0; i < ids.length; i++) {
            String t = vocabulary.apply(ids[i]);
            if (t == null) {
                out.add(new Piece("#" + ids[i], true, false));
            } else if (t.length() > 2 && (t.startsWith("[") && t.endsWith("]")
                    || t.startsWith("<") && t.endsWith(">"))) {
                out.add(new Piece(t, true, true));
            } else if (t.startsWith(CONTINUATION) && t.length() > CONTINUATION.length()) {
                out.add(new Piece(t.substring(CONTINUATION.length()), i == 0, false));
            } else if (t.startsWith(BPE_SPACE) || t.startsWith(SENTENCEPIECE_SPACE)) {
                out.add(new Piece(t.substring(1), true, false));
            } else {
                boolean joins = marks && i > 0 && !out.get(i - 1).special();
                out.add(new Piece(t, !joins, false));
            }
        }
        return out;
    }

    /** Whether the tokens of {@code ids} mark word starts (so an unmarked token continues a word). */
    private static boolean usesWordStartMarks(IntFunction<String> vocabulary, int[] ids) {
        for (int id : ids) {
            String t = vocabulary.apply(id);
            if (t != null && (t.startsWith(BPE_SPACE) || t.startsWith(SENTENCEPIECE_SPACE))) {
                return true;
            }
        }
        return false;
    }
}
