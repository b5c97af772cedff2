package org.gpulrp.fuzz;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.gpulrp.BackendChoice;
import org.gpulrp.Explainer;
import org.gpulrp.ShapeMismatchException;
import org.gpulrp.Target;
import org.gpulrp.Tensor;
import org.gpulrp.io.Csv;
import org.gpulrp.io.FormatException;
import org.gpulrp.io.Npy;
import org.gpulrp.io.image.Images;
import org.gpulrp.io.image.Preprocess;
import org.gpulrp.io.onnx.OnnxImporter;
import org.gpulrp.io.torch.Architecture;
import org.gpulrp.io.torch.StateDict;
import org.gpulrp.model.Network;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every file reader against seeded mutants of the real fixtures (see {@link FuzzRunner} for the rules and the
 * properties; RELIABILITY.md for the budget). Run longer with {@code mvn test -Dtest='Fuzz*'
 * -Dgpulrp.fuzz.seconds=600}.
 */
class FuzzReadersTest {
    private static final Path RES = Path.of("src/test/resources");

    @TempDir
    Path tmp;

    private static List<byte[]> seeds(String... dirsAndSuffix) {
        List<byte[]> out = new ArrayList<>();
        String suffix = dirsAndSuffix[dirsAndSuffix.length - 1];
        for (int k = 0; k < dirsAndSuffix.length - 1; k++) {
            out.addAll(FuzzRunner.files(Path.of(dirsAndSuffix[k]), suffix));
        }
        return out;
    }

    /** Activations (summed over the layers) up to which a loaded network is also explained once. */
    private static final long EXPLAIN_BUDGET = 1L << 18;

    /**
     * Explains one random sample on the CPU backend: a network the importer accepted must be usable. Skipped for
     * networks whose layers hold more than {@link #EXPLAIN_BUDGET} values per sample (a mutated but valid input
     * shape can make a network legitimately large, and slow to explain).
     */
    private static void explainOnce(Network net) {
        if (net.nodes().stream().mapToLong(n -> n.outputSize()).sum() > EXPLAIN_BUDGET) {
            return;
        }
        int[] shape = net.inputShape();
        int[] batch = new int[shape.length + 1];
        batch[0] = 1;
        System.arraycopy(shape, 0, batch, 1, shape.length);
        float[] x = new float[net.inputSize()];
        Random r = new Random(1);
        for (int k = 0; k < x.length; k++) {
            x[k] = (float) r.nextGaussian();
        }
        try (Explainer e = Explainer.builder(net).backend(BackendChoice.CPU).cpuThreads(1).build()) {
            e.explain(new Tensor(x, batch), Target.argmax());
        }
    }

    @Test
    void npy() throws Exception {
        List<byte[]> seeds = seeds(RES + "/npy", RES + "/images", RES + "/golden/mlp7", RES + "/onnx-cnn",
                "examples/breast-cancer", ".npy");
        new FuzzRunner<Npy.Array>("npy", ".npy", seeds, (r, s, all) -> Mutator.havoc(r, s, all, 4),
                (in, f) -> Npy.read(f), a -> assertTrue(a.data().length == Arrays.stream(a.shape())
                        .asLongStream().reduce(1, (p, q) -> p * q))).run(tmp);
    }

    @Test
    void csv() throws Exception {
        new FuzzRunner<Csv.Table>("csv", ".csv", seeds("examples/breast-cancer", "examples/digits", ".csv"),
                (r, s, all) -> Mutator.havoc(r, s, all, 4), (in, f) -> Csv.read(f), t -> {
                    for (float[] row : t.rows()) {
                        assertTrue(row.length == t.columns().size());
                    }
                }).run(tmp);
    }

    @Test
    void onnx() throws Exception {
        List<byte[]> seeds = seeds(RES + "/golden", RES + "/onnx-cnn", "examples", ".onnx");
        // one seed keeps a weight in an external file beside the model, so that path is fuzzed too
        byte[][] data = new byte[1][];
        byte[] external = ProtoMutator.externalize(Files.readAllBytes(Path.of(RES + "/golden/mlp7/model.onnx")),
                "weights.bin", data);
        Files.write(tmp.resolve("weights.bin"), data[0]);
        assertTrue(OnnxImporter.load(Files.write(tmp.resolve("external.onnx"), external)).outputSize() > 0);
        seeds.add(external);
        new FuzzRunner<Network>("onnx", ".onnx", seeds,
                (r, s, all) -> r.nextInt(5) < 3 ? ProtoMutator.mutate(r, s, all) : Mutator.havoc(r, s, all, 3),
                (in, f) -> OnnxImporter.load(f), FuzzReadersTest::explainOnce).run(tmp);
    }

    @Test
    void stateDict() throws Exception {
        List<byte[]> seeds = seeds(RES + "/golden", RES + "/torch", RES + "/onnx-cnn", "examples", ".pth");
        Architecture mlp = Architecture.parse("fc1:linear,relu,fc2:linear,relu,fc3:linear");
        new FuzzRunner<StateDict>("pth", ".pth", seeds,
                (r, s, all) -> r.nextInt(3) < 2 ? ZipMutator.mutate(r, s, all) : Mutator.havoc(r, s, all, 3),
                (in, f) -> StateDict.read(f), sd -> {
                    Network net;
                    try {
                        net = mlp.bind(sd); // documented refusals of bind: a missing/unused tensor, bad shapes
                    } catch (FormatException | ShapeMismatchException e) {
                        return;
                    }
                    explainOnce(net);
                }).run(tmp);
    }

    @Test
    void safetensors() throws Exception {
        List<byte[]> seeds = seeds(RES + "/torch", ".safetensors");
        new FuzzRunner<StateDict>("safetensors", ".safetensors", seeds,
                (r, s, all) -> r.nextInt(3) < 2 ? header(r, s, all) : Mutator.havoc(r, s, all, 3),
                (in, f) -> StateDict.read(f), sd -> sd.tensors().values().forEach(a -> assertTrue(
                        a.data().length == Arrays.stream(a.shape()).asLongStream().reduce(1, (p, q) -> p * q))))
                .run(tmp);
    }

    /** Mutates the JSON header of a safetensors file and writes its length prefix again, to get past that check. */
    private static byte[] header(Random r, byte[] file, List<byte[]> all) {
        long n = ByteBuffer.wrap(file, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        if (n < 0 || n > file.length - 8) {
            return Mutator.havoc(r, file, all, 2);
        }
        byte[] json = Mutator.havoc(r, Arrays.copyOfRange(file, 8, 8 + (int) n), all, 3);
        byte[] data = Arrays.copyOfRange(file, 8 + (int) n, file.length);
        if (r.nextInt(4) == 0) {
            data = Arrays.copyOf(data, r.nextInt(data.length + 16));
        }
        return ByteBuffer.allocate(8 + json.length + data.length).order(ByteOrder.LITTLE_ENDIAN)
                .putLong(json.length).put(json).put(data).array();
    }

    @Test
    void images() throws Exception {
        List<byte[]> seeds = seeds(RES + "/images", "examples/digits/images", ".png");
        seeds.addAll(seeds(RES + "/images", ".jpg"));
        // An image may decode to Images.MAX_PIXELS_PER_BYTE pixels per byte of file (a compressed image is
        // legitimately that dense); each pixel then takes up to ~48 bytes (raster, planes, tensor, shown image).
        new FuzzRunner<Images.Batch>("image", ".png", seeds, (r, s, all) -> Mutator.havoc(r, s, all, 4),
                (in, f) -> Images.read(List.of(f), Preprocess.none()), b -> assertTrue(b.tensor().shape()[0] == 1))
                .allocationBound(64L << 20, 48 * Images.MAX_PIXELS_PER_BYTE).run(tmp);
    }
}
