package org.gpulrp.fuzz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.CRC32;
import org.gpulrp.io.Csv;
import org.gpulrp.io.FormatException;
import org.gpulrp.io.ModelFormatException;
import org.gpulrp.io.Npy;
import org.gpulrp.io.image.Images;
import org.gpulrp.io.onnx.OnnxImporter;
import org.gpulrp.io.torch.Architecture;
import org.gpulrp.io.torch.StateDict;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/**
 * Tiny files that claim huge sizes (npy shapes, ONNX dims and lengths, pickle storages, safetensors shapes and
 * offsets, image dimensions) are refused with a clear message before anything of that size is allocated: each
 * refusal is timed and the bytes the reading thread allocated are counted.
 */
class ClaimedSizesTest {
    /** Far below any of the claims (gigabytes to exabytes), far above what parsing a tiny header needs. */
    private static final long ALLOCATION_LIMIT = 16L << 20;
    private static final long TIME_LIMIT_NANOS = 5_000_000_000L;

    @TempDir
    Path tmp;

    /** Runs {@code read} on this thread; it must throw {@code type}, quickly and without a big allocation. */
    private static <T extends Throwable> String refusedCheaply(Class<T> type, Executable read, String... parts) {
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long before = mx.getCurrentThreadAllocatedBytes();
        long t0 = System.nanoTime();
        T e = assertThrows(type, read);
        long nanos = System.nanoTime() - t0;
        long allocated = mx.getCurrentThreadAllocatedBytes() - before;
        assertTrue(allocated < ALLOCATION_LIMIT, "allocated " + allocated + " bytes before refusing: " + e);
        assertTrue(nanos < TIME_LIMIT_NANOS, "took " + nanos / 1e6 + " ms to refuse: " + e);
        for (String p : parts) {
            assertTrue(e.getMessage().contains(p), "expected '" + p + "' in: " + e.getMessage());
        }
        return e.getMessage();
    }

    private Path npy(String name, String descr, String shape, int dataBytes) throws Exception {
        String dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
        String header = dict + " ".repeat((64 - (10 + dict.length() + 1) % 64) % 64) + "\n";
        ByteBuffer b = ByteBuffer.allocate(10 + header.length() + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.put((byte) 0x93).put("NUMPY".getBytes(StandardCharsets.US_ASCII)).put((byte) 1).put((byte) 0);
        b.putShort((short) header.length()).put(header.getBytes(StandardCharsets.ISO_8859_1));
        return Files.write(tmp.resolve(name), b.array());
    }

    @Test
    void npyShapesBeyondTheFileOrAJavaArray() throws Exception {
        Path ok = npy("ok.npy", "<f4", "(2, 2)", 16);
        assertEquals(4, Npy.read(ok).data().length); // the writer above makes valid files
        refusedCheaply(FormatException.class, () -> Npy.read(npy("square.npy", "<f4", "(2147483648, 2147483648)", 16)),
                "bad shape entry 2147483648");
        refusedCheaply(FormatException.class, () -> Npy.read(npy("big.npy", "<f8", "(65536, 65536)", 16)),
                "too large for one Java array");
        // a count that fits in an int, bytes that do not fit in the file
        refusedCheaply(FormatException.class, () -> Npy.read(npy("claim.npy", "<f8", "(1000000, 1000)", 16)),
                "needs 8000000000 bytes, the file holds 16");
        refusedCheaply(FormatException.class, () -> Npy.read(npy("neg.npy", "<f4", "(-4,)", 16)), "bad shape entry -4");
    }

    @Test
    void onnxDimsAndLengthsBeyondTheFile() throws Exception {
        byte[] model = Files.readAllBytes(Path.of("src/test/resources/golden/mlp7/model.onnx"));
        assertTrue(OnnxImporter.load(model, "ok.onnx", null).outputSize() > 0);
        // ModelProto.graph (7) -> GraphProto.initializer (5) -> TensorProto.dims (1)
        refusedCheaply(ModelFormatException.class, () -> OnnxImporter.load(ProtoMutator.setVarint(model,
                1_000_000_000_000L, 7, 5, 1), "dims.onnx", null), "dims.onnx", "claims more than");
        refusedCheaply(ModelFormatException.class, () -> OnnxImporter.load(ProtoMutator.setVarint(model,
                10_000_000L, 7, 5, 1), "raw.onnx", null), "raw.onnx", "bytes) but its raw_data holds");
        refusedCheaply(ModelFormatException.class, () -> OnnxImporter.load(ProtoMutator.setVarint(model, -1L,
                7, 5, 1), "neg.onnx", null), "neg.onnx", "shape [-1, 7]");
        // a length prefix claiming 2 GB for the graph, in a 9-byte file
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.writeBytes(new byte[] {0x08, 0x07, 0x3a});
        b.writeBytes(Mutator.varint(Integer.MAX_VALUE));
        b.writeBytes(new byte[] {0x0a, 0x00});
        refusedCheaply(ModelFormatException.class, () -> OnnxImporter.load(b.toByteArray(), "len.onnx", null),
                "len.onnx", "not an ONNX model");
    }

    private static byte[] latin1(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    /** A torch.save-style zip (stored entries) with one tensor 'w' whose pickle claims {@code numel} and a size. */
    private Path pth(String name, String numel, String size, int dataBytes) {
        String pkl = "\u0080\u0002}X\u0001\u0000\u0000\u0000wctorch._utils\n_rebuild_tensor_v2\n((X\u0007\u0000"
                + "\u0000\u0000storagectorch\nFloatStorage\nX\u0001\u0000\u0000\u00000X\u0003\u0000\u0000\u0000cpu"
                + numel + "tQK\u0000" + size + "\u0089}tRs.";
        Map<String, byte[]> e = new LinkedHashMap<>();
        e.put("a/data.pkl", latin1(pkl));
        e.put("a/data/0", new byte[dataBytes]);
        try {
            return Files.write(tmp.resolve(name), ZipMutator.write(e, false));
        } catch (java.io.IOException x) {
            throw new java.io.UncheckedIOException(x);
        }
    }

    private static String long8(long v) {
        byte[] b = new byte[8];
        Mutator.putInt(b, 0, v, 8, true);
        return "\u008a\u0008" + new String(b, StandardCharsets.ISO_8859_1);
    }

    @Test
    void stateDictStoragesAndShapesBeyondTheFile() {
        // size (4,), stride (1,): valid
        assertEquals(4, StateDict.read(pth("ok.pth", "K\u0004", "K\u0004\u0085K\u0001\u0085", 16)).get("w").data()
                .length);
        refusedCheaply(ModelFormatException.class, () -> StateDict.read(pth("numel.pth", long8(1L << 61),
                "K\u0004\u0085K\u0001\u0085", 16)), "numel.pth", "holds 16 bytes but the pickle says");
        // shape (10^12,) over a 4-element storage
        refusedCheaply(ModelFormatException.class, () -> StateDict.read(pth("shape.pth", "K\u0004",
                long8(1_000_000_000_000L) + "\u0085K\u0001\u0085", 16)), "shape.pth", "too large");
        // shape (65536, 65536): fits in longs, not in one Java array
        refusedCheaply(ModelFormatException.class, () -> StateDict.read(pth("square.pth", "K\u0004",
                "J\u0000\u0000\u0001\u0000J\u0000\u0000\u0001\u0000\u0086J\u0000\u0000\u0001\u0000K\u0001\u0086",
                16)), "square.pth", "too large for one Java array");
        // a BINUNICODE claiming 4 GB in a 40-byte pickle
        Map<String, byte[]> e = new LinkedHashMap<>();
        e.put("a/data.pkl", latin1("\u0080\u0002X\u00ff\u00ff\u00ff\u00ff."));
        refusedCheaply(ModelFormatException.class, () -> StateDict.read(Files.write(tmp.resolve("str.pth"),
                ZipMutator.write(e, false))), "str.pth", "truncated pickle: needs 4294967295 more bytes");
    }

    /**
     * A pickle bomb: 60 MB of EMPTY_DICT opcodes (under the 64 MB pickle limit) deflate into a zip of about 60 KB;
     * each opcode would push a new dict, billions of bytes of objects in all. The unpickler's stack limit stops it.
     */
    @Test
    void pickleThatPushesMillionsOfObjects() throws Exception {
        byte[] pkl = new byte[60 << 20];
        Arrays.fill(pkl, (byte) '}');
        pkl[0] = (byte) 0x80;
        pkl[1] = 2;
        Map<String, byte[]> e = new LinkedHashMap<>();
        e.put("a/data.pkl", pkl);
        Path bomb = Files.write(tmp.resolve("bomb.pth"), ZipMutator.write(e, true));
        assertTrue(Files.size(bomb) < 200_000, "the bomb is small: " + Files.size(bomb));
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long before = mx.getCurrentThreadAllocatedBytes();
        ModelFormatException x = assertThrows(ModelFormatException.class, () -> StateDict.read(bomb));
        long allocated = mx.getCurrentThreadAllocatedBytes() - before;
        assertTrue(x.getMessage().contains("bomb.pth") && x.getMessage().contains("stack"), x.getMessage());
        // the 60 MB pickle itself is read (it is under the limit); the objects it asks for are not all made
        assertTrue(allocated < 200L << 20, "allocated " + allocated + " bytes");
    }

    private Path safetensors(String name, String json, int dataBytes) throws Exception {
        byte[] j = json.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + j.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(j.length).put(j);
        return Files.write(tmp.resolve(name), b.array());
    }

    @Test
    void safetensorsShapesAndOffsetsBeyondTheFile() throws Exception {
        String t = "{\"w\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]}}";
        assertEquals(4, StateDict.read(safetensors("ok.safetensors", t, 16)).get("w").data().length);
        refusedCheaply(ModelFormatException.class, () -> StateDict.read(safetensors("sq.safetensors",
                t.replace("[2,2]", "[2147483648,2147483648]"), 16)), "sq.safetensors", "shape entry 2147483648");
        refusedCheaply(ModelFormatException.class, () -> StateDict.read(safetensors("big.safetensors",
                t.replace("[2,2]", "[100000,10000]").replace("[0,16]", "[0,4000000000]"), 16)),
                "outside the 16 data bytes");
        refusedCheaply(ModelFormatException.class, () -> StateDict.read(safetensors("off.safetensors",
                t.replace("[0,16]", "[0,4611686018427387904]"), 16)), "outside the 16 data bytes");
        Path header = safetensors("header.safetensors", t, 16);
        byte[] b = Files.readAllBytes(header);
        Mutator.putInt(b, 0, 1L << 62, 8, true);
        refusedCheaply(ModelFormatException.class, () -> StateDict.read(Files.write(header, b)), "the header claims");
    }

    /** A PNG with a valid IHDR (CRC included) claiming {@code w x h}, and the IDAT of a 1x1 gray image. */
    private Path png(String name, int w, int h) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'});
        chunk(out, "IHDR", ByteBuffer.allocate(13).putInt(w).putInt(h).put((byte) 8).put((byte) 0).put((byte) 0)
                .put((byte) 0).put((byte) 0).array());
        chunk(out, "IDAT", new byte[] {0x78, (byte) 0x9c, 0x63, 0x60, 0x00, 0x00, 0x00, 0x02, 0x00, 0x01});
        chunk(out, "IEND", new byte[0]);
        return Files.write(tmp.resolve(name), out.toByteArray());
    }

    private static void chunk(ByteArrayOutputStream out, String type, byte[] data) {
        byte[] t = type.getBytes(StandardCharsets.US_ASCII);
        out.writeBytes(ByteBuffer.allocate(4).putInt(data.length).array());
        CRC32 crc = new CRC32();
        crc.update(t);
        crc.update(data);
        out.writeBytes(t);
        out.writeBytes(data);
        out.writeBytes(ByteBuffer.allocate(4).putInt((int) crc.getValue()).array());
    }

    @Test
    void imageDimensionsBeyondTheFileOrTheLimit() throws Exception {
        assertEquals(1, Images.decode(png("ok.png", 1, 1)).getWidth());
        refusedCheaply(FormatException.class, () -> Images.decode(png("huge.png", 65535, 65535)), "huge.png",
                "65535x65535", "more than the " + Images.MAX_PIXELS);
        // 60 megapixels: under the limit, but not in a 60-byte file
        refusedCheaply(FormatException.class, () -> Images.decode(png("claim.png", 6000, 10000)), "claim.png",
                "6000x10000 pixels, which its", "bytes cannot encode");
    }

    @Test
    void fuzzFindingsStayFixed() throws Exception {
        Path fuzz = FuzzRunner.REGRESSIONS;
        // found by the fuzzer: a CSV with a byte that is not UTF-8 escaped as UncheckedIOException
        refusedCheaply(FormatException.class, () -> Csv.read(fuzz.resolve("csv/not-utf8.csv")), "not-utf8.csv",
                "not UTF-8 text");
        // found by the fuzzer: a 116-byte PNG claiming 8 x 14417928 pixels made ImageIO allocate 115 MB
        refusedCheaply(FormatException.class, () -> Images.decode(fuzz.resolve("image/claims-huge-size.png")),
                "claims-huge-size.png", "8x14417928");
        // found by the fuzzer: a NaN weight escaped Architecture.bind as InvalidInputException (not a file error)
        StateDict sd = StateDict.read(fuzz.resolve("pth/nan-weight.pth"));
        String m = refusedCheaply(ModelFormatException.class, () -> Architecture.sampleModel().bind(sd),
                "nan-weight.pth", "layer 'fc1' (linear)", "NaN");
        assertTrue(m.contains("no layer can use"), m);
        // found by the fuzzer: two tensors naming one storage with different sizes read past the storage's bytes
        // (IndexOutOfBoundsException); the bytes were checked against the first claim only
        refusedCheaply(ModelFormatException.class, () -> StateDict.read(fuzz.resolve("pth/storage-claimed-twice.pth")),
                "storage-claimed-twice.pth", "storage 0 is declared with both 4 and 64 elements");
    }
}
