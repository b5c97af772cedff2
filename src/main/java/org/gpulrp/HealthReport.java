package org.gpulrp;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Where relevance went in one explained batch ({@link Explainer.Builder#healthReport(boolean)}): per node, from the
 * top down, the relevance that entered it (at its output), what it passed down to its inputs, and what it absorbed,
 * split into the stabilizer's part ({@code eps * sum_j g_j s(D_j)}) and the rest (the biases, and for Gamma the
 * outputs that are exactly zero); and how many NaN, infinite and subnormal values each node's relevance held. All sums
 * are over the whole batch, in double, in a fixed order (so they are the same on every backend).
 *
 * <p>When conservation holds: a linear layer passes down exactly what entered it when its bias is zero and its
 * stabilizer is negligible (eps small against the denominators); biases take their share of the output, the
 * stabilizer absorbs more where denominators are small (dead or nearly cancelling units), Flat and WSquare ignore the
 * input, and AlphaBeta/Gamma are not conservative by design where the positive and negative parts differ. Max pooling,
 * activations (Pass), flatten and concatenation pass relevance on unchanged; additions split it with the stabilized
 * epsilon rule (a small stabilizer share).
 *
 * @param layers per node, top first
 * @param input  NaN, infinite and subnormal values in the input relevance
 */
public record HealthReport(List<Layer> layers, Counts input) {

    /** NaN, infinite and subnormal (denormal) values. */
    public record Counts(long nan, long infinite, long subnormal) {
        public boolean clean() {
            return nan == 0 && infinite == 0;
        }
    }

    /**
     * One node's account.
     *
     * @param node       the node's name
     * @param rule       its rule ({@code pass} for nodes without one)
     * @param entering   relevance at the node's output, summed over the batch
     * @param passedDown relevance it gave its inputs
     * @param stabilizer the part its stabilizer absorbed
     * @param counts     NaN/infinite/subnormal values in the relevance at its output
     */
    public record Layer(String node, String rule, double entering, double passedDown, double stabilizer,
                        Counts counts) {
        /** {@code entering - passedDown}. */
        public double absorbed() {
            return entering - passedDown;
        }

        /** {@code absorbed - stabilizer}: the biases' part (and Gamma's zero outputs). */
        public double bias() {
            return absorbed() - stabilizer;
        }

        /** {@code absorbed / entering}; NaN where nothing entered. */
        public double absorbedShare() {
            return entering == 0 ? Double.NaN : absorbed() / entering;
        }
    }

    /** Whether no node's relevance and no input relevance held a NaN or an infinity. */
    public boolean clean() {
        return input.clean() && layers.stream().allMatch(l -> l.counts().clean());
    }

    /** A plain-text table, one line per node. */
    @Override
    public String toString() {
        StringBuilder s = new StringBuilder(String.format(Locale.ROOT, "%-20s %-18s %14s %14s %9s %9s %9s %s%n",
                "node", "rule", "entering", "passed down", "absorbed", "stabil.", "bias", "nan/inf/subnormal"));
        for (Layer l : layers) {
            double e = l.entering() == 0 ? 1 : Math.abs(l.entering());
            s.append(String.format(Locale.ROOT, "%-20s %-18s %14.6g %14.6g %8.3f%% %8.3f%% %8.3f%% %d/%d/%d%n",
                    l.node(), l.rule(), l.entering(), l.passedDown(), 100 * l.absorbed() / e,
                    100 * l.stabilizer() / e, 100 * l.bias() / e, l.counts().nan(), l.counts().infinite(),
                    l.counts().subnormal()));
        }
        s.append(String.format(Locale.ROOT, "input relevance: %d NaN, %d infinite, %d subnormal%n", input.nan(),
                input.infinite(), input.subnormal()));
        return s.toString();
    }

    /** Builds the report from the engine's per-sample accounts ({@code [node][row]}), nodes in forward order. */
    static HealthReport of(List<String> names, Map<String, org.gpulrp.rules.Rule> rules,
                           org.gpulrp.internal.Health h) {
        List<Layer> out = new ArrayList<>();
        for (int k = names.size() - 1; k >= 0; k--) {
            long[] c = h.counts(k + 1);
            org.gpulrp.rules.Rule r = rules.get(names.get(k));
            out.add(new Layer(names.get(k), r == null ? "pass" : r.describe(), sum(h.entering[k]),
                    sum(h.leaving[k]), sum(h.stabilizer[k]), new Counts(c[0], c[1], c[2])));
        }
        long[] c = h.counts(0);
        return new HealthReport(List.copyOf(out), new Counts(c[0], c[1], c[2]));
    }

    private static double sum(double[] a) {
        double s = 0;
        for (double v : a) {
            s += v;
        }
        return s;
    }
}
