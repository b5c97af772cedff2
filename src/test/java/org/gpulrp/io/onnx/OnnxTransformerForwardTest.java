package org.gpulrp.io.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.stream.Stream;
import org.gpulrp.BackendChoice;
import org.gpulrp.Explainer;
import org.gpulrp.GpuLrp;
import org.gpulrp.Target;
import org.gpulrp.Tensor;
import org.gpulrp.io.Npy;
import org.gpulrp.model.Network;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * The engine's forward pass of the imported transformer fixtures (CPU backend): torch's logits to float32 tolerance
 * for all four models, both opsets, sequence lengths 8 and 12 (the same texts padded further); and the logits at the
 * real positions are the same bits at both lengths.
 */
class OnnxTransformerForwardTest {

    /** The engine's outputs for the fixture's inputs packed for {@code net}, one row per sample. */
    static float[][] forward(Network net, String model) {
        float[][] x = TransformerFixtures.inputs(model, net);
        float[] flat = new float[x.length * net.inputSize()];
        for (int b = 0; b < x.length; b++) {
            System.arraycopy(x[b], 0, flat, b * net.inputSize(), net.inputSize());
        }
        try (Explainer ex = GpuLrp.explainer(net).backend(BackendChoice.CPU).build()) {
            float[] y = ex.explain(new Tensor(flat, x.length, net.inputSize()), Target.argmax()).outputs().toArray();
            float[][] out = new float[x.length][net.outputSize()];
            for (int b = 0; b < x.length; b++) {
                System.arraycopy(y, b * net.outputSize(), out[b], 0, net.outputSize());
            }
            return out;
        }
    }

    @TestFactory
    Stream<DynamicTest> everyFixtureGivesTorchsLogits() {
        return TransformerFixtures.eachFixture((f, t) -> {
            String m = TransformerFixtures.model(f);
            TransformerFixtures.assertLogits(f + " T=" + t, m, forward(TransformerFixtures.load(f, t), m));
        });
    }

    /**
     * Padding the texts further changes nothing at their real positions: a classifier's logits, and a language
     * model's logits at each real token, are bit-identical for T = 8 and T = 12.
     */
    @Test
    void realPositionsAreTheSameBitsAtBothLengths() {
        for (String f : TransformerFixtures.files()) {
            String m = TransformerFixtures.model(f);
            if (m.equals("vit")) {
                continue;
            }
            float[][] at8 = forward(TransformerFixtures.load(f, 8), m);
            float[][] at12 = forward(TransformerFixtures.load(f, 12), m);
            Npy.Array mask = Npy.read(TransformerFixtures.DIR.resolve(m + "_attention_mask.npy"));
            int seq = mask.shape()[1];
            for (int b = 0; b < at8.length; b++) {
                int per = m.equals("bert") ? at8[b].length : at8[b].length / 8;
                for (int i = 0; i < at8[b].length; i++) {
                    boolean real = m.equals("bert") || mask.data()[b * seq + i / per] != 0;
                    if (real) {
                        assertEquals(Float.floatToRawIntBits(at8[b][i]), Float.floatToRawIntBits(at12[b][i]),
                                f + " sample " + b + " output " + i + ": " + at8[b][i] + " vs " + at12[b][i]);
                    }
                }
            }
        }
    }
}
