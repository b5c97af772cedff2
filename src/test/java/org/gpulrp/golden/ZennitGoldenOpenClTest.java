// Zennit's own relevances on OpenCL (both suites): within the tolerance of the float64 reference and bit for bit the
// CPU path.
package org.gpulrp.golden;

import java.util.stream.Stream;
import org.gpulrp.Explanation;
import org.gpulrp.backend.cpu.CpuBackend;
import org.gpulrp.backend.opencl.OpenClBackend;
import org.gpulrp.golden.ZennitGolden.Case;
import org.gpulrp.testing.OpenClTestSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every case of {@code zennit/manifest.txt} and {@code zennit-cnn/manifest.txt} on the default OpenCL device: the
 * forward pass and the relevance within the tolerances of {@link ZennitGoldenCpuTest} and
 * {@link ZennitCnnGoldenCpuTest}, and the same bits ({@code Float.floatToRawIntBits}) as the CPU path for the
 * relevance and the outputs (the CPU results of those tests where they ran first in this JVM, else computed here). Skipped loudly where no
 * OpenCL platform exists (failed under CI=true).
 */
class ZennitGoldenOpenClTest {

    private static OpenClBackend device;
    private static CpuBackend cpu;

    @BeforeAll
    static void open() {
        device = OpenClTestSupport.openOrSkip();
        cpu = new CpuBackend();
    }

    @AfterAll
    static void close() {
        if (device != null) {
            device.close();
            device = null;
        }
        if (cpu != null) {
            cpu.close();
            cpu = null;
        }
    }

    static Stream<Case> cases() {
        return Stream.concat(ZennitGolden.ZENNIT.cases().stream(), ZennitGolden.CNN.cases().stream());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void openClMatchesZennitAndCpuBits(Case c) {
        String what = c + " [OpenCL]";
        Explanation cl = ZennitGolden.explain(c, ZennitGolden.explainer(c).backend(device));
        ZennitGolden.assertMatchesZennit(what, c, cl);
        float[][] onCpu = ZennitGolden.cpu(c, cpu);
        GoldenRuns.assertSameBits(what + ": relevance, CPU vs OpenCL", onCpu[0], cl.relevance().toArray());
        GoldenRuns.assertSameBits(what + ": outputs, CPU vs OpenCL", onCpu[1], cl.outputs().toArray());
    }
}
