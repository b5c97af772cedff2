// Reads the golden cases computed by Zennit itself (scripts/make_zennit_golden.py, make_zennit_cnn_golden.py) and
// runs them through gpulrp.
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
import org.gpulrp.composite.Products;
import org.gpulrp.io.Npy;
import org.gpulrp.io.onnx.OnnxImporter;
import org.gpulrp.model.Network;
import org.gpulrp.rules.Rule;
import org.gpulrp.rules.ZBox;

/**
 * The fixtures written with Zennit (commit 6b0bbdf) as the oracle, two sets ({@link Suite}):
 * <ul>
 *   <li>{@link #ZENNIT}, {@code src/test/resources/zennit/} from {@code scripts/make_zennit_golden.py}: ResNet, VGG
 *       and concatenation blocks at 32 px. {@code models.txt}: model, ONNX file, stacked relevances
 *       {@code [n, 2, 3, 32, 32]}, the two samples' targets; {@code manifest.txt}: model, ONNX file, conv_bias, kind,
 *       spec, init, index into the stacked relevances, gap, max|R64|.</li>
 *   <li>{@link #CNN}, {@code src/test/resources/zennit-cnn/} from {@code scripts/make_zennit_cnn_golden.py}: narrow
 *       torchvision CNN families (DenseNet, GoogLeNet, InceptionA, SqueezeNet, MobileNetV2/V3, EfficientNet,
 *       ShuffleNetV2, RegNetY, MnasNet) at 24 px. {@code models.txt} adds torch's float64 outputs after the
 *       relevances; {@code manifest.txt} adds the products mode ({@code gradient} or {@code constant-gate}) after
 *       conv_bias.</li>
 * </ul>
 * Both have {@code inputs.npy}. The reference of a case is Zennit's float64 relevance; its gap is max|R32 - R64| of
 * Zennit in float32 against float64 over the case, so the allowed error, {@code 4 gap + 1e-4 max|R64|}, scales with
 * how well conditioned the case is.
 */
final class ZennitGolden {

    /** The spec of epsilon-gamma-box with ImageNet's per-channel bounds (no CLI spelling is used for it). */
    static final String IMAGENET_BOX = "epsilon-gamma-box:imagenet";
    private static final double[] MEAN = {0.485, 0.456, 0.406};
    private static final double[] STD = {0.229, 0.224, 0.225};

    /** ResNet, VGG and concatenation blocks (issue 12). */
    static final Suite ZENNIT = new Suite("zennit", "scripts/make_zennit_golden.py", false);
    /** The CNN families of issue 14. */
    static final Suite CNN = new Suite("zennit-cnn", "scripts/make_zennit_cnn_golden.py", true);

    /**
     * One model: its relevances, torch's float64 outputs (null in {@link #ZENNIT}) and the targets the fixtures were
     * computed for.
     */
    record Model(String name, String onnx, Npy.Array relevances, Npy.Array outputs, int[] targets) {
    }

    /** One case of a manifest. */
    record Case(Suite suite, String model, String onnx, String convBias, String products, String kind, String spec,
            String init, int index, double gap, double maxAbs) {
        @Override
        public String toString() {
            return model + (onnx.equals(model + ".onnx") ? "" : " [" + onnx + "]") + " " + kind + " " + spec
                    + " init=" + init + " conv_bias=" + convBias
                    + (products.equals("gradient") ? "" : " products=" + products);
        }

        /** The composite from the spec, with the case's conv-bias and products modes. */
        Composite composite() {
            Composite c;
            if (kind.equals("rule")) {
                c = Composite.uniform(RuleSpecs.rule(spec));
            } else if (spec.equals("epsilon")) {
                c = Composites.epsilon();
            } else if (spec.equals(IMAGENET_BOX)) {
                c = Composites.epsilonGammaBox(suite.imagenetBox(), 0.25f);
            } else {
                c = RuleSpecs.composite(spec);
            }
            return c.withConvBias(ConvBias.valueOf(convBias.toUpperCase(Locale.ROOT)))
                    .withProducts(Products.valueOf(products.toUpperCase(Locale.ROOT).replace('-', '_')));
        }

        InitialRelevance initialRelevance() {
            return InitialRelevance.valueOf(init.toUpperCase(Locale.ROOT));
        }

        /** The allowed max |R_gpulrp - R64|. */
        double tolerance() {
            return 4 * gap + 1e-4 * maxAbs;
        }

        /** Zennit's float64 relevance (stored as float32), the input's shape flattened. */
        float[] expected() {
            Npy.Array all = suite.model(model).relevances();
            int per = all.data().length / all.shape()[0];
            return Arrays.copyOfRange(all.data(), index * per, (index + 1) * per);
        }
    }

    /** One fixture set: a resource folder with models.txt, manifest.txt and inputs.npy. */
    static final class Suite {
        private final String dir;
        private final String script;
        private final boolean extended;
        private Map<String, Model> models;
        private List<Case> cases;
        private Tensor inputs;
        private final Map<String, Network> networks = new ConcurrentHashMap<>();

        /**
         * @param extended whether models.txt has the outputs column and manifest.txt the products column
         */
        Suite(String dir, String script, boolean extended) {
            this.dir = dir;
            this.script = script;
            this.extended = extended;
        }

        @Override
        public String toString() {
            return dir;
        }

        Path resource(String relative) {
            URL url = ZennitGolden.class.getResource("/" + dir + "/" + relative);
            if (url == null) {
                throw new IllegalStateException("missing test resource " + dir + "/" + relative + "; regenerate with "
                        + "PYTHONPATH=zennit/src /usr/bin/python3 " + script);
            }
            try {
                return Path.of(url.toURI());
            } catch (URISyntaxException e) {
                throw new IllegalStateException(e);
            }
        }

        synchronized Map<String, Model> models() {
            if (models == null) {
                Map<String, Model> m = new LinkedHashMap<>();
                int t = extended ? 4 : 3;
                for (String[] f : GoldenFixtures.table(resource("models.txt"), t + 2)) {
                    m.put(f[0], new Model(f[0], f[1], Npy.read(resource(f[2])),
                            extended ? Npy.read(resource(f[3])) : null,
                            new int[] {Integer.parseInt(f[t]), Integer.parseInt(f[t + 1])}));
                }
                models = Collections.unmodifiableMap(m);
            }
            return models;
        }

        Model model(String name) {
            Model m = models().get(name);
            if (m == null) {
                throw new IllegalStateException(dir + "/manifest.txt names unknown model " + name);
            }
            return m;
        }

        synchronized List<Case> cases() {
            if (cases == null) {
                List<Case> cs = new ArrayList<>();
                for (String[] f : GoldenFixtures.table(resource("manifest.txt"), extended ? 10 : 9)) {
                    int k = extended ? 4 : 3;
                    cs.add(new Case(this, f[0], f[1], f[2], extended ? f[3] : "gradient", f[k], f[k + 1], f[k + 2],
                            Integer.parseInt(f[k + 3]), Double.parseDouble(f[k + 4]), Double.parseDouble(f[k + 5])));
                }
                cases = Collections.unmodifiableList(cs);
            }
            return cases;
        }

        synchronized Tensor inputs() {
            if (inputs == null) {
                Npy.Array a = Npy.read(resource("inputs.npy"));
                inputs = new Tensor(a.data(), a.shape());
            }
            return inputs;
        }

        /** The network of an ONNX file of the fixtures; loaded once. */
        Network network(String onnx) {
            return networks.computeIfAbsent(onnx, f -> OnnxImporter.load(resource(f)));
        }

        /**
         * ZBox with ImageNet's per-channel bounds low_c = (0 - m_c) / s_c, high_c = (1 - m_c) / s_c, per feature of
         * the suite's {@code [3, H, W]} inputs.
         */
        ZBox imagenetBox() {
            int[] shape = inputs().shape();
            int plane = shape[2] * shape[3];
            float[] low = new float[3 * plane];
            float[] high = new float[3 * plane];
            for (int c = 0; c < 3; c++) {
                Arrays.fill(low, c * plane, (c + 1) * plane, (float) ((0 - MEAN[c]) / STD[c]));
                Arrays.fill(high, c * plane, (c + 1) * plane, (float) ((1 - MEAN[c]) / STD[c]));
            }
            return new ZBox(low, high, Rule.DEFAULT_EPSILON);
        }
    }

    /** CPU relevance and outputs per case, so that the OpenCL test run in the same JVM compares without a rerun. */
    private static final Map<Case, float[][]> CPU_RESULTS = new ConcurrentHashMap<>();

    private ZennitGolden() {
    }

    /** Explains the case's inputs for the stored targets with an explainer from {@code builder}. */
    static Explanation explain(Case c, Explainer.Builder builder) {
        try (Explainer e = builder.composite(c.composite()).initialRelevance(c.initialRelevance()).build()) {
            return e.explain(c.suite().inputs(), Target.perSample(c.suite().model(c.model()).targets()));
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
        return GpuLrp.explainer(c.suite().network(c.onnx()));
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

    /**
     * gpulrp's relevance is within {@link Case#tolerance()} of Zennit's float64 relevance; where the suite has torch's
     * outputs, gpulrp's forward pass is checked first (within 1e-5 max|y| + 1e-6), so that a wrong import fails as
     * a wrong forward pass and not as a relevance difference.
     */
    static void assertMatchesZennit(String what, Case c, Explanation got) {
        Model m = c.suite().model(c.model());
        if (m.outputs() != null) {
            float[] y = m.outputs().data();
            float[] gy = got.outputs().toArray();
            assertArrayEquals(m.outputs().shape(), got.outputs().shape(), what + ": output shape");
            double maxY = 0;
            for (float v : y) {
                maxY = Math.max(maxY, Math.abs(v));
            }
            double errY = maxAbsDiff(gy, y);
            double tolY = 1e-5 * maxY + 1e-6;
            if (!(errY <= tolY)) {
                fail(String.format(Locale.ROOT, "%s: forward pass differs from torch: max|y_gpulrp - y_torch64| ="
                        + " %.4g > %.4g; gpulrp %s, torch %s", what, errY, tolY, Arrays.toString(gy),
                        Arrays.toString(y)));
            }
        }
        assertArrayEquals(m.targets(), got.targets(), what + ": explained classes");
        float[] want = c.expected();
        float[] g = got.relevance().toArray();
        assertArrayEquals(c.suite().inputs().shape(), got.relevance().shape(), what + ": relevance shape");
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

    /**
     * Explains one case on the CPU, asserts it matches Zennit, and records its errors in {@code report} (keyed by the
     * case, left-aligned to {@code width}) for {@link #printReport}.
     */
    static void checkOnCpu(Case c, org.gpulrp.backend.cpu.CpuBackend cpu, Map<String, String> report, int width) {
        Explanation got = explainCpu(c, cpu);
        double err = maxAbsDiff(got.relevance().toArray(), c.expected());
        report.put(String.format(Locale.ROOT, "%-" + width + "s", c), String.format(Locale.ROOT,
                "gap/max %.2e  err/max %.2e  err/allowed %.3f", c.gap() / c.maxAbs(), err / c.maxAbs(),
                err / c.tolerance()));
        assertMatchesZennit(c + " [CPU]", c, got);
    }

    /** Prints the per-case errors {@link #checkOnCpu} recorded, sorted by case, under the test's name. */
    static void printReport(String test, Map<String, String> report) {
        StringBuilder sb = new StringBuilder("[" + test + "] per case (max over the case):\n");
        new java.util.TreeMap<>(report).forEach((k, v) -> sb.append(k).append(' ').append(v).append('\n'));
        System.out.print(sb);
    }
}
