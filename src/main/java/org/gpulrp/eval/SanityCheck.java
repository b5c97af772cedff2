package org.gpulrp.eval;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.Function;
import org.gpulrp.Explainer;
import org.gpulrp.Explanation;
import org.gpulrp.InvalidArgumentException;
import org.gpulrp.Target;
import org.gpulrp.Tensor;
import org.gpulrp.model.Conv2d;
import org.gpulrp.model.Dense;
import org.gpulrp.model.Layer;
import org.gpulrp.model.Network;
import org.gpulrp.model.Node;

/**
 * Cascading model parameter randomization (Adebayo et al. 2018), docs/DESIGN.md section 2.10: step k re-draws the
 * weights and biases of the top k dense and convolution layers (top first, cumulatively), explains the same inputs for
 * the same targets (fixed by the original model) and reports the Spearman rank correlation of |R| with the original
 * explanation's |R|, per sample and averaged over samples. An explanation that depends on the parameters decorrelates
 * as more layers are randomized. A re-drawn layer's weights are normal with mean 0 and the standard deviation of that
 * layer's original weights (its biases likewise of the original biases'), from {@code java.util.Random} seeded by the
 * seed and the layer's index.
 */
public final class SanityCheck {
    private SanityCheck() {
    }

    /**
     * @param layers     the randomized layer of each step, top first (step 0, the original model, has none)
     * @param perSample  {@code [steps + 1][samples]}: Spearman's rho of |R| per sample (NaN where a ranking is
     *                   constant); step 0 is 1
     * @param mean       per step the mean over the samples where rho is defined (NaN if none)
     */
    public record Result(String method, List<String> layers, double[][] perSample, double[] mean) {
    }

    /**
     * Runs the cascade.
     *
     * @param network  the model
     * @param prepare  builds an explainer (the composite and backend of the evaluation) for a network; each one is
     *                 closed after its step
     * @param progress told after each step ({@code done} steps of {@code total})
     */
    public static Result run(Network network, Function<Network, Explainer> prepare, Tensor inputs, Target target,
                             long seed, Evaluation.Progress progress) {
        InvalidArgumentException.check(network != null && prepare != null && inputs != null && target != null,
                "sanity check", "network, explainer factory, inputs and target must not be null");
        List<Node> linear = new ArrayList<>(network.linearNodes());
        linear.removeIf(n -> !(n.layer() instanceof Dense || n.layer() instanceof Conv2d));
        InvalidArgumentException.check(!linear.isEmpty(), "network", "has no dense or convolution layer to "
                + "randomize");
        Evaluation.Progress p = progress == null ? Evaluation.Progress.NONE : progress;
        int steps = linear.size();
        float[] original;
        int[] targets;
        String method;
        try (Explainer ex = prepare.apply(network)) {
            Explanation e = ex.explain(inputs, target);
            original = e.relevance().toArray();
            targets = e.targets();
            method = ex.composite().name();
        }
        int rows = inputs.rows();
        int n = inputs.rowSize();
        double[][] rho = new double[steps + 1][rows];
        java.util.Arrays.fill(rho[0], 1.0);
        p.update(1, steps + 1);
        List<String> names = new ArrayList<>();
        Network current = network;
        for (int s = 1; s <= steps; s++) {
            Node node = linear.get(steps - s);
            names.add(node.name());
            current = current.withLayer(node.name(), randomized(node.layer(), new Random(seed * 1_000_003L
                    + network.nodes().indexOf(node))));
            float[] r;
            try (Explainer ex = prepare.apply(current)) {
                r = ex.explain(inputs, Target.perSample(targets)).relevance().toArray();
            }
            for (int b = 0; b < rows; b++) {
                rho[s][b] = Spearman.ofMagnitudes(original, r, b * n, n);
            }
            p.update(s + 1, steps + 1);
        }
        double[] mean = new double[steps + 1];
        for (int s = 0; s <= steps; s++) {
            double sum = 0;
            int count = 0;
            for (double v : rho[s]) {
                if (!Double.isNaN(v)) {
                    sum += v;
                    count++;
                }
            }
            mean[s] = count == 0 ? Double.NaN : sum / count;
        }
        return new Result(method, List.copyOf(names), rho, mean);
    }

    /** The same layer with its weights and biases re-drawn (see the class comment). */
    static Layer randomized(Layer layer, Random r) {
        if (layer instanceof Dense d) {
            return new Dense(d.positions(), d.in(), d.out(), redraw(d.weight(), r), redraw(d.bias(), r));
        }
        Conv2d c = (Conv2d) layer;
        return new Conv2d(c.geometry(), redraw(c.weight(), r), redraw(c.bias(), r));
    }

    private static float[] redraw(float[] v, Random r) {
        double sum = 0;
        double sq = 0;
        for (float x : v) {
            sum += x;
            sq += (double) x * x;
        }
        double mean = sum / v.length;
        double sd = Math.sqrt(Math.max(0, sq / v.length - mean * mean));
        float[] out = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = (float) (r.nextGaussian() * sd);
        }
        return out;
    }
}
