package org.gpulrp.model;

import java.util.Arrays;
import org.gpulrp.InvalidArgumentException;
import org.gpulrp.ShapeMismatchException;

/**
 * A table lookup (PyTorch {@code nn.Embedding}, ONNX {@code Gather} from a 2-D initializer): each of the
 * {@code positions} input features is a token id (an integer stored as a float, exact below 2^24) and becomes its
 * row of the table, {@code [positions] -> [positions, hidden]}. Relevance stops here: an id's relevance is the sum
 * over the hidden dimension of the relevance at its row (docs/DESIGN.md section 2.9). An id outside
 * {@code 0 .. vocab - 1} or not an integer is an input error naming the sample and position.
 */
public final class Embedding implements Layer {
    private final int positions;
    private final int vocab;
    private final int hidden;
    private final float[] table;

    /**
     * @param positions ids per sample, >= 1
     * @param vocab     rows of the table, >= 1 and < 2^24
     * @param hidden    values per row, >= 1
     * @param table     {@code [vocab, hidden]} row-major; copied
     */
    public Embedding(int positions, int vocab, int hidden, float[] table) {
        InvalidArgumentException.check(positions >= 1 && hidden >= 1, "embedding", "needs positions >= 1 and "
                + "hidden >= 1, got " + positions + " x " + hidden);
        InvalidArgumentException.check(vocab >= 1 && vocab < (1 << 24), "vocab", "must be in 1 .. 2^24 - 1 (ids "
                + "travel as exact floats), got " + vocab);
        if (table == null || table.length != (long) vocab * hidden) {
            throw new ShapeMismatchException("embedding table [vocab, hidden]", vocab + " x " + hidden + " values",
                    table == null ? "null" : table.length + " values");
        }
        for (int i = 0; i < table.length; i++) {
            if (!Float.isFinite(table[i])) {   // the message only on failure: a table can be large
                throw new InvalidArgumentException("table", "entry " + i + " is " + table[i]);
            }
        }
        this.positions = positions;
        this.vocab = vocab;
        this.hidden = hidden;
        this.table = table.clone();
    }

    public int positions() {
        return positions;
    }

    public int vocab() {
        return vocab;
    }

    public int hidden() {
        return hidden;
    }

    /** A copy of the table, {@code [vocab, hidden]} row-major. */
    public float[] table() {
        return table.clone();
    }

    @Override
    public LayerKind kind() {
        return LayerKind.EMBEDDING;
    }

    @Override
    public int outputSize(int inputSize) {
        if (inputSize != positions) {
            throw new ShapeMismatchException("embedding input", positions + " ids", inputSize + " features");
        }
        return Math.toIntExact((long) positions * hidden);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Embedding e && e.positions == positions && e.vocab == vocab && e.hidden == hidden
                && Arrays.equals(e.table, table);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(table);
    }

    @Override
    public String toString() {
        return "Embedding(" + positions + " ids, " + vocab + " x " + hidden + ")";
    }
}
