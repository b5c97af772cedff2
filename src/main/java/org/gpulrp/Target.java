package org.gpulrp;

/**
 * Which output each sample is explained for: a fixed class index, the arg-max of each sample's output, an index per
 * sample, or for outputs that are rows (a language model's {@code [positions, vocab]} logits) one row per sample and
 * in it a fixed entry or the arg-max.
 */
public sealed interface Target permits Target.ClassIndex, Target.Argmax, Target.PerSample, Target.AtPosition {

    /** The same class for every sample. */
    static Target classIndex(int index) {
        return new ClassIndex(index);
    }

    /** Each sample's highest-scoring output (first on ties). */
    static Target argmax() {
        return new Argmax();
    }

    /** One class per sample. */
    static Target perSample(int... indices) {
        return new PerSample(indices);
    }

    /**
     * For outputs laid out as rows of {@code width} per sample ({@code [positions, width]}, as a language model's
     * {@code [sequence, vocab]} logits): sample b is explained at output {@code positions[b] * width + t}, where t
     * is {@code tokens[b]}, or where that is negative the arg-max of row {@code positions[b]} (first on ties).
     */
    static Target atPositions(int width, int[] positions, int[] tokens) {
        return new AtPosition(width, positions, tokens);
    }

    /**
     * Resolves to one class per sample, given the model outputs {@code [rows, classes]} (row-major); class-index and
     * per-sample targets ignore the outputs (they may be null) and check their indices against {@code classes}.
     */
    int[] resolve(float[] outputs, int rows, int classes);

    /** The number of samples this target is for, or -1 when it fits a batch of any size. */
    default int samples() {
        return -1;
    }

    /** This target for samples {@code offset .. offset + count - 1} of its batch (itself unless per sample). */
    default Target rows(int offset, int count) {
        return this;
    }

    record ClassIndex(int index) implements Target {
        public ClassIndex {
            InvalidArgumentException.check(index >= 0, "target", "class index must be >= 0, got " + index);
        }

        @Override
        public int[] resolve(float[] outputs, int rows, int classes) {
            InvalidArgumentException.check(index < classes, "target", "class index " + index
                    + " is out of range: the model has " + classes + " output" + (classes == 1 ? "" : "s"));
            int[] t = new int[rows];
            java.util.Arrays.fill(t, index);
            return t;
        }
    }

    record Argmax() implements Target {
        @Override
        public int[] resolve(float[] outputs, int rows, int classes) {
            int[] t = new int[rows];
            for (int b = 0; b < rows; b++) {
                int best = 0;
                for (int j = 1; j < classes; j++) {
                    if (outputs[b * classes + j] > outputs[b * classes + best]) {
                        best = j;
                    }
                }
                t[b] = best;
            }
            return t;
        }
    }

    record PerSample(int[] indices) implements Target {
        public PerSample {
            InvalidArgumentException.check(indices != null, "target", "indices must not be null");
            indices = indices.clone();
        }

        @Override
        public int[] indices() {
            return indices.clone();
        }

        @Override
        public int samples() {
            return indices.length;
        }

        @Override
        public Target rows(int offset, int count) {
            return new PerSample(java.util.Arrays.copyOfRange(indices, offset, offset + count));
        }

        @Override
        public int[] resolve(float[] outputs, int rows, int classes) {
            InvalidArgumentException.check(indices.length == rows, "target", "got " + indices.length
                    + " per-sample indices for a batch of " + rows);
            for (int b = 0; b < rows; b++) {
                InvalidArgumentException.check(indices[b] >= 0 && indices[b] < classes, "target",
                        "sample " + b + " has class index " + indices[b] + ", outside 0.." + (classes - 1));
            }
            return indices.clone();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof PerSample p && java.util.Arrays.equals(p.indices, indices);
        }

        @Override
        public int hashCode() {
            return java.util.Arrays.hashCode(indices);
        }

        @Override
        public String toString() {
            return "PerSample" + java.util.Arrays.toString(indices);
        }
    }

    /**
     * Per sample a row of the outputs and an entry in it, or the row's arg-max ({@link #atPositions}).
     *
     * @param width     outputs per row (a vocabulary), >= 1
     * @param positions the row of each sample, >= 0
     * @param tokens    the entry of each sample in its row, or a negative value for the row's arg-max
     */
    record AtPosition(int width, int[] positions, int[] tokens) implements Target {
        public AtPosition {
            InvalidArgumentException.check(width >= 1, "target", "row width must be >= 1, got " + width);
            InvalidArgumentException.check(positions != null && tokens != null && positions.length == tokens.length,
                    "target", "needs one position and one token per sample");
            positions = positions.clone();
            tokens = tokens.clone();
            for (int b = 0; b < positions.length; b++) {
                InvalidArgumentException.check(positions[b] >= 0, "target", "sample " + b + " has position "
                        + positions[b] + "; positions are >= 0");
                InvalidArgumentException.check(tokens[b] < width, "target", "sample " + b + " has token "
                        + tokens[b] + ", outside 0.." + (width - 1));
            }
        }

        @Override
        public int[] positions() {
            return positions.clone();
        }

        @Override
        public int[] tokens() {
            return tokens.clone();
        }

        @Override
        public int samples() {
            return positions.length;
        }

        @Override
        public Target rows(int offset, int count) {
            return new AtPosition(width, java.util.Arrays.copyOfRange(positions, offset, offset + count),
                    java.util.Arrays.copyOfRange(tokens, offset, offset + count));
        }

        /**
         * The output index of each sample; with {@code outputs} null (a check before any work) an arg-max entry
         * resolves to its row's first output.
         */
        @Override
        public int[] resolve(float[] outputs, int rows, int classes) {
            InvalidArgumentException.check(positions.length == rows, "target", "got " + positions.length
                    + " positions for a batch of " + rows);
            InvalidArgumentException.check(classes % width == 0, "target", "the model's " + classes + " outputs "
                    + "are not rows of " + width);
            int[] t = new int[rows];
            for (int b = 0; b < rows; b++) {
                InvalidArgumentException.check(positions[b] < classes / width, "target", "sample " + b
                        + " has position " + positions[b] + ", outside 0.." + (classes / width - 1));
                int row = b * classes + positions[b] * width;
                int best = tokens[b];
                if (best < 0) {
                    best = 0;
                    for (int j = 1; outputs != null && j < width; j++) {
                        if (outputs[row + j] > outputs[row + best]) {
                            best = j;
                        }
                    }
                }
                t[b] = positions[b] * width + best;
            }
            return t;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof AtPosition a && a.width == width && java.util.Arrays.equals(a.positions, positions)
                    && java.util.Arrays.equals(a.tokens, tokens);
        }

        @Override
        public int hashCode() {
            return 31 * (31 * width + java.util.Arrays.hashCode(positions)) + java.util.Arrays.hashCode(tokens);
        }

        @Override
        public String toString() {
            return "AtPosition[width=" + width + ", positions=" + java.util.Arrays.toString(positions) + ", tokens="
                    + java.util.Arrays.toString(tokens) + "]";
        }
    }
}
