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
        GoldenFixtures.Model m = GoldenFixtures.model(c.model());
        try (Explainer e = b.composite(c.composite()).initialRelevance(c.initialRelevance()).build()) {
            return e.explain(inputs(m), c.targetChoice());
        }
    }

    /**
     * The input relevance is within {@link #REL_TOLERANCE} x max|R| of each sample of the fixture, and the targets
     * are those the fixture was computed for (argmax of torch's outputs, or the fixed class).
     */
    static void assertMatchesFixture(String what, GoldenFixtures.Case c, Explanation got) {
        GoldenFixtures.Model m = GoldenFixtures.model(c.model());
        Npy.Array want = c.expected();
        Tensor r = got.relevance();
        assertArrayEquals(want.shape(), r.shape(), what + ": relevance shape");
        int rows = want.shape()[0];
        int cols = want.data().length / rows;
        Target t = c.targetChoice();
        int classes = m.torchOutputs().shape()[1];
        assertArrayEquals(t.resolve(m.torchOutputs().data(), rows, classes), got.targets(),
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
