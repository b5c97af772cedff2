// Explains a golden case on a network and compares the result with the fixture or with another run.
package org.gpulrp.golden;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.gpulrp.BackendChoice;
import org.gpulrp.Explainer;
import org.gpulrp.Explanation;
import org.gpulrp.GpuLrp;
import org.gpulrp.Target;
import org.gpulrp.Tensor;
import org.gpulrp.backend.Backend;
import org.gpulrp.io.Npy;
import org.gpulrp.model.Network;

/** Shared steps of the golden tests: networks loaded once per model and loader, explain, compare. */
final class GoldenRuns {

    /** Tolerance of the issue: every value within this fraction of the sample's max |R| in the fixture. */
    static final double REL_TOLERANCE = 1e-4;

    /** How a network was loaded. */
    enum Loader {
        ONNX, STATE_DICT
    }

    private static final Map<String, Network> NETWORKS = new ConcurrentHashMap<>();

    private GoldenRuns() {
    }

    /** The model's network from its ONNX file or from its state dict bound to the architecture spec; cached. */
    static Network network(GoldenFixtures.Model m, Loader loader) {
        return NETWORKS.computeIfAbsent(m.name() + "/" + loader,
                k -> loader == Loader.ONNX ? m.fromOnnx() : m.fromStateDict());
    }

    static Tensor inputs(GoldenFixtures.Model m) {
        return new Tensor(m.inputs().data(), m.inputs().shape());
    }

    /** Explains the case's inputs on a backend chosen by name. */
    static Explanation explain(GoldenFixtures.Case c, Network net, BackendChoice choice) {
        return explain(c, GpuLrp.explainer(net).backend(choice));
    }

    /** Explains the case's inputs on a backend the caller owns. */
    static Explanation explain(GoldenFixtures.Case c, Network net, Backend backend) {
        return explain(c, GpuLrp.explainer(net).backend(backend));
    }

    private static Explanation explain(GoldenFixtures.Case c, Explainer.Builder b) {
        return explain(c, b, inputs(GoldenFixtures.model(c.model())));
    }

    /** Explains given inputs (a model of another table, such as the convolutional fixtures) on a named backend. */
    static Explanation explain(GoldenFixtures.Case c, Network net, BackendChoice choice, Tensor inputs) {
        return explain(c, GpuLrp.explainer(net).backend(choice), inputs);
    }

    /** Explains given inputs on a backend the caller owns. */
    static Explanation explain(GoldenFixtures.Case c, Network net, Backend backend, Tensor inputs) {
        return explain(c, GpuLrp.explainer(net).backend(backend), inputs);
    }

    private static Explanation explain(GoldenFixtures.Case c, Explainer.Builder b, Tensor inputs) {
        try (Explainer e = b.composite(c.composite()).initialRelevance(c.initialRelevance()).build()) {
            return e.explain(inputs, c.targetChoice());
        }
    }

    /**
     * The input relevance is within {@link #REL_TOLERANCE} x max|R| of each sample of the fixture, and the targets
     * are those the fixture was computed for (argmax of torch's outputs, or the fixed class).
     */
    static void assertMatchesFixture(String what, GoldenFixtures.Case c, Explanation got) {
        assertMatchesFixture(what, c, got, GoldenFixtures.model(c.model()).torchOutputs());
    }

    /** As {@link #assertMatchesFixture(String, GoldenFixtures.Case, Explanation)} with torch's outputs given. */
    static void assertMatchesFixture(String what, GoldenFixtures.Case c, Explanation got, Npy.Array torchOutputs) {
        Npy.Array want = c.expected();
        Tensor r = got.relevance();
        assertArrayEquals(want.shape(), r.shape(), what + ": relevance shape");
        int rows = want.shape()[0];
        int cols = want.data().length / rows;
        Target t = c.targetChoice();
        int classes = torchOutputs.shape()[1];
        assertArrayEquals(t.resolve(torchOutputs.data(), rows, classes), got.targets(),
                what + ": explained classes (torch's arg-max or the fixed class)");
        float[] g = r.toArray();
        float[] w = want.data();
        int bad = 0;
        String first = null;
        for (int b = 0; b < rows; b++) {
            double max = 0;
            for (int i = 0; i < cols; i++) {
                max = Math.max(max, Math.abs(w[b * cols + i]));
            }
            double tol = REL_TOLERANCE * max;
            for (int i = 0; i < cols; i++) {
                double err = Math.abs((double) g[b * cols + i] - w[b * cols + i]);
                if (!(err <= tol)) { // also catches NaN
                    bad++;
                    if (first == null) {
                        first = String.format("%s: sample %d, feature %d: reference %.9g, got %.9g (|error| %.3g >"
                                + " 1e-4 x max|R| = %.3g)", what, b, i, w[b * cols + i], g[b * cols + i], err, tol);
                    }
                }
            }
        }
        if (bad > 0) {
            fail(first + "; " + bad + " of " + w.length + " values off");
        }
    }

    /** Two float32 arrays are identical bit for bit ({@code floatToRawIntBits}). */
    static void assertSameBits(String what, float[] want, float[] got) {
        assertEquals(want.length, got.length, what + ": length");
        for (int k = 0; k < want.length; k++) {
            if (Float.floatToRawIntBits(want[k]) != Float.floatToRawIntBits(got[k])) {
                fail(String.format("%s: first difference at index %d: %s (0x%08x) vs %s (0x%08x)", what, k, want[k],
                        Float.floatToRawIntBits(want[k]), got[k], Float.floatToRawIntBits(got[k])));
            }
        }
    }
}
