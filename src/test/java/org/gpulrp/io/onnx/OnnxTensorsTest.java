package org.gpulrp.io.onnx;

import static org.gpulrp.io.onnx.OnnxOperatorsTest.W;
import static org.gpulrp.io.onnx.OnnxOperatorsTest.dense;
import static org.gpulrp.io.onnx.OnnxOperatorsTest.load;
import static org.gpulrp.io.onnx.OnnxSampleModelTest.bits;
import static org.gpulrp.io.onnx.OnnxWriter.attrInt;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.gpulrp.io.ModelFormatException;
import org.gpulrp.io.onnx.OnnxWriter.Enc;
import org.gpulrp.model.Network;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Initializer storage: raw vs typed fields, packed vs unpacked, DOUBLE and FLOAT16, external data files. */
class OnnxTensorsTest {
    @TempDir
    Path dir;

    /** A Gemm (transB=1, out=2, in=3) whose weight tensor is given; bias [2] as float_data. */
    private static OnnxWriter withWeight(byte[] weight) {
        return new OnnxWriter().input("x", "N", 3).output("y").init(weight)
                .floats("fc.bias", new long[] {2}, new float[] {-0.0f, 3}, Enc.UNPACKED)
                .node("Gemm", "g", List.of("x", "fc.weight", "fc.bias"), List.of("y"), attrInt("transB", 1));
    }

    @Test
    void rawPackedAndUnpackedFloatsGiveTheSameBits() {
        float[] odd = {Float.MIN_VALUE, -0.0f, 1e-38f, 3.4028235e38f, -1.5f, 0.1f};
        for (Enc enc : Enc.values()) {
            Network net = load(withWeight(OnnxWriter.floatTensor("fc.weight", new long[] {2, 3}, odd, enc)));
            assertArrayEquals(bits(odd), bits(dense(net, "fc").weight()), enc.name());
            assertArrayEquals(bits(new float[] {-0.0f, 3}), bits(dense(net, "fc").bias()), enc.name());
        }
    }

    @Test
    void doubleInitializersAreRoundedToFloat() {
        double[] v = {0.1, -2.5, 1e-300, 1.0000001, 123456.789, 0};
        float[] expected = new float[v.length];
        for (int k = 0; k < v.length; k++) {
            expected[k] = (float) v[k];
        }
        for (boolean raw : new boolean[] {true, false}) {
            Network net = load(withWeight(OnnxWriter.doubleTensor("fc.weight", new long[] {2, 3}, v, raw)));
            assertArrayEquals(bits(expected), bits(dense(net, "fc").weight()), "raw=" + raw);
        }
    }

    @Test
    void float16InitializersAreWidenedExactly() {
        // 1, -2, smallest subnormal 2^-24, largest 65504, 0.333251953125, -0
        short[] h = {0x3c00, (short) 0xc000, 0x0001, 0x7bff, 0x3555, (short) 0x8000};
        float[] expected = {1, -2, 0x1p-24f, 65504, 0.333251953125f, -0.0f};
        for (boolean raw : new boolean[] {true, false}) {
            Network net = load(withWeight(OnnxWriter.halfTensor("fc.weight", new long[] {2, 3}, h, raw)));
            assertArrayEquals(bits(expected), bits(dense(net, "fc").weight()), "raw=" + raw);
        }
    }

    @Test
    void everyFiniteHalfConvertsToItsExactValue() {
        for (int b = 0; b < 0x10000; b++) {
            int exp = (b >>> 10) & 0x1f;
            int mant = b & 0x3ff;
            float got = TensorData.halfToFloat((short) b);
            if (exp == 0x1f) {
                assertTrue(mant == 0 ? Float.isInfinite(got) : Float.isNaN(got), Integer.toHexString(b));
                continue;
            }
            double mag = exp == 0 ? mant * Math.pow(2, -24) : (1 + mant / 1024.0) * Math.pow(2, exp - 15);
            double expected = (b & 0x8000) != 0 ? -mag : mag;
            assertEquals(Double.doubleToRawLongBits(expected), Double.doubleToRawLongBits(got),
                    Integer.toHexString(b));
        }
    }

    @Test
    void externalDataIsReadFromBesideTheModel() throws IOException {
        ByteBuffer data = OnnxWriter.le(16 + 4 * W.length);
        data.put(new byte[16]);
        for (float f : W) {
            data.putFloat(f);
        }
        Files.createDirectories(dir.resolve("weights"));
        Files.write(dir.resolve("weights/model.bin"), data.array());
        byte[] model = withWeight(OnnxWriter.externalTensor("fc.weight", new long[] {2, 3}, 1, "weights/model.bin",
                16L, 24L)).build();
        Path file = dir.resolve("model.onnx");
        Files.write(file, model);
        assertArrayEquals(W, dense(OnnxImporter.load(file), "fc").weight());
        // length may be left out: the rest of the file from the offset
        Files.write(file, withWeight(OnnxWriter.externalTensor("fc.weight", new long[] {2, 3}, 1,
                "weights/model.bin", 16L, null)).build());
        assertArrayEquals(W, dense(OnnxImporter.load(file), "fc").weight());
        assertArrayEquals(W, dense(OnnxImporter.load(model, "model.onnx", dir), "fc").weight());
    }

    @Test
    void externalDataProblemsNameTheNodeAndWhatIsWrong() throws IOException {
        Files.write(dir.resolve("w.bin"), new byte[24]);
        Files.write(dir.resolve("big.bin"), new byte[40]);
        Object[][] cases = {
            {"w.bin", 8L, 24L, "outside"},
            {"w.bin", 100L, null, "outside"},
            {"big.bin", 0L, 40L, "external data length is 40"},
            {"missing.bin", 0L, 24L, "does not exist"},
            {"../w.bin", 0L, 24L, "inside the model's folder"},
        };
        Path sub = Files.createDirectories(dir.resolve("m"));
        Files.copy(dir.resolve("w.bin"), sub.resolve("w.bin"));
        Files.copy(dir.resolve("big.bin"), sub.resolve("big.bin"));
        for (Object[] c : cases) {
            byte[] model = withWeight(OnnxWriter.externalTensor("fc.weight", new long[] {2, 3}, 1, (String) c[0],
                    (Long) c[1], (Long) c[2])).build();
            ModelFormatException e = assertThrows(ModelFormatException.class,
                    () -> OnnxImporter.load(model, "m.onnx", sub));
            assertEquals("g", e.node());
            assertEquals("Gemm", e.opType());
            assertTrue(e.getMessage().contains((String) c[3]), e.getMessage());
            assertTrue(e.getMessage().contains("fc.weight"), e.getMessage());
        }
        byte[] model = withWeight(OnnxWriter.externalTensor("fc.weight", new long[] {2, 3}, 1, "w.bin", 0L, 24L))
                .build();
        ModelFormatException e = assertThrows(ModelFormatException.class,
                () -> OnnxImporter.load(model, "m.onnx", null));
        assertTrue(e.getMessage().contains("OnnxImporter.load(Path)"), e.getMessage());
    }

    @Test
    void claimedSizesAreCheckedBeforeAllocating() {
        // dims claim 2e8 elements (800 MB) but four bytes are present: refused from the counts, without allocating
        byte[] raw = new OnnxWriter.Msg().varint(1, 2000).varint(1, 100_000).varint(2, 1).string(8, "fc.weight")
                .bytes(9, new byte[4]).bytes();
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> load(withWeight(raw)));
        assertTrue(e.getMessage().contains("raw_data holds 4 bytes"), e.getMessage());
        byte[] typed = new OnnxWriter.Msg().varint(1, 2).varint(1, 3).varint(2, 1).string(8, "fc.weight")
                .fixed32(4, 1f).bytes();
        e = assertThrows(ModelFormatException.class, () -> load(withWeight(typed)));
        assertTrue(e.getMessage().contains("float_data holds 1 values"), e.getMessage());
        byte[] huge = new OnnxWriter.Msg().varint(1, 1L << 40).varint(1, 1L << 40).varint(2, 1)
                .string(8, "fc.weight").bytes(9, new byte[4]).bytes();
        e = assertThrows(ModelFormatException.class, () -> load(withWeight(huge)));
        assertTrue(e.getMessage().contains("claims more than"), e.getMessage());
        byte[] over2g = new OnnxWriter.Msg().varint(1, 1000).varint(1, 1_000_000).varint(2, 1)
                .string(8, "fc.weight").bytes(9, new byte[4]).bytes();
        e = assertThrows(ModelFormatException.class, () -> load(withWeight(over2g)));
        assertTrue(e.getMessage().contains("up to 2 GB"), e.getMessage());
    }

    @Test
    void unsupportedDataTypesAreNamed() {
        byte[] bf16 = new OnnxWriter.Msg().varint(1, 2).varint(1, 3).varint(2, 16).string(8, "fc.weight")
                .bytes(9, new byte[12]).bytes();
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> load(withWeight(bf16)));
        assertTrue(e.getMessage().startsWith("node 'g' (Gemm): "), e.getMessage());
        assertTrue(e.getMessage().contains("BFLOAT16"), e.getMessage());
    }
}
