package org.gpulrp.io.torch;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.gpulrp.BackendChoice;
import org.gpulrp.GpuLrp;
import org.gpulrp.InvalidArgumentException;
import org.gpulrp.ShapeMismatchException;
import org.gpulrp.Target;
import org.gpulrp.io.Npy;
import org.gpulrp.io.onnx.OnnxImporter;
import org.gpulrp.model.BatchNorm;
import org.gpulrp.model.Conv2d;
import org.gpulrp.model.Network;
import org.junit.jupiter.api.Test;

/** Convolutional architecture specs bound to state dicts give the same networks as the ONNX exports. */
class ArchitectureCnnTest {
    private static final Path DIGITS = Path.of("examples/digits");
    private static final Path FIXTURES = Path.of("src/test/resources/onnx-cnn");
    static final String DIGITS_SPEC =
            "conv1:conv2d(padding=1),relu,conv2:conv2d(padding=1),relu,maxpool2d(2),flatten,fc1:linear,relu,fc2:linear";

    private static float[][] rows(Npy.Array a) {
        int n = a.shape()[0];
        int w = a.data().length / n;
        float[][] x = new float[n][w];
        for (int i = 0; i < n; i++) {
            System.arraycopy(a.data(), i * w, x[i], 0, w);
        }
        return x;
    }

    private static float[] outputs(Network net, float[][] x) {
        try (var ex = GpuLrp.explainer(net).backend(BackendChoice.CPU).build()) {
            return ex.explain(x, Target.argmax()).outputs().toArray();
        }
    }

    private static int[] bits(float[] v) {
        int[] b = new int[v.length];
        for (int i = 0; i < v.length; i++) {
            b[i] = Float.floatToRawIntBits(v[i]);
        }
        return b;
    }

    @Test
    void digitsStateDictEqualsTheOnnxNetworkBitForBit() {
        Network pth = Architecture.parse(DIGITS_SPEC).bind(StateDict.read(DIGITS.resolve("model_weights.pth")), 1, 8,
                8);
        Network onnx = OnnxImporter.load(DIGITS.resolve("model.onnx"));
        assertEquals(onnx.nodes().size(), pth.nodes().size());
        for (String c : new String[] {"conv1", "conv2"}) {
            assertEquals(onnx.node(c).layer(), pth.node(c).layer(), c);
        }
        float[][] x = rows(Npy.read(DIGITS.resolve("images.npy")));
        assertArrayEquals(bits(outputs(onnx, x)), bits(outputs(pth, x)));
    }

    @Test
    void batchNormIsFoldedAndMatchesTorch() {
        Network net = Architecture.parse("conv:conv2d(padding=1),bn:batchnorm2d,relu,maxpool2d(2),flatten,fc:linear")
                .bind(StateDict.read(FIXTURES.resolve("convbn.pth")), 2, 6, 6);
        assertTrue(net.nodes().stream().noneMatch(n -> n.layer() instanceof BatchNorm));
        assertTrue(net.node("conv").layer() instanceof Conv2d);
        float[] y = outputs(net, rows(Npy.read(FIXTURES.resolve("convbn_input.npy"))));
        float[] expected = Npy.read(FIXTURES.resolve("convbn_output.npy")).data();
        for (int i = 0; i < y.length; i++) {
            assertEquals(expected[i], y[i], 1e-5 * Math.max(1, Math.abs(expected[i])), "output " + i);
        }
    }

    @Test
    void specRoundTripsAndBadSpecsSayWhatIsWrong() {
        assertEquals("c:conv2d(stride=2,padding=1,groups=2),maxpool2d1:maxpool2d(3,2),avgpool2d:avgpool2d(2),"
                + "globalavgpool:globalavgpool,flatten:flatten,fc:linear", Architecture.parse(
                "c:conv2d(stride=2,padding=1,groups=2),maxpool2d(3,2),avgpool2d(2),globalavgpool,flatten,fc:linear")
                .toString().replace("maxpool2d:maxpool2d", "maxpool2d1:maxpool2d"));
        String[][] cases = {
            {"c:conv2d(size=3),fc:linear", "unknown conv2d argument 'size'"},
            {"c:conv2d(stride=0)", "stride=0"},
            {"maxpool2d,fc:linear", "give the window size"},
            {"conv2d(padding=1)", "needs a name"},
            {"c:conv2d(padding=1", "unbalanced"},
            {"flatten(2),fc:linear", "takes no arguments"},
        };
        for (String[] c : cases) {
            InvalidArgumentException e = assertThrows(InvalidArgumentException.class, () -> Architecture.parse(c[0]),
                    c[0]);
            assertTrue(e.getMessage().contains(c[1]), c[0] + " -> " + e.getMessage());
        }
        StateDict sd = StateDict.read(DIGITS.resolve("model_weights.pth"));
        InvalidArgumentException noShape = assertThrows(InvalidArgumentException.class,
                () -> Architecture.parse(DIGITS_SPEC).bind(sd));
        assertTrue(noShape.getMessage().contains("C, H, W"), noShape.getMessage());
        ShapeMismatchException wrongChannels = assertThrows(ShapeMismatchException.class,
                () -> Architecture.parse(DIGITS_SPEC).bind(sd, 3, 8, 8));
        assertTrue(wrongChannels.getMessage().contains("conv1.weight"), wrongChannels.getMessage());
        ShapeMismatchException noFlatten = assertThrows(ShapeMismatchException.class, () -> Architecture.parse(
                DIGITS_SPEC.replace("flatten,", "")).bind(sd, 1, 8, 8));
        assertTrue(noFlatten.getMessage().contains("flatten"), noFlatten.getMessage());
    }
}
