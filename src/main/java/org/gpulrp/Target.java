package org.gpulrp;

/**
 * Which output each sample is explained for: a fixed class index, the arg-max of each sample's output, or an index
 * per sample.
 */
public sealed interface Target permits Target.ClassIndex, Target.Argmax, Target.PerSample {

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
     * Resolves to one class per sample, given the model outputs {@code [rows, classes]} (row-major); class-index and
     * per-sample targets ignore the outputs (they may be null) and check their indices against {@code classes}.
     */
    int[] resolve(float[] outputs, int rows, int classes);

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
}
