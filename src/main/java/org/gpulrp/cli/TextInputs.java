package org.gpulrp.cli;

import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.gpulrp.LrpException;
import org.gpulrp.io.FormatException;
import org.gpulrp.io.Npy;
import org.gpulrp.io.text.Piece;
import org.gpulrp.io.text.TokenBatch;
import org.gpulrp.io.text.Tokenizer;

/**
 * {@code gpulrp explain} with token models: texts tokenized into a padded batch, or token ids from {@code .npy}
 * files, each text with the pieces its tokens show.
 */
final class TextInputs {
    private TextInputs() {
    }

    /**
     * A padded batch and, per sample, the pieces of its real tokens (those the mask keeps), in order.
     *
     * @param tokens the batch
     * @param pieces per sample, one piece per position whose mask is 1
     */
    record Batch(TokenBatch tokens, List<List<Piece>> pieces) {
    }

    /** Whether {@code input} is a file of texts, one per line. */
    static boolean isTextFile(Path input) {
        return input != null && String.valueOf(input.getFileName()).toLowerCase(Locale.ROOT).endsWith(".txt");
    }

    /** Whether a {@code .npy} file holds token ids: integers, one sequence or {@code [batch, seq]}. */
    static boolean looksLikeIds(Npy.Header h) {
        return (h.type().endsWith("i8") || h.type().endsWith("i4")) && h.shape().length >= 1
                && h.shape().length <= 2 && h.count() > 0;
    }

    /** The texts of {@code --input FILE.txt}: one per line, blank lines skipped. */
    static List<String> readTexts(Path file) {
        ModelOptions.requireFile(file, "--input");
        List<String> out = new ArrayList<>();
        try {
            for (String line : java.nio.file.Files.readAllLines(file, StandardCharsets.UTF_8)) {
                if (!line.isBlank()) {
                    out.add(line);
                }
            }
        } catch (java.nio.charset.MalformedInputException e) {
            throw new FormatException(file + ": not UTF-8 text");
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(file + ": " + e.getMessage(), e);
        }
        if (out.isEmpty()) {
            throw new FormatException(file + ": holds no texts (one text per line)");
        }
        return out;
    }

    /**
     * Encodes the texts and pads them to the longest; a text longer than {@code maxLength} (0: no limit) is
     * truncated, with one line on {@code err} saying so.
     */
    static Batch encode(Tokenizer tokenizer, List<String> texts, int maxLength, String limitName, PrintWriter err) {
        List<int[]> ids = new ArrayList<>();
        List<int[]> types = new ArrayList<>();
        List<List<Piece>> pieces = new ArrayList<>();
        for (int b = 0; b < texts.size(); b++) {
            Tokenizer.Encoded e = tokenizer.encode(texts.get(b), maxLength);
            if (e.truncated()) {
                err.println("gpulrp: text " + (b + 1) + " has " + e.untruncated() + " tokens; truncated to "
                        + limitName + " " + maxLength);
            }
            if (e.ids().length == 0) {
                throw new LrpException("text " + (b + 1) + " has no tokens");
            }
            ids.add(e.ids());
            types.add(e.types());
            pieces.add(e.pieces());
        }
        return new Batch(TokenBatch.pad(ids, types, TokenBatch.longest(ids)), pieces);
    }

    /**
     * Token ids from {@code .npy} ({@code [batch, seq]} or one {@code [seq]}), with the attention mask from
     * {@code maskFile} (same shape, 0 and 1) or all ones; token types 0. Sequences longer than {@code maxLength}
     * (0: no limit) lose their last columns, with one line on {@code err}. Pieces name the tokens through
     * {@code tokenizer} where there is one, else as {@code #id}.
     */
    static Batch ids(Path file, Path maskFile, Tokenizer tokenizer, int maxLength, PrintWriter err) {
        int[][] ids = intMatrix(file, "--input", "token id");
        int[][] mask;
        if (maskFile == null) {
            mask = new int[ids.length][ids[0].length];
            for (int[] m : mask) {
                Arrays.fill(m, 1);
            }
        } else {
            mask = intMatrix(maskFile, "--attention-mask", "mask value");
            if (mask.length != ids.length || mask[0].length != ids[0].length) {
                throw new FormatException(maskFile + ": shape [" + mask.length + ", " + mask[0].length + "] but the "
                        + "ids in " + file + " are [" + ids.length + ", " + ids[0].length + "]");
            }
        }
        int length = ids[0].length;
        if (maxLength > 0 && length > maxLength) {
            err.println("gpulrp: " + file + " has sequences of " + length + " tokens; truncated to --max-length "
                    + maxLength);
            length = maxLength;
            for (int b = 0; b < ids.length; b++) {
                ids[b] = Arrays.copyOf(ids[b], length);
                mask[b] = Arrays.copyOf(mask[b], length);
            }
        }
        TokenBatch batch = Failures.naming(maskFile != null ? maskFile : file,
                () -> new TokenBatch(ids[0].length, ids, mask, new int[ids.length][ids[0].length]));
        List<List<Piece>> pieces = new ArrayList<>();
        for (int b = 0; b < ids.length; b++) {
            int[] real = real(ids[b], mask[b]);
            pieces.add(tokenizer != null ? tokenizer.pieces(real) : Piece.fromTokens(real, id -> null));
        }
        return new Batch(batch, pieces);
    }

    /** The ids where the mask is 1. */
    static int[] real(int[] ids, int[] mask) {
        int n = 0;
        int[] out = new int[ids.length];
        for (int i = 0; i < ids.length; i++) {
            if (mask[i] == 1) {
                out[n++] = ids[i];
            }
        }
        return Arrays.copyOf(out, n);
    }

    /** A {@code .npy} of whole numbers >= 0 as rows; one sequence is one row. */
    private static int[][] intMatrix(Path file, String option, String what) {
        ModelOptions.requireFile(file, option);
        return Failures.naming(file, () -> {
            Npy.Array a = Npy.read(file);
            int[] s = a.shape();
            if (s.length < 1 || s.length > 2 || a.data().length == 0) {
                throw new FormatException(file + ": shape " + Arrays.toString(s) + "; expected [batch, seq] (or "
                        + "[seq])");
            }
            int rows = s.length == 1 ? 1 : s[0];
            int cols = s[s.length - 1];
            int[][] out = new int[rows][cols];
            float[] v = a.data();
            for (int b = 0; b < rows; b++) {
                for (int i = 0; i < cols; i++) {
                    float x = v[b * cols + i];
                    if (!(x >= 0) || x != Math.rint(x) || x >= (1 << 24)) {
                        throw new FormatException(file + ": element [" + b + ", " + i + "] is " + x + ", not a "
                                + what + " (a whole number >= 0)");
                    }
                    out[b][i] = (int) x;
                }
            }
            return out;
        });
    }
}
