// Reads the golden cases computed by Zennit itself (scripts/make_zennit_golden.py) and runs them through gpulrp.
package org.gpulrp.golden;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.gpulrp.Explainer;
import org.gpulrp.Explanation;
import org.gpulrp.GpuLrp;
import org.gpulrp.InitialRelevance;
import org.gpulrp.Target;
import org.gpulrp.backend.Backend;
import org.gpulrp.Tensor;
import org.gpulrp.cli.RuleSpecs;
import org.gpulrp.composite.Composite;
import org.gpulrp.composite.Composites;
import org.gpulrp.composite.ConvBias;
import org.gpulrp.io.Npy;
import org.gpulrp.io.onnx.OnnxImporter;
import org.gpulrp.model.Network;
import org.gpulrp.rules.Rule;
import org.gpulrp.rules.ZBox;

/**
 * The fixtures under {@code src/test/resources/zennit/}, written by {@code scripts/make_zennit_golden.py} with Zennit
 * (commit 6b0bbdf) as the oracle: {@code models.txt} (model, ONNX file, stacked relevances {@code [n, 2, 3, 32, 32]},
 * the two samples' targets), {@code manifest.txt} (one case per line: model, ONNX file, conv_bias, kind, spec, init,
 * index into the stacked relevances, gap, max|R64|) and {@code inputs.npy}. The reference of a case is Zennit's float64
 * relevance; its gap is max|R32 - R64| of Zennit in float32 against float64 over the case, so the allowed error,
 * {@code 4 gap + 1e-4 max|R64|}, scales with how well conditioned the case is.
 */
final class ZennitGolden {

    /** The spec of epsilon-gamma-box with ImageNet's per-channel bounds (no CLI spelling is used for it). */
    static final String IMAGENET_BOX = "epsilon-gamma-box:imagenet";
    private static final double[] MEAN = {0.485, 0.456, 0.406};
    private static final double[] STD = {0.229, 0.224, 0.225};

    /** One model: its relevances and the targets the fixtures were computed for. */
    record Model(String name, String onnx, Npy.Array relevances, int[] targets) {
    }

    /** One case of the manifest. */
    record Case(String model, String onnx, String convBias, String kind, String spec, String init, int index,
            double gap, double maxAbs) {
        @Override
        public String toString() {
            return model + (onnx.equals(model + ".onnx") ? "" : " [" + onnx + "]") + " " + kind + " " + spec
                    + " init=" + init + " conv_bias=" + convBias;
        }

        /** The composite from the spec, with the case's conv-bias mode. */
        Composite composite() {
            Composite c;
            if (kind.equals("rule")) {
                c = Composite.uniform(RuleSpecs.rule(spec));
            } else if (spec.equals("epsilon")) {
                c = Composites.epsilon();
            } else if (spec.equals(IMAGENET_BOX)) {
                c = Composites.epsilonGammaBox(imagenetBox(), 0.25f);
            } else {
                c = RuleSpecs.composite(spec);
            }
            return c.withConvBias(ConvBias.valueOf(convBias.toUpperCase(Locale.ROOT)));
        }

        InitialRelevance initialRelevance() {
            return InitialRelevance.valueOf(init.toUpperCase(Locale.ROOT));
        }

        /** The allowed max |R_gpulrp - R64|. */
        double tolerance() {
            return 4 * gap + 1e-4 * maxAbs;
        }

        /** Zennit's float64 relevance (stored as float32), {@code [2, 3, 32, 32]} flattened. */
        float[] expected() {
            Npy.Array all = ZennitGolden.model(model).relevances();
            int per = all.data().length / all.shape()[0];
            return Arrays.copyOfRange(all.data(), index * per, (index + 1) * per);
        }
    }

    private static Map<String, Model> models;
    private static List<Case> cases;
    private static Tensor inputs;
    private static final Map<String, Network> NETWORKS = new ConcurrentHashMap<>();
    /** CPU relevance and outputs per case, so that the OpenCL test run in the same JVM compares without a rerun. */
    private static final Map<Case, float[][]> CPU_RESULTS = new ConcurrentHashMap<>();

    private ZennitGolden() {
    }

    /** ZBox with ImageNet's per-channel bounds low_c = (0 - m_c) / s_c, high_c = (1 - m_c) / s_c, per feature. */
    static ZBox imagenetBox() {
        int plane = 32 * 32;
        float[] low = new float[3 * plane];
        float[] high = new float[3 * plane];
        for (int c = 0; c < 3; c++) {
            Arrays.fill(low, c * plane, (c + 1) * plane, (float) ((0 - MEAN[c]) / STD[c]));
            Arrays.fill(high, c * plane, (c + 1) * plane, (float) ((1 - MEAN[c]) / STD[c]));
        }
        return new ZBox(low, high, Rule.DEFAULT_EPSILON);
    }

    static Path resource(String relative) {
        URL url = ZennitGolden.class.getResource("/zennit/" + relative);
        if (url == null) {
            throw new IllegalStateException("missing test resource zennit/" + relative + "; regenerate with "
                    + "PYTHONPATH=zennit/src /usr/bin/python3 scripts/make_zennit_golden.py");
        }
        try {
            return Path.of(url.toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    private static List<String[]> table(String name, int columns) {
        return GoldenFixtures.table(resource(name), columns);
    }

    static synchronized Map<String, Model> models() {
        if (models == null) {
            Map<String, Model> m = new LinkedHashMap<>();
            for (String[] f : table("models.txt", 5)) {
                m.put(f[0], new Model(f[0], f[1], Npy.read(resource(f[2])),
                        new int[] {Integer.parseInt(f[3]), Integer.parseInt(f[4])}));
            }
            models = Collections.unmodifiableMap(m);
        }
        return models;
    }

    static Model model(String name) {
        Model m = models().get(name);
        if (m == null) {
            throw new IllegalStateException("zennit/manifest.txt names unknown model " + name);
        }
        return m;
    }

    static synchronized List<Case> cases() {
        if (cases == null) {
            List<Case> cs = new ArrayList<>();
            for (String[] f : table("manifest.txt", 9)) {
                cs.add(new Case(f[0], f[1], f[2], f[3], f[4], f[5], Integer.parseInt(f[6]),
                        Double.parseDouble(f[7]), Double.parseDouble(f[8])));
            }
            cases = Collections.unmodifiableList(cs);
        }
        return cases;
    }

    static synchronized Tensor inputs() {
        if (inputs == null) {
            Npy.Array a = Npy.read(resource("inputs.npy"));
            inputs = new Tensor(a.data(), a.shape());
        }
        return inputs;
    }

    /** The network of an ONNX file of the fixtures; loaded once. */
    static Network network(String onnx) {
        return NETWORKS.computeIfAbsent(onnx, f -> OnnxImporter.load(resource(f)));
    }

    /** Explains the case's inputs for the stored targets with an explainer from {@code builder}. */
    static Explanation explain(Case c, Explainer.Builder builder) {
        try (Explainer e = builder.composite(c.composite()).initialRelevance(c.initialRelevance()).build()) {
            return e.explain(inputs(), Target.perSample(model(c.model()).targets()));
        }
    }

    /** Explains the case on a CPU backend the caller owns and remembers relevance and outputs for {@link #cpu}. */
    static Explanation explainCpu(Case c, Backend cpu) {
        Explanation e = explain(c, explainer(c).backend(cpu));
        CPU_RESULTS.put(c, new float[][] {e.relevance().toArray(), e.outputs().toArray()});
        return e;
    }

    /** The CPU path's {relevance, outputs} of the case: remembered from {@link #explainCpu} or computed on cpu. */
    static float[][] cpu(Case c, Backend cpu) {
        float[][] r = CPU_RESULTS.get(c);
        if (r == null) {
            explainCpu(c, cpu);
            r = CPU_RESULTS.get(c);
        }
        return r;
    }

    static Explainer.Builder explainer(Case c) {
        return GpuLrp.explainer(network(c.onnx()));
    }

    /** max |a - b| over all values (NaN if any is NaN). */
    static double maxAbsDiff(float[] a, float[] b) {
        double m = 0;
        for (int k = 0; k < a.length; k++) {
            double d = Math.abs((double) a[k] - b[k]);
            if (!(d <= m)) {
                m = d;
            }
        }
        return m;
    }

    /** gpulrp's relevance is within {@link Case#tolerance()} of Zennit's float64 relevance. */
    static void assertMatchesZennit(String what, Case c, Explanation got) {
        assertArrayEquals(model(c.model()).targets(), got.targets(), what + ": explained classes");
        float[] want = c.expected();
        float[] g = got.relevance().toArray();
        assertArrayEquals(new int[] {2, 3, 32, 32}, got.relevance().shape(), what + ": relevance shape");
        double err = maxAbsDiff(g, want);
        double tol = c.tolerance();
        if (!(err <= tol)) {
            int worst = 0;
            for (int k = 0; k < g.length; k++) {
                if (!(Math.abs((double) g[k] - want[k]) <= Math.abs((double) g[worst] - want[worst]))) {
                    worst = k;
                }
            }
            fail(String.format(Locale.ROOT, "%s: max|R_gpulrp - R_zennit64| = %.4g > allowed 4 gap + 1e-4 max|R64|"
                    + " = 4 x %.4g + 1e-4 x %.4g = %.4g (%.3g x allowed; worst at index %d: Zennit %.9g, gpulrp %.9g)",
                    what, err, c.gap(), c.maxAbs(), tol, err / tol, worst, want[worst], g[worst]));
        }
    }
}
