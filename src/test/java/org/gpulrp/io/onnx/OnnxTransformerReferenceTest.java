package org.gpulrp.io.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;

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
            float[][] want = TransformerFixtures.logits(m);
            assertEquals(want.length, x.length, f);
            for (int b = 0; b < x.length; b++) {
                double[] in = new double[x[b].length];
                for (int i = 0; i < in.length; i++) {
                    in[i] = x[b][i];
                }
                double[] y = Float64Forward.forward(net, in);
                TransformerFixtures.assertClose(f + " T=" + t + " sample " + b, want[b], y);
            }
        });
    }
}
