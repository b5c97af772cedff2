package org.gpulrp.io.onnx;


import java.util.stream.Stream;
import org.gpulrp.model.Network;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * What the importer builds of each transformer fixture (both opsets, sequence lengths 8 and 12) computes torch's
 * logits: checked with the test-side {@link Float64Forward}, independent of the engine, so that a wrong mapping shows
 * here as a wrong number and not only as a wrong layer count.
 */
class OnnxTransformerReferenceTest {

    @TestFactory
    Stream<DynamicTest> everyFixtureComputesTorchsLogits() {
        return TransformerFixtures.eachFixture((f, t) -> {
            String m = TransformerFixtures.model(f);
            Network net = TransformerFixtures.load(f, t);
            float[][] x = TransformerFixtures.inputs(m, net);
            double[][] y = new double[x.length][];
            for (int b = 0; b < x.length; b++) {
                y[b] = Float64Forward.forward(net, TransformerFixtures.widen(x[b]));
            }
            TransformerFixtures.assertLogits(f + " T=" + t, m, y);
        });
    }
}
