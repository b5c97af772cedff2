// Convolutional golden cases on the CPU path: the networks rebuilt from the state dicts and loaded from ONNX.
package org.gpulrp.golden;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.gpulrp.BackendChoice;
import org.gpulrp.Explanation;
import org.gpulrp.golden.GoldenRuns.Loader;
import org.gpulrp.io.ModelFormatException;
import org.gpulrp.model.Network;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Every case of {@code golden/cnn_manifest.txt} (float64 numpy LRP over explicit convolution, pooling, batch-norm and
 * residual matrices, checked against torch autograd by {@code scripts/make_golden.py}) on the CPU backend, within
 * 1e-4 x max|R| per sample: the network built from the state dict (batch norm folded here in double) and the ONNX
 * file, which for the models without batch norm must also give the state-dict network's bits.
 */
class GoldenCnnCpuTest {

    /**
     * The ONNX network, or a loud skip while the importer rejects an operator as not supported yet (convolutions
     * and pooling arrive in the importer with issue 4); any other failure fails the test.
     */
    static Network onnxOrSkip(GoldenCnnFixtures.Model m) {
        try {
            return GoldenCnnFixtures.network(m, Loader.ONNX);
        } catch (ModelFormatException e) {
            String msg = String.valueOf(e.getMessage());
            Assumptions.assumeFalse(msg.contains("not supported yet"),
                    "SKIPPED: the ONNX importer cannot load " + m.onnx().getFileName() + " of " + m.name() + " yet: "
                            + msg);
            throw e;
        }
    }

    @TestFactory
    Stream<DynamicTest> stateDictNetworkMatchesReference() {
        return GoldenCnnFixtures.cases().stream().map(c -> DynamicTest.dynamicTest(c.toString(), () -> {
            GoldenCnnFixtures.Model m = GoldenCnnFixtures.model(c.model());
            Explanation got = GoldenRuns.explain(c, GoldenCnnFixtures.network(m, Loader.STATE_DICT),
                    BackendChoice.CPU, m.inputTensor());
            GoldenRuns.assertMatchesFixture(c + " [CPU, state dict]", c, got, m.torchOutputs());
        }));
    }

    @TestFactory
    Stream<DynamicTest> onnxNetworkMatchesReferenceAndStateDictBits() {
        return GoldenCnnFixtures.cases().stream().map(c -> DynamicTest.dynamicTest(c.toString(), () -> {
            GoldenCnnFixtures.Model m = GoldenCnnFixtures.model(c.model());
            Explanation onnx = GoldenRuns.explain(c, onnxOrSkip(m), BackendChoice.CPU, m.inputTensor());
            GoldenRuns.assertMatchesFixture(c + " [CPU, ONNX]", c, onnx, m.torchOutputs());
            if (!m.name().equals("cnn_b")) {
                // no batch norm: both loaders hold the same float32 weights, so the same bits; cnn_b's ONNX file
                // has torch's own float32 folding, the state-dict network the double folding of this test
                Explanation pth = GoldenRuns.explain(c, GoldenCnnFixtures.network(m, Loader.STATE_DICT),
                        BackendChoice.CPU, m.inputTensor());
                GoldenRuns.assertSameBits(c + ": CPU relevance, ONNX vs state dict", pth.relevance().toArray(),
                        onnx.relevance().toArray());
            }
        }));
    }

    /** The fixtures cover what issue 4 asks for; an emptied or truncated manifest fails here. */
    @Test
    void manifestCoversEveryPresetAndTheRules() {
        List<GoldenFixtures.Case> cases = GoldenCnnFixtures.cases();
        Set<String> rules = cases.stream().filter(c -> c.kind().equals("rule")).map(GoldenFixtures.Case::spec)
                .collect(Collectors.toCollection(TreeSet::new));
        Set<String> presets = cases.stream().filter(c -> c.kind().equals("composite"))
                .map(GoldenFixtures.Case::spec).collect(Collectors.toCollection(TreeSet::new));
        assertEquals(new TreeSet<>(List.of("epsilon", "zplus", "gamma:0.25", "alpha-beta:2,1")), rules);
        assertEquals(new TreeSet<>(List.of("epsilon-plus", "epsilon-alpha2-beta1", "epsilon-plus-flat",
                "epsilon-alpha2-beta1-flat", "epsilon-gamma-box:-3,3")), presets);
        assertEquals(Set.of("cnn_a", "cnn_b", "cnn_c"), GoldenCnnFixtures.models().keySet());
        for (String model : GoldenCnnFixtures.models().keySet()) {
            long n = cases.stream().filter(c -> c.model().equals(model) && c.init().equals("output")
                    && c.target().equals("argmax")).count();
            assertEquals(rules.size() + presets.size(), n, model + ": cases");
        }
        cases.forEach(GoldenFixtures.Case::composite);
    }
}
