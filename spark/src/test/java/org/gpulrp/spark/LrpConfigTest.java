package org.gpulrp.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import org.gpulrp.BackendChoice;
import org.gpulrp.InitialRelevance;
import org.gpulrp.InvalidArgumentException;
import org.junit.jupiter.api.Test;

/** Configuration: checked arguments naming the parameter, copies on change, and serialization. */
class LrpConfigTest {

    private static void refused(String parameter, String text, org.junit.jupiter.api.function.Executable e) {
        InvalidArgumentException x = assertThrows(InvalidArgumentException.class, e);
        assertEquals(parameter, x.parameter());
        assertTrue(x.getMessage().contains(text), x.getMessage());
    }

    @Test
    void badArgumentsAreRefusedNamingTheParameter() {
        LrpConfig c = LrpConfig.forModel("m.onnx");
        refused("model", "must not be empty", () -> LrpConfig.forModel(" "));
        refused("rule", "unknown rule 'nope'", () -> c.withRule("nope"));
        refused("composite", "unknown composite", () -> c.withComposite("epsilon-minus"));
        refused("backend", "expected auto, cpu or opencl", () -> c.withBackend("gpu"));
        refused("initialRelevance", "expected output, onehot or logit", () -> c.withInitialRelevance("softmax"));
        refused("target", "expected argmax or a class index", () -> c.withTarget("-1"));
        refused("target", "expected argmax or a class index", () -> c.withTarget("first"));
        refused("batchRows", "must be > 0", () -> c.withBatchRows(0));
        refused("chunkRows", "must be >= 0", () -> c.withChunkRows(-1));
        refused("errorCol", "must not be empty", () -> c.withOnError(LrpConfig.OnError.NULL, ""));
        refused("mean", "needs 1 or 1 values for grayscale", () -> c.withImagePreprocess(0, 0,
                new float[] {0.5f, 0.5f, 0.5f}, new float[] {1f}, true));
    }

    @Test
    void changesMakeCopies() {
        LrpConfig a = LrpConfig.forModel("m.onnx");
        LrpConfig b = a.withBackend("opencl").withRule("epsilon:0.01").withTarget("2").withInitialRelevance("logit");
        assertEquals(BackendChoice.AUTO, a.backend());
        assertEquals(BackendChoice.OPENCL, b.backend());
        assertEquals("epsilon:0.01", b.rule());
        assertNull(b.composite());
        assertEquals(2, b.targetClass());
        assertEquals(InitialRelevance.LOGIT, b.initialRelevance());
        LrpConfig d = b.withComposite("epsilon-plus");
        assertNull(d.rule());
        assertEquals("epsilon-plus", d.composite());
        assertEquals(-1, d.withTargetCol("y").targetClass());
        assertEquals(1, d.withImagePreprocess(0, 0, new float[] {0f}, new float[] {1f}, null)
                .preprocess(1).channels());
        assertEquals(3, d.preprocess(3).channels());
    }

    @Test
    void survivesJavaSerialization() throws Exception {
        LrpConfig c = LrpConfig.forModel("hdfs:///m.onnx").withComposite("epsilon-gamma-box:-3,3").withTarget("4")
                .withBatchRows(77).withOnError(LrpConfig.OnError.NULL, "err").withIdCol("id");
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream o = new ObjectOutputStream(bytes)) {
            o.writeObject(c);
        }
        LrpConfig back;
        try (ObjectInputStream i = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
            back = (LrpConfig) i.readObject();
        }
        assertEquals(c.toString(), back.toString());
        assertEquals("err", back.errorCol());
        assertEquals(77, back.batchRows());
    }

    @Test
    void remoteLocationsAreToldFromLocalOnes() {
        assertTrue(HadoopFiles.isRemote("hdfs://nn:8020/m.onnx"));
        assertTrue(HadoopFiles.isRemote("s3a://bucket/m.onnx"));
        assertTrue(!HadoopFiles.isRemote("file:///tmp/m.onnx"));
        assertTrue(!HadoopFiles.isRemote("/tmp/m.onnx"));
        assertEquals(java.nio.file.Path.of("/tmp/m.onnx"), HadoopFiles.local("file:///tmp/m.onnx"));
    }
}
