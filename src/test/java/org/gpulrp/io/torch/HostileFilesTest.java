package org.gpulrp.io.torch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import org.gpulrp.io.FormatException;
import org.gpulrp.io.ModelFormatException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Malformed and malicious files end in a ModelFormatException naming the file and the problem, never anything else. */
class HostileFilesTest {
    private static final Path PTH = Path.of("examples/breast-cancer/model_weights.pth");

    @TempDir
    Path tmp;

    private static String refused(Path file) {
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> StateDict.read(file));
        assertTrue(e.getMessage().contains(file.toString()), "message does not name the file: " + e.getMessage());
        return e.getMessage();
    }

    private static void assertContains(String text, String... parts) {
        for (String p : parts) {
            assertTrue(text.contains(p), "expected '" + p + "' in: " + text);
        }
    }

    private static byte[] bytes(String latin1) {
        return latin1.getBytes(StandardCharsets.ISO_8859_1);
    }

    /** A valid zip holding only a data.pkl. */
    private Path pickleZip(String name, byte[] pickle) {
        Map<String, byte[]> e = new LinkedHashMap<>();
        e.put("archive/data.pkl", pickle);
        e.put("archive/version", bytes("3\n"));
        return TorchFiles.zip(tmp.resolve(name), e);
    }

    @Test
    void maliciousGlobalsAreRefusedBeforeAnythingRuns() {
        // GLOBAL 'os\nsystem', the argument, TUPLE1, REDUCE, STOP: what an attacker's __reduce__ produces
        String msg = refused(pickleZip("evil.pth", bytes("\u0080\u0002cos\nsystem\nX\u0005\u0000\u0000\u0000touch"
                + "\u0085R.")));
        assertContains(msg, "refusing to load: the pickle asks for global 'os.system', which a state dict never "
                + "needs");
        for (String g : new String[] {"builtins\neval", "posix\nsystem", "subprocess\nPopen",
            "torch.storage\n_load_from_bytes", "torch\nload"}) {
            String m = refused(pickleZip("evil2.pth", bytes("\u0080\u0002c" + g + "\n)R.")));
            assertContains(m, "refusing to load", "'" + g.replace('\n', '.') + "'");
        }
        // the same through STACK_GLOBAL (protocol 4)
        String m = refused(pickleZip("evil3.pth", bytes("\u0080\u0004\u008c\u0008builtins\u008c\u0004exec"
                + "\u0093)R.")));
        assertContains(m, "'builtins.exec'");
    }

    /**
     * Globals that look like part of a state dict but are not on the allow-list are refused by name at the GLOBAL
     * opcode, before the REDUCE that would call them; allowed globals that are types, not functions, cannot be
     * called either.
     */
    @Test
    void allowedLookingGlobalsAreRefusedByName() {
        for (String g : new String[] {"torch._utils\n_rebuild_tensor", "torch._utils\n_rebuild_qtensor",
            "torch._utils\n_rebuild_device_tensor_from_numpy", "collections\ndefaultdict", "torch\nTensor",
            "torch.nn.modules.linear\nLinear", "numpy.core.multiarray\n_reconstruct", "__builtin__\neval",
            "torch._utils\n_rebuild_tensor_v2 ", "collections\nOrderedDict\u0000"}) {
            // GLOBAL at byte 2, then an argument tuple and REDUCE: the refusal must come at byte 2
            String m = refused(pickleZip("look.pth", bytes("\u0080\u0002c" + g + "\n)R.")));
            assertContains(m, "at byte 2: refusing to load: the pickle asks for global '" + g.replace('\n', '.')
                    + "'");
        }
        // allowed names that are storage types or a dict type, reached by REDUCE or NEWOBJ with arguments
        assertContains(refused(pickleZip("call.pth", bytes("\u0080\u0002ctorch\nFloatStorage\n)R."))),
                "'torch.FloatStorage' cannot be called");
        assertContains(refused(pickleZip("args.pth", bytes("\u0080\u0002ccollections\nOrderedDict\nK\u0001\u0085R."))),
                "OrderedDict with constructor arguments");
        assertContains(refused(pickleZip("newobj.pth", bytes("\u0080\u0002ctorch\nFloatStorage\n)\u0081."))),
                "NEWOBJ of global torch.FloatStorage");
        // a global smuggled in through the memo is still refused where it is named
        assertContains(refused(pickleZip("memo.pth", bytes("\u0080\u0002cos\nsystem\nq\u0000h\u0000)R."))),
                "'os.system'");
    }

    @Test
    void unsupportedStorageTypesAndNonDictsAreNamed() {
        assertContains(refused(pickleZip("u8.pth", bytes("\u0080\u0002ctorch\nByteStorage\n."))),
                "torch.ByteStorage", "not supported");
        assertContains(refused(pickleZip("list.pth", bytes("\u0080\u0002]."))), "holds a list, not a state dict");
        // {'model': {}}: a checkpoint rather than a state dict
        assertContains(refused(pickleZip("ckpt.pth", bytes("\u0080\u0002}X\u0005\u0000\u0000\u0000model}s."))),
                "'model' holds a dict", "checkpoint");
        assertContains(refused(pickleZip("nostop.pth", bytes("\u0080\u0002}"))), "truncated pickle");
        assertContains(refused(pickleZip("badop.pth", bytes("\u0080\u0002}\u00ff."))), "opcode 0xff");
        assertContains(refused(pickleZip("under.pth", bytes("\u0080\u0002s."))), "stack underflow");
        assertContains(refused(pickleZip("memo.pth", bytes("\u0080\u0002h\u0007."))), "memo has no entry 7");
        assertContains(refused(pickleZip("longstr.pth", bytes("\u0080\u0002X\u00ff\u00ff\u00ff\u007f."))),
                "truncated pickle");
    }

    @Test
    void truncatedZipAndWrongMagicAreRefused() throws IOException {
        byte[] all = Files.readAllBytes(PTH);
        Path half = Files.write(tmp.resolve("half.pth"), java.util.Arrays.copyOf(all, all.length / 2));
        assertContains(refused(half), "truncated or corrupt");
        Path junk = Files.write(tmp.resolve("junk.pth"), bytes("this is not a model at all"));
        assertContains(refused(junk), "neither a PyTorch zip");
        Path legacy = Files.write(tmp.resolve("legacy.pth"), bytes("\u0080\u0002\u008a\nl\u00fc\u009cF\u00f9"));
        assertContains(refused(legacy), "legacy torch.save format");
        Path empty = Files.write(tmp.resolve("empty.pth"), new byte[0]);
        assertContains(refused(empty), "neither");
        Path script = TorchFiles.zip(tmp.resolve("script.pt"), Map.of("m/data.pkl", bytes("\u0080\u0002}."),
                "m/code/__torch__/m.py", bytes("x")));
        assertContains(refused(script), "TorchScript");
    }

    @Test
    void zipEntriesMustAgreeWithThePickle() throws IOException {
        Map<String, byte[]> good = TorchFiles.entries(PTH);
        Map<String, byte[]> missing = new LinkedHashMap<>(good);
        missing.remove("model_weights/data/2");
        assertContains(refused(TorchFiles.zip(tmp.resolve("missing.pth"), missing)), "'fc2.weight'",
                "model_weights/data/2", "missing");
        Map<String, byte[]> shortEntry = new LinkedHashMap<>(good);
        shortEntry.put("model_weights/data/1", new byte[124]);
        assertContains(refused(TorchFiles.zip(tmp.resolve("short.pth"), shortEntry)), "model_weights/data/1",
                "holds 124 bytes", "32 F32 elements");
        Map<String, byte[]> noPickle = new LinkedHashMap<>(good);
        noPickle.remove("model_weights/data.pkl");
        assertContains(refused(TorchFiles.zip(tmp.resolve("nopkl.pth"), noPickle)), "data.pkl");
        // a persistent id claiming 2^61 float elements: refused from the entry size, nothing allocated
        String pkl = "\u0080\u0002}X\u0001\u0000\u0000\u0000wctorch._utils\n_rebuild_tensor_v2\n((X\u0007\u0000"
                + "\u0000\u0000storagectorch\nFloatStorage\nX\u0001\u0000\u0000\u00000X\u0003\u0000\u0000\u0000cpu"
                + "\u008a\u0008\u0000\u0000\u0000\u0000\u0000\u0000\u0000\u0020tQK\u0000K\u0004\u0085K\u0001\u0085"
                + "\u0089}tRs.";
        Map<String, byte[]> huge = new LinkedHashMap<>();
        huge.put("a/data.pkl", bytes(pkl));
        huge.put("a/data/0", new byte[16]);
        assertContains(refused(TorchFiles.zip(tmp.resolve("huge.pth"), huge)), "a/data/0", "holds 16 bytes");
        // a view reaching past its storage: 4 elements from offset 2 of a 4-element storage
        String past = pkl.replace("\u008a\u0008\u0000\u0000\u0000\u0000\u0000\u0000\u0000\u0020", "K\u0004")
                .replace("tQK\u0000", "tQK\u0002");
        huge.put("a/data.pkl", bytes(past));
        assertContains(refused(TorchFiles.zip(tmp.resolve("past.pth"), huge)), "'w'", "reads elements 2..5");
        // and the unmodified version of that hand-made pickle reads fine
        huge.put("a/data.pkl", bytes(past.replace("tQK\u0002", "tQK\u0000")));
        assertEquals(4, StateDict.read(TorchFiles.zip(tmp.resolve("ok.pth"), huge)).get("w").data().length);
    }

    @Test
    void safetensorsClaimsAreCheckedAgainstTheFile() {
        byte[] four = new byte[16];
        String t = "{\"w\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]}}";
        StateDict.read(TorchFiles.safetensors(tmp.resolve("ok.safetensors"), t, four)); // the baseline is valid
        Path longHeader = tmp.resolve("long.safetensors");
        TorchFiles.safetensors(longHeader, t, four);
        try {
            byte[] b = Files.readAllBytes(longHeader);
            b[0] = (byte) 0xff;
            b[3] = 0x10; // header length now ~ 268 MB in a file of ~ 90 bytes
            Files.write(longHeader, b);
        } catch (IOException e) {
            fail(e);
        }
        assertContains(refused(longHeader), "the header claims", "truncated");
        assertContains(refused(TorchFiles.safetensors(tmp.resolve("off.safetensors"),
                t.replace("[0,16]", "[8,24]"), four)), "'w'", "outside the 16 data bytes");
        assertContains(refused(TorchFiles.safetensors(tmp.resolve("neg.safetensors"),
                t.replace("[0,16]", "[-8,8]"), four)), "outside");
        assertContains(refused(TorchFiles.safetensors(tmp.resolve("count.safetensors"),
                t.replace("[2,2]", "[2,1]"), four)), "needs 8 bytes but data_offsets give 16");
        assertContains(refused(TorchFiles.safetensors(tmp.resolve("dtype.safetensors"),
                t.replace("F32", "U8"), four)), "dtype 'U8'", "not supported");
        assertContains(refused(TorchFiles.safetensors(tmp.resolve("json.safetensors"), "{\"w\":{\"dtype\":", four)),
                "not valid JSON");
        assertContains(refused(TorchFiles.safetensors(tmp.resolve("shape.safetensors"),
                t.replace("[2,2]", "\"big\""), four)), "shape is missing or not an array");
        assertContains(refused(TorchFiles.safetensors(tmp.resolve("huge.safetensors"),
                t.replace("[2,2]", "[65536,65536]"), four)), "too large");
        assertContains(refused(TorchFiles.safetensors(tmp.resolve("frac.safetensors"),
                t.replace("[0,16]", "[0,16.5]"), four)), "not a 64-bit integer");
    }

    /** Every prefix of a real file, and seeded byte flips: a clean result or a FormatException, nothing else. */
    @Test
    void truncationsAndBitFlipsNeverEscapeAsOtherExceptions() throws IOException {
        byte[] pth = Files.readAllBytes(PTH);
        Map<String, TorchFiles.Tensor> t = new LinkedHashMap<>();
        t.put("a", TorchFiles.f32(new long[] {2, 3}, 1, 2, 3, 4, 5, 6));
        t.put("b", TorchFiles.bits16("BF16", new long[] {2}, 0x3f80, 0x4000));
        byte[] st = Files.readAllBytes(TorchFiles.safetensors(tmp.resolve("base.safetensors"), t));
        Path f = tmp.resolve("fuzz.pth");
        Random rnd = new Random(42);
        for (byte[] base : new byte[][] {pth, st}) {
            for (int n = 0; n < base.length; n += base == pth ? 13 : 1) {
                probe(f, java.util.Arrays.copyOf(base, n));
            }
            for (int k = 0; k < 300; k++) {
                byte[] b = base.clone();
                int flips = 1 + rnd.nextInt(4);
                for (int j = 0; j < flips; j++) {
                    b[rnd.nextInt(b.length)] = (byte) rnd.nextInt(256);
                }
                probe(f, b);
            }
        }
    }

    /** The same for the pickle alone: in memory for many mutations, inside an otherwise valid zip for some. */
    @Test
    void mutatedPicklesNeverEscapeAsOtherExceptions() throws IOException {
        Map<String, byte[]> entries = TorchFiles.entries(PTH);
        byte[] pkl = entries.get("model_weights/data.pkl");
        Path f = tmp.resolve("pkl.pth");
        Random rnd = new Random(7);
        int refusedCount = 0;
        for (int k = 0; k < 4000; k++) {
            byte[] b = k % 5 == 0 ? java.util.Arrays.copyOf(pkl, rnd.nextInt(pkl.length)) : pkl.clone();
            for (int j = k % 5 == 0 ? 0 : 1 + rnd.nextInt(3); j > 0; j--) {
                b[rnd.nextInt(b.length)] = (byte) rnd.nextInt(256);
            }
            try {
                Unpickler.load(b, "mutant " + k);
            } catch (FormatException e) {
                refusedCount++;
            } catch (RuntimeException | Error e) {
                throw new AssertionError("mutant " + k + " escaped as " + e, e);
            }
            if (k % 50 == 0) {
                entries.put("model_weights/data.pkl", b);
                TorchFiles.zip(f, entries);
                probe(f, Files.readAllBytes(f));
            }
        }
        assertTrue(refusedCount > 1000, "only " + refusedCount + " of 4000 mutations were refused");
    }

    private static boolean probe(Path f, byte[] content) throws IOException {
        Files.write(f, content);
        try {
            StateDict.read(f);
            return true;
        } catch (FormatException e) {
            return false; // expected for most inputs
        } catch (RuntimeException | Error e) {
            throw new AssertionError("a " + content.length + "-byte input escaped as " + e, e);
        }
    }
}
