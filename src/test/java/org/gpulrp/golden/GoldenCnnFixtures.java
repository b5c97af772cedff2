// Reads the convolutional golden fixtures and builds their networks from the ONNX files or from the state dicts.
package org.gpulrp.golden;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.gpulrp.Tensor;
import org.gpulrp.model.ConvGeometry;
import org.gpulrp.io.Npy;
import org.gpulrp.io.onnx.OnnxImporter;
import org.gpulrp.io.torch.StateDict;
import org.gpulrp.model.Conv2d;
import org.gpulrp.model.Network;

/**
 * The convolutional fixtures under {@code src/test/resources/golden/}: {@code cnn_models.txt} (name, ONNX file,
 * state dict, inputs {@code [rows, C, H, W]}, torch's outputs) and {@code cnn_manifest.txt} (cases, as
 * {@code manifest.txt}). The graphs are those of {@code SmallCnn}, {@code ResBlock} and {@code SmallVgg} in
 * {@code scripts/make_golden.py}; {@link Model#fromStateDict()} rebuilds them with {@link Network#builder} from the
 * state dict, folding each batch norm into the convolution before it in double precision (docs/DESIGN.md section 2.5).
 */
final class GoldenCnnFixtures {

    /** One convolutional model of the fixtures. */
    record Model(String name, Path onnx, Path stateDict, Npy.Array inputs, Npy.Array torchOutputs) {
        Network fromOnnx() {
            return OnnxImporter.load(onnx);
        }

        Network fromStateDict() {
            return build(name, StateDict.read(stateDict));
        }

        Tensor inputTensor() {
            return new Tensor(inputs.data(), inputs.shape());
        }
    }

    private static Map<String, Model> models;
    private static final Map<String, Network> NETWORKS = new ConcurrentHashMap<>();

    private GoldenCnnFixtures() {
    }

    /** Every model, in file order. */
    static synchronized Map<String, Model> models() {
        if (models == null) {
            Map<String, Model> m = new LinkedHashMap<>();
            for (String[] f : GoldenFixtures.table("cnn_models.txt", 5)) {
                m.put(f[0], new Model(f[0], GoldenFixtures.resource(f[1]), GoldenFixtures.resource(f[2]),
                        Npy.read(GoldenFixtures.resource(f[3])), Npy.read(GoldenFixtures.resource(f[4]))));
            }
            models = Collections.unmodifiableMap(m);
        }
        return models;
    }

    static Model model(String name) {
        Model m = models().get(name);
        if (m == null) {
            throw new IllegalStateException("cnn_manifest.txt names unknown model " + name);
        }
        return m;
    }

    /** Every case, in file order. */
    static List<GoldenFixtures.Case> cases() {
        List<GoldenFixtures.Case> cs = new ArrayList<>();
        for (String[] f : GoldenFixtures.table("cnn_manifest.txt", 6)) {
            cs.add(new GoldenFixtures.Case(f[0], f[1], f[2], f[3], f[4], f[5]));
        }
        return cs;
    }

    /** The model's network from a loader; cached. */
    static Network network(Model m, GoldenRuns.Loader loader) {
        return NETWORKS.computeIfAbsent(m.name() + "/" + loader,
                k -> loader == GoldenRuns.Loader.ONNX ? m.fromOnnx() : m.fromStateDict());
    }

    /** The graph of the named model of {@code make_golden.py}, with the state dict's tensors. */
    static Network build(String name, StateDict sd) {
        switch (name) {
            case "cnn_a": {
                Network.Builder b = Network.builder(name, 1, 8, 8);
                b.conv2d("conv1", 4, 3, 1, 1, w(sd, "conv1.weight"), w(sd, "conv1.bias")).relu("relu1");
                b.conv2d("conv2", 6, 3, 2, 1, w(sd, "conv2.weight"), w(sd, "conv2.bias")).relu("relu2");
                b.maxPool2d("pool", 2, 2).flatten("flatten");
                return b.dense("fc", 5, w(sd, "fc.weight"), w(sd, "fc.bias")).build();
            }
            case "cnn_b": {
                Network.Builder b = Network.builder(name, 2, 8, 8);
                b.conv2d("conv0", 6, 3, 1, 1, w(sd, "conv0.weight"), w(sd, "conv0.bias")).relu("relu0");
                float[][] c1 = foldBatchNorm(sd, "conv1", "bn1");
                b.conv2d("conv1", 6, 3, 1, 1, c1[0], c1[1]).relu("relu1");
                float[][] c2 = foldBatchNorm(sd, "conv2", "bn2");
                b.conv2d("conv2", 6, 3, 1, 1, c2[0], c2[1]);
                b.sum("add", "conv2", "relu0").relu("relu2").globalAvgPool("gap").flatten("flatten");
                return b.dense("fc", 3, w(sd, "fc.weight"), w(sd, "fc.bias")).build();
            }
            case "cnn_c": {
                Network.Builder b = Network.builder(name, 3, 8, 8);
                b.conv2d("conv1", 4, 3, 1, 1, w(sd, "conv1.weight"), w(sd, "conv1.bias")).relu("relu1");
                b.conv2d("conv2", 4, 3, 1, 1, w(sd, "conv2.weight"), w(sd, "conv2.bias")).relu("relu2");
                b.maxPool2d("pool1", 2, 2);
                // 4x4x4 -> 6x4x4: kernel 3, padding 2, dilation 2
                b.add("conv3", new Conv2d(new ConvGeometry(4, 4, 4, 6, 3, 3, 1, 1, 2, 2, 2, 2, 1),
                        w(sd, "conv3.weight"), w(sd, "conv3.bias"))).relu("relu3");
                // 6x4x4 -> 6x4x4: kernel 3, padding 1, two groups
                b.add("conv4", new Conv2d(new ConvGeometry(6, 4, 4, 6, 3, 3, 1, 1, 1, 1, 1, 1, 2),
                        w(sd, "conv4.weight"), w(sd, "conv4.bias"))).relu("relu4");
                b.maxPool2d("pool2", 2, 2).globalAvgPool("gap").flatten("flatten");
                b.dense("fc1", 8, w(sd, "fc1.weight"), w(sd, "fc1.bias")).relu("relu5");
                return b.dense("fc2", 4, w(sd, "fc2.weight"), w(sd, "fc2.bias")).build();
            }
            default:
                throw new IllegalStateException("cnn_models.txt names " + name + ", which GoldenCnnFixtures cannot"
                        + " build; add its graph here as in scripts/make_golden.py");
        }
    }

    private static float[] w(StateDict sd, String key) {
        return sd.get(key).data();
    }

    /**
     * The convolution {@code conv} with the batch norm {@code bn} after it folded in, in double precision:
     * {@code s = gamma / sqrt(var + 1e-5)}, {@code W' = W * s} per output channel, {@code b' = (b - mean) * s + beta}.
     */
    static float[][] foldBatchNorm(StateDict sd, String conv, String bn) {
        float[] weight = w(sd, conv + ".weight");
        float[] bias = w(sd, conv + ".bias");
        float[] gamma = w(sd, bn + ".weight");
        float[] beta = w(sd, bn + ".bias");
        float[] mean = w(sd, bn + ".running_mean");
        float[] var = w(sd, bn + ".running_var");
        int out = bias.length;
        int per = weight.length / out;
        float[] fw = new float[weight.length];
        float[] fb = new float[out];
        for (int o = 0; o < out; o++) {
            double s = gamma[o] / Math.sqrt((double) var[o] + 1e-5);
            for (int k = 0; k < per; k++) {
                fw[o * per + k] = (float) (weight[o * per + k] * s);
            }
            fb[o] = (float) (((double) bias[o] - mean[o]) * s + beta[o]);
        }
        return new float[][] {fw, fb};
    }
}
