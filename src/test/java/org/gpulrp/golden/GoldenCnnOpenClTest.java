// Convolutional golden cases on OpenCL: against the float64 reference and bit for bit against the CPU path.
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
import org.junit.jupiter.api.TestFactory;

/**
 * Every case of {@code golden/cnn_manifest.txt} on the default OpenCL device: within 1e-4 x max|R| of the fixture
 * and the same bits as the CPU path (relevance and outputs), for the network built from the state dict and, once the
 * importer reads them, the ONNX file. Skipped loudly where no OpenCL platform exists (failed under CI).
 */
class GoldenCnnOpenClTest {

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

    private static void check(GoldenFixtures.Case c, Network net, String loader) {
        GoldenCnnFixtures.Model m = GoldenCnnFixtures.model(c.model());
        String what = c + " [OpenCL, " + loader + "]";
        Explanation cl = GoldenRuns.explain(c, net, device, m.inputTensor());
        GoldenRuns.assertMatchesFixture(what, c, cl, m.torchOutputs());
        Explanation cpu = GoldenRuns.explain(c, net, BackendChoice.CPU, m.inputTensor());
        GoldenRuns.assertSameBits(what + ": relevance, CPU vs OpenCL", cpu.relevance().toArray(),
                cl.relevance().toArray());
        GoldenRuns.assertSameBits(what + ": outputs, CPU vs OpenCL", cpu.outputs().toArray(), cl.outputs().toArray());
    }

    @TestFactory
    Stream<DynamicTest> stateDictNetworkOnOpenClMatchesReferenceAndCpuBits() {
        return GoldenCnnFixtures.cases().stream().map(c -> DynamicTest.dynamicTest(c.toString(), () -> check(c,
                GoldenCnnFixtures.network(GoldenCnnFixtures.model(c.model()), Loader.STATE_DICT), "state dict")));
    }

    @TestFactory
    Stream<DynamicTest> onnxNetworkOnOpenClMatchesReferenceAndCpuBits() {
        return GoldenCnnFixtures.cases().stream().map(c -> DynamicTest.dynamicTest(c.toString(), () -> check(c,
                GoldenCnnCpuTest.onnxOrSkip(GoldenCnnFixtures.model(c.model())), "ONNX")));
    }
}
