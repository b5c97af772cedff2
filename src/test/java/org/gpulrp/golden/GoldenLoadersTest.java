// The ONNX importer and the state-dict loader build bit-identical networks from the same PyTorch model.
package org.gpulrp.golden;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.stream.Stream;
import org.gpulrp.BackendChoice;
import org.gpulrp.Explanation;
import org.gpulrp.golden.GoldenRuns.Loader;
import org.gpulrp.model.Dense;
import org.gpulrp.model.Identity;
import org.gpulrp.model.Network;
import org.gpulrp.model.Node;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * For each golden model: the network from {@code model.onnx} and the one from {@code model.pth} + the architecture
 * spec have the same layers with the same weight bits, give the same output bits, and those outputs are torch's
 * (within float32 rounding of a different summation order).
 */
class GoldenLoadersTest {

    @TestFactory
    Stream<DynamicTest> loadersGiveIdenticalNetworks() {
        return GoldenFixtures.models().values().stream().map(m -> DynamicTest.dynamicTest(m.name(), () -> {
            Network onnx = GoldenRuns.network(m, Loader.ONNX);
            Network pth = GoldenRuns.network(m, Loader.STATE_DICT);
            assertEquals(m.inputs().shape()[1], onnx.inputSize(), "ONNX input size");
            assertEquals(m.inputs().shape()[1], pth.inputSize(), "state dict input size");
            assertEquals(m.torchOutputs().shape()[1], onnx.outputSize(), "ONNX output size");
            List<Node> a = layers(onnx);
            List<Node> b = layers(pth);
            assertEquals(a.size(), b.size(), "layers (identity layers aside): " + onnx + "\nvs\n" + pth);
            for (int k = 0; k < a.size(); k++) {
                String what = m.name() + " layer " + k + " (" + a.get(k).name() + " vs " + b.get(k).name() + ")";
                assertEquals(a.get(k).kind(), b.get(k).kind(), what + ": kind");
                if (a.get(k).layer() instanceof Dense da) {
                    Dense db = (Dense) b.get(k).layer();
                    assertEquals(da.in(), db.in(), what + ": in");
                    assertEquals(da.out(), db.out(), what + ": out");
                    GoldenRuns.assertSameBits(what + ": weight", da.weight(), db.weight());
                    GoldenRuns.assertSameBits(what + ": bias", da.bias(), db.bias());
                } else {
                    assertEquals(a.get(k).layer(), b.get(k).layer(), what);
                }
            }
            GoldenFixtures.Case c = GoldenFixtures.cases().stream().filter(x -> x.model().equals(m.name()))
                    .findFirst().orElseThrow();
            Explanation eo = GoldenRuns.explain(c, onnx, BackendChoice.CPU);
            Explanation ep = GoldenRuns.explain(c, pth, BackendChoice.CPU);
            float[] out = eo.outputs().toArray();
            GoldenRuns.assertSameBits(m.name() + ": outputs, ONNX vs state dict", out, ep.outputs().toArray());
            float[] torch = m.torchOutputs().data();
            assertArrayEquals(m.torchOutputs().shape(), eo.outputs().shape(), "output shape");
            for (int k = 0; k < out.length; k++) {
                double err = Math.abs(out[k] - torch[k]);
                assertTrue(err <= 1e-5 * Math.max(1, Math.abs(torch[k])), m.name() + ": output " + k + " is "
                        + out[k] + ", torch computed " + torch[k]);
            }
        }));
    }

    /** The nodes that compute something (an importer may keep ONNX Identity nodes as no-ops). */
    private static List<Node> layers(Network n) {
        return n.nodes().stream().filter(x -> !(x.layer() instanceof Identity)).toList();
    }
}
