package org.gpulrp.eval;

import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.gpulrp.Explainer;
import org.gpulrp.Explanation;
import org.gpulrp.InvalidArgumentException;
import org.gpulrp.Target;
import org.gpulrp.Tensor;

/**
 * Region perturbation (Samek et al. 2017), as docs/DESIGN.md section 2.10 defines it: {@code x(0) = x}, and
 * {@code x(k)} is {@code x(k-1)} with the k-th region of the chosen {@link Order} replaced by the {@link Baseline};
 * {@code f(x(k))} is the explained score at the target fixed from {@code x(0)}, for k = 0..L. Then
 * {@code AOPC = 1/(L+1) sum_k (f(x(0)) - f(x(k)))} averaged over the samples, per order, and
 * {@code ABPC = 1/(L+1) sum_k (f(x_LeRF(k)) - f(x_MoRF(k)))}. Every perturbed batch runs through
 * {@link Explainer#score} on the explainer's lanes.
 */
public final class Evaluation {
    /** The most steps the default takes. */
    public static final int MAX_DEFAULT_STEPS = 100;

    private Evaluation() {
    }

    /** Told how many perturbed samples have been scored of how many. */
    @FunctionalInterface
    public interface Progress {
        Progress NONE = (done, total) -> { };

        void update(long done, long total);
    }

    /**
     * How to perturb.
     *
     * @param regions  how features group into regions
     * @param baseline what a removed region becomes
     * @param orders   the orders to run, at least one, no repeats
     * @param steps    L, the regions removed, 1 .. {@code regions.count()}
     * @param seed     the random order's seed
     */
    public record Settings(Regions regions, Baseline baseline, List<Order> orders, int steps, long seed) {
        public Settings {
            InvalidArgumentException.check(regions != null, "regions", "must not be null");
            InvalidArgumentException.check(baseline != null, "baseline", "must not be null");
            InvalidArgumentException.check(orders != null && !orders.isEmpty(), "order", "name at least one order");
            orders = List.copyOf(orders);
            InvalidArgumentException.check(orders.stream().distinct().count() == orders.size(), "order",
                    "an order is named twice: " + orders);
            InvalidArgumentException.check(steps >= 1 && steps <= regions.count(), "steps", "must be between 1 "
                    + "and the number of regions (" + regions.count() + ", " + regions.describe() + "), got "
                    + steps);
        }

        /** All three orders, L = the regions but at most {@value #MAX_DEFAULT_STEPS}, seed 0. */
        public static Settings defaults(Regions regions, Baseline baseline) {
            return new Settings(regions, baseline, List.of(Order.MORF, Order.LERF, Order.RANDOM),
                    defaultSteps(regions), 0L);
        }
    }

    /** L by default: every region, at most {@value #MAX_DEFAULT_STEPS}. */
    public static int defaultSteps(Regions regions) {
        return Math.min(regions.count(), MAX_DEFAULT_STEPS);
    }

    /**
     * L by default for these inputs: the fewest regions any sample has (for token models, the fewest real tokens:
     * padding is no region), at most {@value #MAX_DEFAULT_STEPS}. All samples' curves share one L, so each sample's
     * AOPC is the definition's with that L.
     */
    public static int defaultSteps(Regions regions, Tensor inputs) {
        return Math.min(regions.fewest(inputs.toArray()), MAX_DEFAULT_STEPS);
    }

    /**
     * Throws unless every sample of {@code inputs} has at least {@code settings.steps()} regions (token models: real
     * tokens); the message names the first sample with fewer.
     */
    public static void checkSteps(Settings settings, Tensor inputs) {
        float[] x = inputs.toArray();
        int steps = settings.steps();
        if (settings.regions().fewest(x) >= steps) {
            return;
        }
        for (int b = 0; b < inputs.rows(); b++) {
            int n = settings.regions().present(x, b).length;
            if (n < steps) {
                throw new InvalidArgumentException("steps", steps + " regions, but sample " + b + " (from 0) has "
                        + n + " real tokens (padding is no region); choose at most " + settings.regions().fewest(x));
            }
        }
    }

    /**
     * The curves and their areas for one explanation method.
     *
     * @param curves per order, {@code [samples][L + 1]}: the score after k removals
     */
    public record Result(String method, Map<Order, float[][]> curves, int samples, int steps) {
        /** AOPC of {@code order}: the mean over samples of {@code 1/(L+1) sum_k (f(0) - f(k))}, in double. */
        public double aopc(Order order) {
            float[][] c = curve(order);
            double total = 0;
            for (float[] row : c) {
                double s = 0;
                for (int k = 0; k <= steps; k++) {
                    s += (double) row[0] - row[k];
                }
                total += s / (steps + 1);
            }
            return total / samples;
        }

        /** ABPC: the mean over samples of {@code 1/(L+1) sum_k (f_LeRF(k) - f_MoRF(k))}; NaN without both orders. */
        public double abpc() {
            if (!curves.containsKey(Order.MORF) || !curves.containsKey(Order.LERF)) {
                return Double.NaN;
            }
            float[][] m = curve(Order.MORF);
            float[][] l = curve(Order.LERF);
            double total = 0;
            for (int b = 0; b < samples; b++) {
                double s = 0;
                for (int k = 0; k <= steps; k++) {
                    s += (double) l[b][k] - m[b][k];
                }
                total += s / (steps + 1);
            }
            return total / samples;
        }

        /** The mean curve of {@code order} over samples ({@code L + 1} values, in double). */
        public double[] meanCurve(Order order) {
            float[][] c = curve(order);
            double[] m = new double[steps + 1];
            for (float[] row : c) {
                for (int k = 0; k <= steps; k++) {
                    m[k] += row[k];
                }
            }
            for (int k = 0; k <= steps; k++) {
                m[k] /= samples;
            }
            return m;
        }

        /** The curves of {@code order}, {@code [samples][L + 1]}. */
        public float[][] curve(Order order) {
            float[][] c = curves.get(order);
            InvalidArgumentException.check(c != null, "order", order.label() + " was not run");
            return c;
        }
    }

    /**
     * Explains {@code inputs} with {@code explainer} for {@code target}, then perturbs and scores them: the whole
     * evaluation of one composite.
     */
    public static Result run(Explainer explainer, Tensor inputs, Target target, Settings settings,
                             Progress progress) {
        Explanation e = explainer.explain(inputs, target);
        return curves(explainer, inputs, e.relevance(), e.targets(), settings, progress);
    }

    /**
     * The curves of a given relevance (any explanation method's, {@code inputs}' shape) for the flat output index
     * {@code targets[b]} of each sample, scored by {@code explainer}.
     */
    public static Result curves(Explainer explainer, Tensor inputs, Tensor relevance, int[] targets,
                                Settings settings, Progress progress) {
        PerturbationCurves p = new PerturbationCurves(explainer, inputs, relevance, targets, settings);
        Map<Order, float[][]> curves = new EnumMap<>(Order.class);
        for (Order o : settings.orders()) {
            curves.put(o, null);
        }
        p.run(curves, progress == null ? Progress.NONE : progress);
        return new Result(explainer.composite().name(), curves, inputs.rows(), settings.steps());
    }
}
