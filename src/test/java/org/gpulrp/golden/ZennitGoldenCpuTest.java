// Zennit's own relevances (scripts/make_zennit_golden.py) reproduced by gpulrp's CPU path.
package org.gpulrp.golden;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import org.gpulrp.backend.cpu.CpuBackend;
import org.gpulrp.golden.ZennitGolden.Case;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every case of {@code zennit/manifest.txt} on the CPU backend: torchvision-shaped ResNets (BasicBlock, Bottleneck),
 * VGG with and without BatchNorm (and a final Softmax), and a channel-concatenation block, exported to ONNX by torch,
 * explained with the composite or uniform rule, initial relevance, conv-bias mode and per-sample targets of the case.
 * Tolerance: {@code max |R_gpulrp - R_zennit64| <= 4 gap + 1e-4 max|R_zennit64|} over the case, where gap is
 * {@code max |R_zennit32 - R_zennit64|}, Zennit's own float32 error on that case.
 */
class ZennitGoldenCpuTest {

    private static final Map<String, String> REPORT = new ConcurrentHashMap<>();
    /** One CPU backend (and its thread pool) for every case. */
    private static CpuBackend cpu;

    @BeforeAll
    static void open() {
        cpu = new CpuBackend();
    }

    static Stream<Case> cases() {
        return ZennitGolden.ZENNIT.cases().stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void cpuMatchesZennit(Case c) {
        ZennitGolden.checkOnCpu(c, cpu, REPORT, 70);
    }

    /**
     * The ResNet bias quirk matters: for rn18 with epsilon-alpha2-beta1 (a sign-split rule), Zennit's result on the
     * model as built (merged BatchNorm bias unmodified, {@code ConvBias.ZENNIT}) differs from its result where the
     * convolutions have registered biases ({@code ConvBias.RULE}) by far more than either case's tolerance, so the
     * golden cases above really tell the two modes apart.
     */
    @Test
    void resNetConvBiasModesGiveDifferentGoldens() {
        Case zennit = find("rn18", "zennit", "epsilon-alpha2-beta1");
        Case rule = find("rn18", "rule", "epsilon-alpha2-beta1");
        double diff = ZennitGolden.maxAbsDiff(zennit.expected(), rule.expected());
        double tol = Math.max(zennit.tolerance(), rule.tolerance());
        assertTrue(diff > 100 * tol, String.format(Locale.ROOT, "rn18 epsilon-alpha2-beta1: conv_bias zennit vs rule"
                + " goldens differ by %.4g, expected > 100 x tolerance %.4g", diff, tol));
    }

    private static Case find(String model, String bias, String spec) {
        return ZennitGolden.ZENNIT.cases().stream().filter(c -> c.model().equals(model)
                && c.onnx().equals(model + ".onnx") && c.convBias().equals(bias) && c.kind().equals("composite")
                && c.spec().equals(spec) && c.init().equals("output")).findFirst().orElseThrow();
    }

    @AfterAll
    static void report() {
        cpu.close();
        ZennitGolden.printReport("ZennitGoldenCpuTest", REPORT);
    }
}
