package org.gpulrp.io.torch;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.gpulrp.io.ModelFormatException;
import org.gpulrp.io.Npy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reading real state dicts: the example's .pth, Python-made fixtures of every dtype, and safetensors. */
class StateDictTest {
    private static final Path EXAMPLE = Path.of("examples/breast-cancer");
    private static final List<String> SAMPLE_NAMES = List.of("fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias",
            "fc3.weight", "fc3.bias");

    @TempDir
    Path tmp;

    @Test
    void exampleStateDictEqualsTheNpyFilesBitForBitInFileOrder() {
        StateDict sd = StateDict.read(EXAMPLE.resolve("model_weights.pth"));
        assertEquals(SAMPLE_NAMES, List.copyOf(sd.tensors().keySet()));
        for (String name : SAMPLE_NAMES) {
            Npy.Array want = Npy.read(EXAMPLE.resolve(name + ".npy"));
            assertArrayEquals(want.shape(), sd.get(name).shape(), name);
            assertArrayEquals(want.data(), sd.get(name).data(), name);
        }
    }

    @Test
    void theZipFolderIsFoundNotAssumedFromTheFileName() throws IOException {
        Path renamed = Files.copy(EXAMPLE.resolve("model_weights.pth"), tmp.resolve("other-name.pt"));
        StateDict sd = StateDict.read(renamed);
        assertArrayEquals(Npy.read(EXAMPLE.resolve("fc2.weight.npy")).data(), sd.get("fc2.weight").data());
    }

    @Test
    void pythonFixturesOfEveryDtypeMatchTorchsOwnFloatConversion() throws IOException {
        for (String name : new String[] {"f64.pth", "half.pth", "mixed.pth", "sequential.safetensors",
            "dtypes.safetensors"}) {
            StateDict sd = StateDict.read(TorchFiles.resource(name));
            Map<String, Npy.Array> want = TorchFiles.npz(TorchFiles.resource(
                    name.substring(0, name.indexOf('.')) + ".npz"));
            assertEquals(List.copyOf(want.keySet()), List.copyOf(sd.tensors().keySet()), name);
            for (Map.Entry<String, Npy.Array> e : want.entrySet()) {
                assertArrayEquals(e.getValue().shape(), sd.get(e.getKey()).shape(), name + " " + e.getKey());
                assertArrayEquals(e.getValue().data(), sd.get(e.getKey()).data(), name + " " + e.getKey());
            }
        }
    }

    @Test
    void awkwardValuesSurviveTheConversion() {
        StateDict half = StateDict.read(TorchFiles.resource("half.pth"));
        float[] h = half.get("h").data();
        assertEquals(Float.floatToIntBits(-0.0f), Float.floatToIntBits(h[3]));
        assertEquals(65504f, h[4]);
        assertEquals(Float.POSITIVE_INFINITY, h[5]);
        assertEquals(5.9604645e-8f, h[2]); // float16 subnormal 2^-24
        StateDict mixed = StateDict.read(TorchFiles.resource("mixed.pth"));
        assertArrayEquals(new int[0], mixed.get("scalar").shape());
        assertArrayEquals(new float[] {4.5f}, mixed.get("scalar").data());
        assertArrayEquals(new int[] {0, 3}, mixed.get("empty").shape());
        assertArrayEquals(new float[] {1f, 1.5f, 2f}, mixed.get("view_a").data()); // offset 2 into a shared storage
        assertArrayEquals(new float[] {3f, 3.5f, 4f, 4.5f, 5f, 5.5f}, mixed.get("view_b").data());
        assertEquals((float) -(1L << 40), mixed.get("i64").data()[1]);
    }

    @Test
    void nonContiguousTensorIsRefusedWithTheReason() {
        ModelFormatException e = assertThrows(ModelFormatException.class,
                () -> StateDict.read(TorchFiles.resource("noncontig.pth")));
        assertTrue(e.getMessage().contains("'w'") && e.getMessage().contains("not C-contiguous")
                && e.getMessage().contains("noncontig.pth"), e.getMessage());
    }

    @Test
    void safetensorsWrittenHereReadBackInEveryDtype() {
        Map<String, TorchFiles.Tensor> t = new LinkedHashMap<>();
        t.put("w32", TorchFiles.f32(new long[] {2, 2}, 1f, -2f, 0.1f, Float.MIN_VALUE));
        t.put("w64", TorchFiles.f64(new long[] {3}, 0.1, -1e300, 1e-50));
        t.put("h", TorchFiles.bits16("F16", new long[] {4}, 0x3c00, 0xc100, 0x0001, 0x7bff));
        t.put("bf", TorchFiles.bits16("BF16", new long[] {1, 2}, 0x3f80, 0xc049));
        t.put("n", TorchFiles.i64(new long[] {2}, -5, (1L << 53) + 1));
        t.put("s", TorchFiles.f32(new long[] {}, 7f));
        StateDict sd = StateDict.read(TorchFiles.safetensors(tmp.resolve("w.safetensors"), t));
        assertEquals(List.of("w32", "w64", "h", "bf", "n", "s"), List.copyOf(sd.tensors().keySet()));
        assertArrayEquals(new float[] {1f, -2f, 0.1f, Float.MIN_VALUE}, sd.get("w32").data());
        assertArrayEquals(new int[] {2, 2}, sd.get("w32").shape());
        assertArrayEquals(new float[] {0.1f, Float.NEGATIVE_INFINITY, 0f}, sd.get("w64").data());
        assertArrayEquals(new float[] {1f, -2.5f, 5.9604645e-8f, 65504f}, sd.get("h").data());
        assertArrayEquals(new float[] {1f, -3.140625f}, sd.get("bf").data());
        assertArrayEquals(new int[] {1, 2}, sd.get("bf").shape());
        assertArrayEquals(new float[] {-5f, (float) ((1L << 53) + 1)}, sd.get("n").data());
        assertArrayEquals(new int[0], sd.get("s").shape());
        // the same bytes under a name without the extension are still sniffed as safetensors
        Path plain = tmp.resolve("weights.bin");
        TorchFiles.safetensors(plain, t);
        assertEquals(6, StateDict.read(plain).tensors().size());
    }

    @Test
    void halfConversionIsExactForEveryPattern() {
        for (int bits = 0; bits < 1 << 16; bits++) {
            float f = DType.halfToFloat((short) bits);
            int exp = (bits >>> 10) & 0x1f;
            int mant = bits & 0x3ff;
            double want = exp == 0 ? mant * Math.pow(2, -24)
                    : exp == 31 ? (mant == 0 ? Double.POSITIVE_INFINITY : Double.NaN)
                    : (1 + mant / 1024.0) * Math.pow(2, exp - 15);
            want = (bits & 0x8000) != 0 ? -want : want;
            assertEquals(Double.isNaN(want), Float.isNaN(f), "bits " + bits);
            if (!Double.isNaN(want)) {
                assertEquals(Double.doubleToLongBits(want), Double.doubleToLongBits(f), "bits " + bits);
            }
        }
    }

    @Test
    void missingNameListsWhatTheFileHas() {
        StateDict sd = StateDict.read(EXAMPLE.resolve("model_weights.pth"));
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> sd.get("fc4.weight"));
        assertTrue(e.getMessage().contains("'fc4.weight'") && e.getMessage().contains("fc1.weight, fc1.bias"),
                e.getMessage());
        assertThrows(UnsupportedOperationException.class, () -> sd.tensors().remove("fc1.weight"));
    }
}
