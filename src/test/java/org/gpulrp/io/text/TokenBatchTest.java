package org.gpulrp.io.text;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.gpulrp.InvalidInputException;
import org.gpulrp.ShapeMismatchException;
import org.gpulrp.Tensor;
import org.gpulrp.model.TokenInput;
import org.junit.jupiter.api.Test;

/** Padding texts into a batch and packing it into a token model's samples, and the token relevance taken back. */
class TokenBatchTest {
    private static final List<int[]> IDS = List.of(new int[] {2, 17, 9, 3}, new int[] {2, 5, 3}, new int[] {2, 3});
    private static final List<int[]> TYPES = List.of(new int[] {0, 0, 0, 0}, new int[] {0, 1, 1}, new int[] {0, 0});

    @Test
    void padsRightWithAMaskOverEachTextsTokens() {
        TokenBatch b = TokenBatch.pad(IDS, TYPES, TokenBatch.longest(IDS));
        assertEquals(4, b.length());
        assertArrayEquals(new int[] {2, 5, 3, TokenBatch.PAD_ID}, b.ids()[1]);
        assertArrayEquals(new int[] {1, 1, 1, 0}, b.mask()[1]);
        assertArrayEquals(new int[] {0, 1, 1, 0}, b.types()[1]);
        assertArrayEquals(new int[] {1, 1, 0, 0}, b.mask()[2]);
        assertEquals(3, b.lastReal(0));
        assertEquals(2, b.lastReal(1));
        assertEquals(1, b.lastReal(2));
        TokenBatch wider = TokenBatch.pad(IDS, TYPES, 6);
        assertArrayEquals(new int[] {1, 1, 1, 1, 0, 0}, wider.mask()[0]);
        assertThrows(ShapeMismatchException.class, () -> TokenBatch.pad(IDS, TYPES, 3));
    }

    @Test
    void packsTheBlocksInTheModelsOrder() {
        TokenBatch b = TokenBatch.pad(IDS, TYPES, 4);
        Tensor all = b.pack(new TokenInput(4, List.of(TokenInput.IDS, TokenInput.MASK, TokenInput.TYPES), 20));
        assertArrayEquals(new int[] {3, 12}, all.shape());
        assertArrayEquals(new float[] {2, 5, 3, 0, 1, 1, 1, 0, 0, 1, 1, 0}, all.row(1));
        // A decoder without token types; the mask first would be refused by TokenInput, so the ids lead.
        Tensor two = b.pack(new TokenInput(4, List.of(TokenInput.IDS, TokenInput.MASK), 20));
        assertArrayEquals(new float[] {2, 3, 0, 0, 1, 1, 0, 0}, two.row(2));
        Tensor typesSecond = b.pack(new TokenInput(4, List.of(TokenInput.IDS, TokenInput.TYPES, TokenInput.MASK),
                20));
        assertArrayEquals(new float[] {2, 5, 3, 0, 0, 1, 1, 0, 1, 1, 1, 0}, typesSecond.row(1));
        assertThrows(ShapeMismatchException.class, () -> b.pack(new TokenInput(5, List.of(TokenInput.IDS), 20)));
    }

    @Test
    void anIdOutsideTheVocabularyNamesItsSampleAndPosition() {
        TokenBatch b = TokenBatch.pad(IDS, TYPES, 4);
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> b.pack(new TokenInput(4, List.of(TokenInput.IDS), 17)));
        assertTrue(e.getMessage().contains("sample 0, position 1: token id 17"), e.getMessage());
        assertTrue(e.getMessage().contains("0..16"), e.getMessage());
    }

    @Test
    void masksMustBeZerosAndOnesWithATokenEach() {
        int[][] ids = {{1, 2}};
        int[][] types = {{0, 0}};
        assertThrows(InvalidInputException.class, () -> new TokenBatch(2, ids, new int[][] {{1, 2}}, types));
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> new TokenBatch(2, ids, new int[][] {{0, 0}}, types));
        assertTrue(e.getMessage().contains("all zeros"), e.getMessage());
        // A mask with a hole: the last real token is the last 1.
        assertEquals(2, new TokenBatch(3, new int[][] {{1, 2, 3}}, new int[][] {{1, 0, 1}}, new int[][] {{0, 0, 0}})
                .lastReal(0));
    }

    @Test
    void tokenRelevanceIsTheIdsBlockWithZerosOnPadding() {
        TokenBatch b = TokenBatch.pad(IDS, TYPES, 4);
        TokenInput layout = new TokenInput(4, List.of(TokenInput.IDS, TokenInput.MASK, TokenInput.TYPES), 20);
        float[] r = new float[3 * 12];
        for (int k = 0; k < r.length; k++) {
            r[k] = k + 1;
        }
        float[] tokens = b.tokenRelevance(new Tensor(r, new int[] {3, 12}), layout);
        assertArrayEquals(new float[] {1, 2, 3, 4, 13, 14, 15, 0, 25, 26, 0, 0}, tokens);
        assertThrows(ShapeMismatchException.class, () -> b.tokenRelevance(new Tensor(new float[24], new int[] {3,
                8}), layout));
    }
}
