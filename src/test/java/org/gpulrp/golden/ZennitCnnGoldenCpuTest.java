// Zennit's own relevances on narrow torchvision CNN families (scripts/make_zennit_cnn_golden.py) on the CPU path.
package org.gpulrp.golden;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.gpulrp.backend.cpu.CpuBackend;
import org.gpulrp.golden.ZennitGolden.Case;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every case of {@code zennit-cnn/manifest.txt} on the CPU backend: DenseNet (dense block, transition, standalone
 * BatchNorms), GoogLeNet's Inception after a ceil-mode max pool, Inception-v3's InceptionA (F.avg_pool2d as Pad +
 * AveragePool), SqueezeNet's Fire, MobileNetV2 and V3 inverted residuals (ReLU6, Hardswish, Hardsigmoid SE gates),
 * EfficientNet's MBConv (SiLU, sigmoid SE gates), ShuffleNetV2 (split, concat, channel shuffle), RegNetY with SE and
 * MnasNet (spatial-mean head), exported by torch and explained with the composite or uniform rule, initial relevance,
 * conv-bias mode, products mode and per-sample targets of the case. gpulrp's forward pass must match torch's
 * (1e-5 max|y|), then {@code max |R_gpulrp - R_zennit64| <= 4 gap + 1e-4 max|R_zennit64|} over the case, where gap
 * is {@code max |R_zennit32 - R_zennit64|}, Zennit's own float32 error on that case.
 */
class ZennitCnnGoldenCpuTest {

    static final Set<String> FAMILIES = Set.of("densenet", "googlenet", "inception_a", "squeezenet", "mobilenet_v2",
            "mobilenet_v3", "efficientnet", "shufflenet_v2", "regnet_y", "mnasnet");
    /** The models with squeeze-and-excitation gates, which have products=constant-gate cases too. */
    static final Set<String> GATED = Set.of("mobilenet_v3", "efficientnet", "regnet_y");
    /** The models whose convolutions were all built with bias=False, which have conv_bias=zennit cases too. */
    static final Set<String> BIAS_FREE = Set.of("densenet", "googlenet", "inception_a", "mobilenet_v2",
            "shufflenet_v2", "mnasnet");
    static final List<String> COMPOSITES = List.of("epsilon", "epsilon-plus", "epsilon-alpha2-beta1",
            "epsilon-plus-flat", "epsilon-alpha2-beta1-flat", "epsilon-gamma-box:-3,3", ZennitGolden.IMAGENET_BOX);
    static final List<String> RULES = List.of("epsilon", "zplus", "alpha-beta:2,1", "alpha-beta:1,0", "gamma:0.25",
            "wsquare", "flat");

    private static final Map<String, String> REPORT = new ConcurrentHashMap<>();
    /** One CPU backend (and its thread pool) for every case. */
    private static CpuBackend cpu;

    @BeforeAll
    static void open() {
        cpu = new CpuBackend();
    }

    static Stream<Case> cases() {
        return ZennitGolden.CNN.cases().stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void cpuMatchesZennit(Case c) {
        ZennitGolden.checkOnCpu(c, cpu, REPORT, 80);
    }

    /** The fixtures cover what issue 14 asks for; an emptied or truncated manifest fails here. */
    @Test
    void manifestCoversEveryFamilyCompositeRuleAndOption() {
        List<Case> all = ZennitGolden.CNN.cases();
        assertEquals(FAMILIES, ZennitGolden.CNN.models().keySet());
        assertEquals(FAMILIES, all.stream().map(Case::model).collect(Collectors.toSet()));
        for (String model : FAMILIES) {
            for (String products : GATED.contains(model) ? List.of("gradient", "constant-gate")
                    : List.of("gradient")) {
                for (String bias : BIAS_FREE.contains(model) && products.equals("gradient")
                        ? List.of("rule", "zennit") : List.of("rule")) {
                    Set<String> composites = specs(all, model, bias, products, "composite");
                    Set<String> rules = specs(all, model, bias, products, "rule");
                    String what = model + " conv_bias=" + bias + " products=" + products;
                    assertEquals(new TreeSet<>(COMPOSITES), composites, what + ": composites");
                    assertEquals(new TreeSet<>(RULES), rules, what + ": uniform rules");
                }
            }
            assertTrue(all.stream().anyMatch(c -> c.model().equals(model) && c.init().equals("onehot")),
                    model + ": an onehot case");
            assertTrue(all.stream().anyMatch(c -> c.model().equals(model) && c.init().equals("logit")),
                    model + ": a logit case");
        }
        all.forEach(Case::composite);
    }

    private static Set<String> specs(List<Case> all, String model, String bias, String products, String kind) {
        return all.stream().filter(c -> c.model().equals(model) && c.convBias().equals(bias)
                && c.products().equals(products) && c.kind().equals(kind) && c.init().equals("output"))
                .map(Case::spec).collect(Collectors.toCollection(TreeSet::new));
    }

    /**
     * The products option matters on every gated model: Zennit's result with the gate as a constant differs from its
     * gradient result by far more than either case's tolerance, so the golden cases tell the two modes apart.
     */
    @Test
    void productsModesGiveDifferentGoldens() {
        for (String model : GATED) {
            for (String spec : List.of("epsilon", "epsilon-plus")) {
                Case gradient = find(model, "rule", "gradient", spec);
                Case gate = find(model, "rule", "constant-gate", spec);
                double diff = ZennitGolden.maxAbsDiff(gradient.expected(), gate.expected());
                double tol = Math.max(gradient.tolerance(), gate.tolerance());
                assertTrue(diff > 100 * tol, String.format(Locale.ROOT, "%s %s: products gradient vs constant-gate"
                        + " goldens differ by %.4g, expected > 100 x tolerance %.4g", model, spec, diff, tol));
            }
        }
    }

    /**
     * As for the ResNets: conv_bias zennit and rule differ on a sign-split rule, on every bias-free model, by more
     * than 10 x either tolerance (the zennit cases' tolerances are wide where the unmodified biases make denominators
     * nearly cancel: mnasnet's is 2 % of max|R|, the difference 100 %).
     */
    @Test
    void convBiasModesGiveDifferentGoldens() {
        for (String model : BIAS_FREE) {
            Case zennit = find(model, "zennit", "gradient", "epsilon-alpha2-beta1");
            Case rule = find(model, "rule", "gradient", "epsilon-alpha2-beta1");
            double diff = ZennitGolden.maxAbsDiff(zennit.expected(), rule.expected());
            double tol = Math.max(zennit.tolerance(), rule.tolerance());
            assertTrue(diff > 10 * tol, String.format(Locale.ROOT, "%s epsilon-alpha2-beta1: conv_bias zennit vs"
                    + " rule goldens differ by %.4g, expected > 10 x tolerance %.4g", model, diff, tol));
        }
    }

    private static Case find(String model, String bias, String products, String spec) {
        return ZennitGolden.CNN.cases().stream().filter(c -> c.model().equals(model) && c.convBias().equals(bias)
                && c.products().equals(products) && c.kind().equals("composite") && c.spec().equals(spec)
                && c.init().equals("output")).findFirst().orElseThrow(() -> new AssertionError("no case " + model
                        + " " + bias + " " + products + " " + spec));
    }

    @AfterAll
    static void report() {
        cpu.close();
        ZennitGolden.printReport("ZennitCnnGoldenCpuTest", REPORT);
    }
}
