// Golden cases on OpenCL: both loaders against the float64 reference and bit for bit against the CPU path.
package org.gpulrp.golden;

import java.util.stream.Stream;
import org.gpulrp.BackendChoice;
import org.gpulrp.Explanation;
import org.gpulrp.backend.opencl.OpenClBackend;
import org.gpulrp.golden.GoldenRuns.Loader;
import org.gpulrp.model.Network;
import org.gpulrp.testing.OpenClTestSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Every case of {@code golden/manifest.txt} on the default OpenCL device, from both loaders: within 1e-4 x max|R| of
 * the fixture and the same bits as the CPU path. Skipped loudly where no OpenCL platform exists (failed under CI).
 * One device is opened for all cases; {@link #backendChoiceOpenClGivesTheSameBits()} covers the by-name path.
 */
class GoldenOpenClTest {

    private static OpenClBackend device;

    @BeforeAll
    static void open() {
        device = OpenClTestSupport.openOrSkip();
    }

    @AfterAll
    static void close() {
        if (device != null) {
            device.close();
            device = null;
        }
    }

    @TestFactory
    Stream<DynamicTest> openClMatchesReferenceAndCpuBits() {
        return GoldenFixtures.cases().stream().map(c -> DynamicTest.dynamicTest(c.toString(), () -> {
            GoldenFixtures.Model m = GoldenFixtures.model(c.model());
            for (Loader loader : Loader.values()) {
                Network net = GoldenRuns.network(m, loader);
                String what = c + " [OpenCL, " + loader + "]";
                Explanation cl = GoldenRuns.explain(c, net, device);
                GoldenRuns.assertMatchesFixture(what, c, cl);
                Explanation cpu = GoldenRuns.explain(c, net, BackendChoice.CPU);
                GoldenRuns.assertSameBits(what + ": relevance, CPU vs OpenCL", cpu.relevance().toArray(),
                        cl.relevance().toArray());
                GoldenRuns.assertSameBits(what + ": outputs, CPU vs OpenCL", cpu.outputs().toArray(),
                        cl.outputs().toArray());
            }
        }));
    }

    @Test
    void backendChoiceOpenClGivesTheSameBits() {
        GoldenFixtures.Case c = GoldenFixtures.cases().stream()
                .filter(x -> x.spec().startsWith("epsilon-gamma-box") && x.init().equals("output"))
                .findFirst().orElseThrow();
        Network net = GoldenRuns.network(GoldenFixtures.model(c.model()), Loader.ONNX);
        Explanation byName = GoldenRuns.explain(c, net, BackendChoice.OPENCL);
        GoldenRuns.assertMatchesFixture(c + " [BackendChoice.OPENCL]", c, byName);
        GoldenRuns.assertSameBits(c + ": BackendChoice.OPENCL vs the shared device", GoldenRuns.explain(c, net,
                device).relevance().toArray(), byName.relevance().toArray());
    }
}
