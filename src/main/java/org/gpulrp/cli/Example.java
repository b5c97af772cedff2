package org.gpulrp.cli;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.gpulrp.BackendChoice;
import org.gpulrp.Conservation;
import org.gpulrp.Explainer;
import org.gpulrp.Explanation;
import org.gpulrp.GpuLrp;
import org.gpulrp.Target;
import org.gpulrp.Tensor;
import org.gpulrp.composite.Composites;
import org.gpulrp.model.LayerKind;
import org.gpulrp.model.Network;

/**
 * The built-in example that {@code gpulrp} runs without arguments: the article's sample model on held-out rows of the
 * Wisconsin breast cancer data, printing the relevance per layer as the article does, then per row the features
 * ranked by relevance, the conservation check, and which backend ran.
 */
final class Example {
    private Example() {
    }

    static void run(BackendChoice choice, PrintWriter out) {
        Network net = SampleModel.network();
        SampleModel.Rows rows = SampleModel.heldOut();
        try (Explainer ex = GpuLrp.explainer(net).composite(Composites.epsilonPlus()).backend(choice)
                .keepLayerRelevances(true).build()) {
            Explanation e = ex.explain(rows.standardized(), Target.classIndex(0));
            out.println("gpulrp example: the article's SampleModel (Linear 10-32, ReLU, Linear 32-16, ReLU, "
                    + "Linear 16-1, Sigmoid)");
            out.println("trained on the Wisconsin breast cancer data (10 mean features, output = P(malignant)); "
                    + rows.raw().length + " held-out rows");
            out.println("backend: " + e.backend().kind() + " [" + e.backend().device() + "]"
                    + (e.backend().exact() ? "" : " NOT bit-exact"));
            if (!e.backend().note().isEmpty()) {
                out.println("note: " + e.backend().note());
            }
            StringBuilder rules = new StringBuilder();
            ex.rules().forEach((node, rule) -> rules.append(rules.length() == 0 ? "" : ", ").append(node)
                    .append('=').append(rule.describe()));
            out.println("composite: " + ex.composite().name() + " (" + rules + ")");
            out.println();
            out.println("Relevance Scores for layer 'output' (initial relevance = model output):");
            out.println(format(e.outputs()));
            List<Map.Entry<String, Tensor>> layers = new ArrayList<>(e.layerRelevances().entrySet());
            for (int k = 0; k < layers.size(); k++) {
                String name = layers.get(k).getKey();
                if (net.node(name).kind() == LayerKind.ACTIVATION && k + 1 < layers.size()) {
                    out.println("Relevance Scores for layer '" + name + "': as for '" + layers.get(k + 1).getKey()
                            + "' below (activations pass relevance unchanged)");
                } else {
                    out.println("Relevance Scores for layer '" + name + "' (relevance at its output):");
                    out.println(format(layers.get(k).getValue()));
                }
            }
            out.println("Relevance Scores for layer 'input':");
            out.println(format(e.relevance()));
            for (int b = 0; b < e.batchSize(); b++) {
                ranked(out, b, rows, e);
            }
            out.println("Conservation: sum of input relevance vs the explained score (biases and the stabilizer "
                    + "absorb the difference).");
        }
    }

    private static void ranked(PrintWriter out, int b, SampleModel.Rows rows, Explanation e) {
        float p = e.outputs().get(b, 0);
        Conservation c = e.conservation(b);
        out.printf(Locale.ROOT, "%nRow %d (%s): P(malignant) = %.4f%n", b, rows.diagnosis()[b], p);
        List<Integer> idx = new ArrayList<>();
        for (int i = 0; i < rows.features().size(); i++) {
            idx.add(i);
        }
        float[] r = e.relevance().row(b);
        idx.sort(Comparator.comparingDouble((Integer i) -> -Math.abs(r[i])));
        out.printf(Locale.ROOT, "  %-4s %-24s %12s %12s %12s%n", "rank", "feature", "value", "std. value",
                "relevance");
        int rank = 1;
        for (int i : idx) {
            out.printf(Locale.ROOT, "  %-4d %-24s %12.5g %12.4f %+12.5f%n", rank++, rows.features().get(i),
                    rows.raw()[b][i], rows.standardized()[b][i], r[i]);
        }
        out.printf(Locale.ROOT, "  conservation: sum R_input = %+.6f, score = %.6f, ratio = %.4f%n", c.input(),
                c.initial(), c.ratio());
    }

    private static String format(Tensor t) {
        StringBuilder sb = new StringBuilder();
        for (int b = 0; b < t.rows(); b++) {
            sb.append(b == 0 ? "[[" : " [");
            float[] row = t.row(b);
            for (int i = 0; i < row.length; i++) {
                sb.append(String.format(Locale.ROOT, "%+.4e", row[i]));
                if (i + 1 < row.length) {
                    sb.append(i % 6 == 5 ? ",\n   " : ", ");
                }
            }
            sb.append(b + 1 == t.rows() ? "]]" : "],\n");
        }
        return sb.toString();
    }
}
