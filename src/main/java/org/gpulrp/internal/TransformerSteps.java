package org.gpulrp.internal;

import org.gpulrp.backend.Buffer;
import org.gpulrp.InvalidInputException;
import org.gpulrp.composite.Attention;
import org.gpulrp.model.Embedding;
import org.gpulrp.model.Index;
import org.gpulrp.model.LayerNorm;
import org.gpulrp.model.MatMul;
import org.gpulrp.model.Softmax;
import org.gpulrp.model.Layer;

/**
 * The {@link NodeStep}s of the transformer layers (docs/DESIGN.md section 2.9): layer and RMS normalization, row
 * softmax, matrix products of two activations, gathers, constant offsets and embedding lookups. Each runs its
 * arithmetic on the host in Java on every backend (or as copies of runs), so all paths share their bits.
 */
final class TransformerSteps {
    private TransformerSteps() {
    }

    /**
     * Layer or RMS normalization per position ({@link HostLayerNorm}), on the host on every backend; relevance by
     * the epsilon rule with the normalizer held constant, whatever rule the composite names.
     */
    static final class Normalize implements NodeStep {
        private final HostLayerNorm norm;
        private final float eps;

        Normalize(LayerNorm layer, float eps) {
            this.norm = new HostLayerNorm(layer);
            this.eps = eps;
        }

        @Override
        public void forward(Flow f, int k, int rows) {
            float[] x = f.read(f.input(k, 0), rows * f.plan.width(k + 1));
            norm.forward(x, x, rows);
            f.be.write(f.output(k), x, 0, x.length);
        }

        @Override
        public void backward(Flow f, int k, int rows) {
            int count = rows * f.plan.width(k + 1);
            float[] x = f.read(f.input(k, 0), count);
            float[] r = f.read(f.outputRelevance(k), count);
            double[] share = f.health() == null ? null : new double[rows];
            norm.relevance(x, r, r, rows, eps, share);
            if (share != null) {
                Health.add(f.health().stabilizer[k], share, f.row0());
            }
            f.be.write(f.sendTo(k, 0), r, 0, count);
            f.sent(k, 0, rows);
        }
    }

    /**
     * Softmax over each run of {@code length} features (attention weights over the keys), on the host on every
     * backend. Relevance by {@link Attention}: AttnLRP's input times gradient, {@code R_x = x (R - s sum R)} per row
     * (the sum in double, ascending; each value rounded once), or none (CP-LRP: the weights are constants).
     */
    static final class RowSoftmax implements NodeStep {
        private final int length;
        private final Attention mode;

        RowSoftmax(int length, Attention mode) {
            this.length = length;
            this.mode = mode;
        }

        @Override
        public boolean passesNothingTo(int input) {
            return mode == Attention.CP_LRP;
        }

        @Override
        public void forward(Flow f, int k, int rows) {
            int count = rows * f.plan.width(k + 1);
            float[] h = f.read(f.input(k, 0), count);
            int rowsAll = count / length;
            int per = HostMath.SOFTMAX_ROWS;
            HostParallel.forEach((rowsAll + per - 1) / per, 8L * per * length, q -> HostMath.softmaxRows(h, h, q * per,
                    Math.min(rowsAll, (q + 1) * per), length, HostMath.work(per * VectorExp.padded(length))));
            f.be.write(f.output(k), h, 0, count);
        }

        @Override
        public void backward(Flow f, int k, int rows) {
            if (mode == Attention.CP_LRP) {
                f.sentNothing(k, 0, rows);
                return;
            }
            int count = rows * f.plan.width(k + 1);
            float[] x = f.read(f.input(k, 0), count);
            float[] s = f.read(f.output(k), count);
            float[] r = f.read(f.outputRelevance(k), count);
            // Rows two at a time: their sums (each one chain in ascending order) run side by side.
            int rowsAll = count / length;
            HostParallel.forEach((rowsAll + 1) / 2, 4L * length, q -> {
                int o = 2 * q * length;
                boolean pair = 2 * q + 1 < rowsAll;
                double sum = 0;
                double sum2 = 0;
                for (int j = 0; j < length; j++) {
                    sum += r[o + j];
                    sum2 += pair ? r[o + length + j] : 0;
                }
                for (int i = 0; i < length; i++) {
                    r[o + i] = (float) (x[o + i] * (r[o + i] - s[o + i] * sum));
                }
                for (int i = pair ? length : 2 * length; i < 2 * length; i++) {
                    r[o + i] = (float) (x[o + i] * (r[o + i] - s[o + i] * sum2));
                }
            });
            f.be.write(f.sendTo(k, 0), r, 0, count);
            f.sent(k, 0, rows);
        }
    }

    /**
     * A product of two activations per sample, {@code a [batch, m, k] b [batch, k, n]} ({@link HostMatMul}), on the
     * host on every backend. Relevance: the epsilon rule on the products, then {@code wa} of each product's share to
     * {@code a} and {@code wb} to {@code b}: 1/2 each (AttnLRP's uniform rule), or under CP-LRP 0 to an operand that
     * is attention weights and 1 to the other (1/2 each when neither or both are).
     */
    static final class MatrixProduct implements NodeStep {
        private final MatMul shape;
        private final double wa;
        private final double wb;
        private final float eps;

        MatrixProduct(MatMul shape, Attention mode, boolean[] attentionInputs, float eps) {
            this.shape = shape;
            this.eps = eps;
            boolean constantA = mode == Attention.CP_LRP && attentionInputs[0] && !attentionInputs[1];
            boolean constantB = mode == Attention.CP_LRP && attentionInputs[1] && !attentionInputs[0];
            this.wa = constantA ? 0.0 : constantB ? 1.0 : 0.5;
            this.wb = constantB ? 0.0 : constantA ? 1.0 : 0.5;
        }

        @Override
        public boolean passesNothingTo(int input) {
            return (input == 0 ? wa : wb) == 0;
        }

        /** The share of each product's relevance that goes to the first and to the second operand (for tests). */
        double[] weights() {
            return new double[] {wa, wb};
        }

        @Override
        public void forward(Flow f, int k, int rows) {
            float[] a = f.read(f.input(k, 0), rows * f.inputWidth(k, 0));
            float[] b = f.read(f.input(k, 1), rows * f.inputWidth(k, 1));
            float[] z = f.hostUnset(rows * f.plan.width(k + 1));
            HostMatMul.forward(a, b, z, rows * shape.batch(), shape.m(), shape.k(), shape.n());
            f.be.write(f.output(k), z, 0, z.length);
        }

        @Override
        public void backward(Flow f, int k, int rows) {
            int wa0 = f.inputWidth(k, 0);
            int wb1 = f.inputWidth(k, 1);
            int w = f.plan.width(k + 1);
            float[] a = f.read(f.input(k, 0), rows * wa0);
            float[] b = f.read(f.input(k, 1), rows * wb1);
            float[] z = f.read(f.output(k), rows * w);
            float[] r = f.read(f.outputRelevance(k), rows * w);
            float[] ra = wa == 0 ? f.host(rows * wa0) : f.hostUnset(rows * wa0);   // every share written, or 0
            float[] rb = wb == 0 ? f.host(rows * wb1) : f.hostUnset(rows * wb1);
            int units = rows * shape.batch();
            double[] share = f.health() == null ? null : new double[units];
            HostMatMul.relevance(a, b, z, r, ra, rb, units, shape.m(), shape.k(), shape.n(), (float) wa,
                    (float) wb, eps, share);
            if (share != null) {
                double[] perSample = new double[rows];
                for (int u = 0; u < units; u++) {
                    perSample[u / shape.batch()] += share[u];
                }
                Health.add(f.health().stabilizer[k], perSample, f.row0());
            }
            f.be.write(f.sendTo(k, 0), ra, 0, ra.length);
            f.sent(k, 0, rows);
            f.be.write(f.sendTo(k, 1), rb, 0, rb.length);
            f.sent(k, 1, rows);
        }
    }

    /**
     * A gather within each sample, {@code z[i] = x[index[i]]} or 0 where {@code index[i] < 0}; relevance moves back
     * by position and is summed where a feature was read more than once ({@code R_x[j] = sum R_z[i]} over
     * {@code index[i] == j}, i ascending, in double starting from the first term, rounded once; 0 where none reads
     * it). A gather that reads each feature at most once in a few runs of consecutive features (a slice, a class
     * token) moves the runs with {@code copyRows}; any other (a transpose, a broadcast) runs on the host. Both give
     * the same bits: a value read once is copied as it is.
     */
    static final class Gather implements NodeStep {
        /** Runs of at most this many per sample are moved with {@code copyRows}. */
        static final int MAX_RUNS = 16;
        private final int inputSize;
        private final int[] index;
        /** {@code {outStart, inStart, length}} per run of consecutive features, or null for the host path. */
        private final int[][] runs;
        private final boolean gaps;
        /** For each input feature j, the outputs reading it: {@code readers[first[j] .. first[j + 1])}, ascending. */
        private final int[] first;
        private final int[] readers;
        /**
         * Whether every input feature is read by some output: then a relevance pass writes every input's value and
         * its host array needs no zeros first (a head split or merge, a transpose; not a class token's slice).
         */
        private final boolean readsAll;

        Gather(Index layer) {
            this(layer, MAX_RUNS);
        }

        /** @param maxRuns the most runs moved with {@code copyRows}; 0 runs every gather on the host (tests) */
        Gather(Index layer, int maxRuns) {
            this.inputSize = layer.inputSize();
            this.index = layer.index();
            this.first = new int[inputSize + 1];
            boolean injective = true;
            boolean anyGap = false;
            for (int v : index) {
                if (v < 0) {
                    anyGap = true;
                } else {
                    first[v + 1]++;
                    injective &= first[v + 1] == 1;
                }
            }
            boolean all = true;
            for (int j = 0; j < inputSize; j++) {
                all &= first[j + 1] > 0;
                first[j + 1] += first[j];
            }
            this.readsAll = all;
            this.readers = new int[first[inputSize]];
            int[] fill = first.clone();
            for (int i = 0; i < index.length; i++) {
                if (index[i] >= 0) {
                    readers[fill[index[i]]++] = i;
                }
            }
            this.gaps = anyGap;
            this.runs = injective ? runsOf(index, maxRuns) : null;
        }

        /** The runs of consecutive source features (gaps left out), or null when there are more than maxRuns. */
        private static int[][] runsOf(int[] index, int maxRuns) {
            java.util.List<int[]> out = new java.util.ArrayList<>();
            int i = 0;
            while (i < index.length) {
                if (index[i] < 0) {
                    i++;
                    continue;
                }
                int j = i + 1;
                while (j < index.length && index[j] >= 0 && index[j] == index[j - 1] + 1) {
                    j++;
                }
                out.add(new int[] {i, index[i], j - i});
                if (out.size() > maxRuns) {
                    return null;
                }
                i = j;
            }
            return out.toArray(new int[0][]);
        }

        /** Whether the gather moves runs with {@code copyRows} (for tests). */
        boolean copiesRuns() {
            return runs != null;
        }

        @Override
        public void forward(Flow f, int k, int rows) {
            int w = index.length;
            if (runs != null) {
                if (gaps) {
                    f.be.write(f.output(k), f.host(rows * w), 0, rows * w);
                }
                for (int[] run : runs) {
                    f.be.copyRows(f.input(k, 0), inputSize, run[1], f.output(k), w, run[0], run[2], rows);
                }
                return;
            }
            float[] x = f.read(f.input(k, 0), rows * inputSize);
            float[] z = f.hostUnset(rows * w);  // every output written, a gap's as 0
            HostParallel.forEach(rows, w, b -> {
                int xo = b * inputSize;
                int zo = b * w;
                for (int i = 0; i < w; i++) {
                    z[zo + i] = index[i] < 0 ? 0f : x[xo + index[i]];
                }
            });
            f.be.write(f.output(k), z, 0, z.length);
        }

        @Override
        public void backward(Flow f, int k, int rows) {
            int w = index.length;
            Buffer to = f.sendTo(k, 0);
            if (runs != null) {
                if (!readsAll) {
                    f.be.write(to, f.host(rows * inputSize), 0, rows * inputSize);
                }
                for (int[] run : runs) {
                    f.be.copyRows(f.outputRelevance(k), w, run[0], to, inputSize, run[1], run[2], rows);
                }
                f.sent(k, 0, rows);
                return;
            }
            float[] r = f.read(f.outputRelevance(k), rows * w);
            float[] rx = readsAll ? f.hostUnset(rows * inputSize) : f.host(rows * inputSize);
            HostParallel.forEach(rows, w, b -> {
                int ro = b * w;
                int xo = b * inputSize;
                for (int j = 0; j < inputSize; j++) {
                    int from = first[j];
                    int until = first[j + 1];
                    if (from == until) {
                        continue;
                    }
                    if (until - from == 1) {
                        rx[xo + j] = r[ro + readers[from]];
                        continue;
                    }
                    double sum = r[ro + readers[from]];
                    for (int q = from + 1; q < until; q++) {
                        sum += r[ro + readers[q]];
                    }
                    rx[xo + j] = (float) sum;
                }
            });
            f.be.write(to, rx, 0, rx.length);
            f.sent(k, 0, rows);
        }
    }

    /**
     * Constants added to each sample, {@code z = x + c} (float adds, on the host on every backend); relevance by the
     * epsilon rule on this identity map with bias {@code c}: {@code R_x = x R / stab(z)} ({@code normalize}, then
     * {@code mul}, as {@link Sum} does), the constant absorbing its share.
     */
    static final class Shift implements NodeStep {
        private final float[] values;
        private final float eps;

        Shift(float[] values, float eps) {
            this.values = values;
            this.eps = eps;
        }

        @Override
        public void forward(Flow f, int k, int rows) {
            int w = values.length;
            float[] x = f.read(f.input(k, 0), rows * w);
            for (int i = 0; i < x.length; i++) {
                x[i] = x[i] + values[i % w];
            }
            f.be.write(f.output(k), x, 0, x.length);
        }

        @Override
        public void backward(Flow f, int k, int rows) {
            int w = values.length;
            f.be.mul(f.input(k, 0), NodeStep.signal(f, k, rows, w, eps), f.sendTo(k, 0), rows * w);
            f.sent(k, 0, rows);
        }
    }

    /**
     * A token embedding: each id (an exact float) becomes its row of the table; an id that is not an integer in
     * {@code 0 .. vocab - 1} is refused, naming the sample and position. Relevance stops here: an id gets the sum
     * of the relevance at its row ({@code sum_h R[t, h]}, in double, ascending, rounded once).
     */
    static final class Lookup implements NodeStep {
        private final String name;
        private final int positions;
        private final int vocab;
        private final int hidden;
        private final float[] table;

        Lookup(String name, Embedding layer) {
            this.name = name;
            this.positions = layer.positions();
            this.vocab = layer.vocab();
            this.hidden = layer.hidden();
            this.table = layer.table();
        }

        @Override
        public void forward(Flow f, int k, int rows) {
            float[] ids = f.read(f.input(k, 0), rows * positions);
            float[] z = f.hostUnset(rows * positions * hidden);  // every row copied from the table
            for (int p = 0; p < ids.length; p++) {
                float v = ids[p];
                if (!(v >= 0 && v < vocab && v == (int) v)) {
                    int sample = f.row0() + p / positions;
                    throw new InvalidInputException("sample " + sample + " position " + (p % positions)
                            + " holds token id " + v + ", not an integer in 0.." + (vocab - 1) + " (embedding '"
                            + name + "')", sample, p % positions);
                }
                System.arraycopy(table, (int) v * hidden, z, p * hidden, hidden);
            }
            f.be.write(f.output(k), z, 0, z.length);
        }

        @Override
        public void backward(Flow f, int k, int rows) {
            float[] r = f.read(f.outputRelevance(k), rows * positions * hidden);
            float[] rid = f.hostUnset(rows * positions);
            for (int p = 0; p < rid.length; p++) {
                double sum = 0;
                for (int h = 0; h < hidden; h++) {
                    sum += r[p * hidden + h];
                }
                rid[p] = (float) sum;
            }
            f.be.write(f.sendTo(k, 0), rid, 0, rid.length);
            f.sent(k, 0, rows);
        }
    }
}
