package org.gpulrp.io.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.gpulrp.BackendChoice;
import org.gpulrp.GpuLrp;
import org.gpulrp.Target;
import org.gpulrp.Tensor;
import org.gpulrp.io.Npy;
import org.gpulrp.model.LayerKind;
import org.gpulrp.model.Network;
import org.junit.jupiter.api.Test;

/**
 * A model as torch.onnx.export writes it for a freshly initialized network (scripts/make_dedup_fixture.py): identical
 * initializers stored once and read through an Identity node. The importer takes the copy as an initializer.
 */
class InitializerAliasesTest {
    private static final Path DIR = Path.of("src/test/resources/onnx-dedup");

    @Test
    void identityOfAnInitializerBecomesAnInitializer() throws IOException {
        OnnxModel.Graph g = OnnxParser.parse(Files.readAllBytes(DIR.resolve("model.onnx")), "model.onnx").graph();
        long identities = g.nodes().stream().filter(n -> n.opType().equals("Identity")).count();
        assertTrue(identities > 0, "the fixture must read an initializer through Identity");
        OnnxModel.Graph r = InitializerAliases.resolve(g);
        assertEquals(g.nodes().size() - identities, r.nodes().size());
        assertEquals(g.initializers().size() + identities, r.initializers().size());
        for (OnnxModel.NodeDef n : g.nodes()) {
            if (n.opType().equals("Identity")) {
                String out = n.outputs().get(0);
                assertTrue(r.initializers().stream().anyMatch(t -> t.name().equals(out)), out);
            }
        }
        assertSame(r, InitializerAliases.resolve(r), "nothing left to rewrite");
    }

    @Test
    void loadsAndComputesTorchsOutputs() {
        Network net = OnnxImporter.load(DIR.resolve("model.onnx"));
        assertEquals(2, net.nodes().stream().filter(n -> n.kind() == LayerKind.CONV).count());
        assertEquals(1, net.nodes().stream().filter(n -> n.kind() == LayerKind.DENSE).count());
        Npy.Array x = Npy.read(DIR.resolve("input.npy"));
        float[] want = Npy.read(DIR.resolve("output.npy")).data();
        float[] got;
        try (var ex = GpuLrp.explainer(net).backend(BackendChoice.CPU).build()) {
            got = ex.explain(new Tensor(x.data(), x.shape()), Target.argmax()).outputs().toArray();
        }
        assertEquals(want.length, got.length);
        for (int i = 0; i < want.length; i++) {
            assertEquals(want[i], got[i], 1e-5 * Math.max(1, Math.abs(want[i])), "output " + i);
        }
    }
}
