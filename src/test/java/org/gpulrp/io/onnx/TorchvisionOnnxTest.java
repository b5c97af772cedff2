package org.gpulrp.io.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import org.gpulrp.BackendChoice;
import org.gpulrp.GpuLrp;
import org.gpulrp.Target;
import org.gpulrp.Tensor;
import org.gpulrp.io.Npy;
import org.gpulrp.model.Network;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * The torchvision-style VGG and ResNet exports of {@code scripts/make_torchvision_fixtures.py} (every export variant
 * listed in {@code torchvision/models.txt}: opsets 11/13/17, dynamic or fixed batch, constant folding on or off,
 * BatchNorm kept or fused by the exporter, {@code torch.flatten} or {@code x.view(x.size(0), -1)}) import and give
 * torch's float64 forward output within 1e-4 of the sample's largest |logit|.
 */
class TorchvisionOnnxTest {
    static final Path DIR = Path.of("src/test/resources/torchvision");
    /** Forward tolerance, relative to the sample's largest |logit| in torch's float64 output. */
    static final double TOLERANCE = 1e-4;
    private static final Map<String, Network> NETWORKS = new ConcurrentHashMap<>();

    /** The ONNX files of models.txt. */
    static List<String> files() {
        return listed(DIR);
    }

    /** The ONNX files listed in {@code dir/models.txt} (blank lines and # comments skipped). */
    static List<String> listed(Path dir) {
        try (Stream<String> lines = Files.lines(dir.resolve("models.txt"))) {
            return lines.map(String::strip).filter(l -> !l.isEmpty() && !l.startsWith("#")).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The reference model a file belongs to: the name before the first '-'. */
    static String model(String file) {
        return file.substring(0, file.indexOf('-'));
    }

    static Network network(String file) {
        return NETWORKS.computeIfAbsent(file, f -> OnnxImporter.load(DIR.resolve(f)));
    }

    static Tensor inputs(String model) {
        Npy.Array a = Npy.read(DIR.resolve(model + "_input.npy"));
        return new Tensor(a.data(), a.shape());
    }

    static double[] reference(String model) {
        Npy.Array a = Npy.read(DIR.resolve(model + "_output.npy"));
        double[] d = new double[a.data().length];
        for (int i = 0; i < d.length; i++) {
            d[i] = a.data()[i];
        }
        return d;
    }

    static float[] forward(Network net, Tensor x) {
        try (var ex = GpuLrp.explainer(net).backend(BackendChoice.CPU).build()) {
            return ex.explain(x, Target.argmax()).outputs().toArray();
        }
    }

    @TestFactory
    Stream<DynamicTest> everyExportMatchesTorchsForwardOutput() {
        return files().stream().map(f -> DynamicTest.dynamicTest(f, () -> {
            String m = model(f);
            Tensor x = inputs(m);
            float[] y = forward(network(f), x);
            double[] want = reference(m);
            assertEquals(want.length, y.length, f + ": output size");
            int rows = x.shape()[0];
            int cols = want.length / rows;
            for (int b = 0; b < rows; b++) {
                double max = 0;
                for (int j = 0; j < cols; j++) {
                    max = Math.max(max, Math.abs(want[b * cols + j]));
                }
                for (int j = 0; j < cols; j++) {
                    double err = Math.abs(y[b * cols + j] - want[b * cols + j]);
                    if (!(err <= TOLERANCE * max)) {
                        fail(String.format("%s: sample %d logit %d: torch %.9g, gpulrp %.9g (|error| %.3g > %.0e x %.3g)",
                                f, b, j, want[b * cols + j], y[b * cols + j], err, TOLERANCE, max));
                    }
                }
            }
        }));
    }

    @Test
    void listingCoversEveryModelAndVariantKind() {
        List<String> fs = files();
        for (String m : new String[] {"vgg-", "vgg_bn-", "resnet18-", "resnet18-view-", "resnet50-"}) {
            assertTrue(fs.stream().anyMatch(f -> f.startsWith(m)), m);
        }
        for (String v : new String[] {"-o11-", "-o13-", "-o17-", "-dyn-", "-static-", "-fold", "-nofold", "-keepbn"}) {
            assertTrue(fs.stream().anyMatch(f -> f.contains(v)), v);
        }
        for (String f : fs) {
            assertTrue(Files.isRegularFile(DIR.resolve(f)), f);
        }
    }
}
