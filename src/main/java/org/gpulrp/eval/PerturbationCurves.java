package org.gpulrp.eval;

import java.util.Arrays;
import java.util.Map;
import org.gpulrp.Explainer;
import org.gpulrp.InvalidArgumentException;
import org.gpulrp.InvalidInputException;
import org.gpulrp.ShapeMismatchException;
import org.gpulrp.Tensor;

/**
 * Runs the removal steps of {@link Evaluation} for one relevance: per order, every sample's regions are replaced one
 * by one, and the perturbed copies go to {@link Explainer#score} several steps at a time (all samples of a step in
 * one call, so the lanes and chunks work on large batches), bounded by {@link #MAX_FLOATS} per call.
 */
final class PerturbationCurves {
    /** The most input values one scoring call holds (32 MiB). */
    static final int MAX_FLOATS = 1 << 23;

    private final Explainer explainer;
    private final float[] x;
    private final int[] sampleShape;
    private final float[] relevance;
    private final int[] targets;
    private final Evaluation.Settings settings;
    private final int rows;
    private final int features;

    PerturbationCurves(Explainer explainer, Tensor inputs, Tensor relevance, int[] targets,
                       Evaluation.Settings settings) {
        InvalidArgumentException.check(explainer != null && inputs != null && relevance != null && targets != null,
                "evaluation", "explainer, inputs, relevance and targets must not be null");
        this.explainer = explainer;
        this.settings = settings;
        this.rows = inputs.rows();
        this.features = inputs.rowSize();
        InvalidArgumentException.check(rows > 0, "inputs", "the batch is empty; pass at least one sample");
        if (!Arrays.equals(inputs.shape(), relevance.shape())) {
            throw new ShapeMismatchException("relevance", "the inputs' shape " + Arrays.toString(inputs.shape()),
                    Arrays.toString(relevance.shape()));
        }
        if (features != settings.regions().features()) {
            throw new ShapeMismatchException("regions", features + " features per sample",
                    settings.regions().features() + " features");
        }
        if (targets.length != rows) {
            throw new ShapeMismatchException("targets", rows + " (one per sample)", targets.length + "");
        }
        this.x = inputs.toArray();
        this.relevance = relevance.toArray();
        this.targets = targets.clone();
        int[] s = inputs.shape();
        this.sampleShape = Arrays.copyOfRange(s, 1, s.length);
        checkFinite(this.x, "input");
        checkFinite(this.relevance, "relevance");
        Evaluation.checkSteps(settings, inputs);
    }

    private void checkFinite(float[] a, String what) {
        for (int i = 0; i < a.length; i++) {
            if (!Float.isFinite(a[i])) {
                throw new InvalidInputException("sample " + i / features + " " + what + " " + i % features + " is "
                        + a[i] + "; the evaluation needs finite values", i / features, i % features);
            }
        }
    }

    /** Fills {@code curves} for each of its orders (keys). */
    void run(Map<Order, float[][]> curves, Evaluation.Progress progress) {
        int steps = settings.steps();
        long total = (long) rows * (1 + (long) curves.size() * steps);
        float[] base = settings.baseline().values(x, sampleShape);
        int[][] members = settings.regions().members();
        float[] f0 = explainer.score(new Tensor(x, shapeOf(1)), targets);
        long done = rows;
        progress.update(done, total);
        int perCall = (int) Math.max(1, Math.min(steps, MAX_FLOATS / ((long) rows * features)));
        for (Order order : curves.keySet()) {
            int[][] rank = new int[rows][];
            float[][] c = new float[rows][steps + 1];
            for (int b = 0; b < rows; b++) {
                rank[b] = rank(order, b);
                c[b][0] = f0[b];
            }
            float[] cur = x.clone();
            for (int k = 1; k <= steps; k += perCall) {
                int g = Math.min(perCall, steps - k + 1);
                float[] batch = new float[g * rows * features];
                int[] t = new int[g * rows];
                for (int j = 0; j < g; j++) {
                    for (int b = 0; b < rows; b++) {
                        for (int i : members[rank[b][k + j - 1]]) {
                            cur[b * features + i] = base[b * features + i];
                        }
                        t[j * rows + b] = targets[b];
                    }
                    System.arraycopy(cur, 0, batch, j * rows * features, rows * features);
                }
                float[] f = explainer.score(new Tensor(batch, shapeOf(g)), t);
                for (int j = 0; j < g; j++) {
                    for (int b = 0; b < rows; b++) {
                        c[b][k + j] = f[j * rows + b];
                    }
                }
                done += (long) g * rows;
                progress.update(done, total);
            }
            curves.put(order, c);
        }
    }

    /**
     * Sample {@code b}'s regions in removal order: the regions it has ({@link Regions#present}, for token models its
     * real tokens) ranked by their scores; ties and the random stream as {@link Order#rank} has them.
     */
    private int[] rank(Order order, int b) {
        int[] present = settings.regions().present(x, b);
        double[] all = settings.regions().scores(relevance, b);
        double[] s = new double[present.length];
        for (int i = 0; i < present.length; i++) {
            s[i] = all[present[i]];
        }
        int[] r = order.rank(s, settings.seed(), b);
        for (int i = 0; i < r.length; i++) {
            r[i] = present[r[i]];
        }
        return r;
    }

    /** The shape of {@code copies} stacked copies of the batch. */
    private int[] shapeOf(int copies) {
        int[] s = new int[sampleShape.length + 1];
        s[0] = copies * rows;
        System.arraycopy(sampleShape, 0, s, 1, sampleShape.length);
        return s;
    }
}
