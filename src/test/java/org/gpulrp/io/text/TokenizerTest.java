package org.gpulrp.io.text;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.gpulrp.LrpException;
import org.gpulrp.io.FormatException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The example's tokenizer.json, written by hand by scripts/train_text_classifier.py, run by HuggingFace's Rust
 * tokenizers through DJL: the ids must be those the script's own implementation gave (the fixture it wrote).
 */
class TokenizerTest {
    static final Path FILE = Path.of("examples/text/tokenizer.json");
    static final Path FIXTURE = Path.of("src/test/resources/text/tokenizer_ids.json");
    private static Tokenizer tok;

    @TempDir
    Path dir;

    @BeforeAll
    static void load() {
        tok = Tokenizer.load(FILE);
    }

    @AfterAll
    static void close() {
        tok.close();
    }

    static JsonObject fixture() throws IOException {
        return JsonParser.parseString(Files.readString(FIXTURE, StandardCharsets.UTF_8)).getAsJsonObject();
    }

    static int[] ints(JsonElement a) {
        JsonArray arr = a.getAsJsonArray();
        int[] out = new int[arr.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = arr.get(i).getAsInt();
        }
        return out;
    }

    @Test
    void givesTheIdsThePythonScriptWrote() throws IOException {
        JsonArray texts = fixture().getAsJsonArray("texts");
        assertTrue(texts.size() >= 5);
        for (JsonElement t : texts) {
            String text = t.getAsJsonObject().get("text").getAsString();
            Tokenizer.Encoded e = tok.encode(text, 0);
            assertArrayEquals(ints(t.getAsJsonObject().get("ids")), e.ids(), text);
            assertArrayEquals(new int[e.ids().length], e.types(), text);
            assertEquals(e.ids().length, e.pieces().size(), text);
            assertFalse(e.truncated());
        }
    }

    @Test
    void aPairGetsTheSecondTextsTokenTypes() throws IOException {
        JsonObject p = fixture().getAsJsonObject("pair");
        Tokenizer.Encoded e = tok.encode(p.get("text").getAsString() + "\t" + p.get("pair").getAsString(), 0);
        assertArrayEquals(ints(p.get("ids")), e.ids());
        assertArrayEquals(ints(p.get("types")), e.types());
        assertTrue(e.types()[e.types().length - 1] == 1, "the second text has type 1");
    }

    @Test
    void truncatesAsTheTokenizerDoesKeepingTheSpecialTokens() throws IOException {
        JsonObject t = fixture().getAsJsonObject("truncated");
        int max = t.get("max_length").getAsInt();
        Tokenizer.Encoded e = tok.encode(t.get("text").getAsString(), max);
        assertArrayEquals(ints(t.get("ids")), e.ids());
        assertTrue(e.truncated());
        assertEquals(tok.encode(t.get("text").getAsString(), 0).ids().length, e.untruncated());
        // The file's own truncation (max_length 64) is not applied unless asked.
        String longText = "word ".repeat(100);
        assertEquals(102, tok.encode(longText, 0).ids().length);
        assertEquals(64, tok.truncation());
    }

    @Test
    void piecesShowTheOriginalTextWithContinuationsJoined() {
        Tokenizer.Encoded e = tok.encode("The programmer NODDED, twice.", 0);
        StringBuilder s = new StringBuilder();
        for (Piece p : e.pieces()) {
            s.append(p.space() && s.length() > 0 ? " " : "").append(p.text());
        }
        assertEquals("[CLS] The programmer NODDED, twice. [SEP]", s.toString());
        assertTrue(e.pieces().get(0).special() && e.pieces().get(e.pieces().size() - 1).special());
        // "nodded" is split (the vocabulary lacks it), and its pieces join without a space.
        long continued = e.pieces().stream().filter(p -> !p.space()).count();
        assertTrue(continued >= 1, e.pieces().toString());
    }

    @Test
    void idsTurnBackIntoTokens() {
        int[] ids = tok.encode("The computer crashed.", 0).ids();
        assertEquals("[CLS]", tok.token(ids[0]));
        assertEquals("computer", tok.token(ids[2]));
        assertNull(tok.token(tok.vocabSize()));
        List<Piece> pieces = tok.pieces(ids);
        StringBuilder s = new StringBuilder();
        for (Piece p : pieces) {
            s.append(p.space() && s.length() > 0 ? " " : "").append(p.text());
        }
        assertEquals("[CLS] the computer crashed . [SEP]", s.toString().replace("crash ed", "crashed")
                .replace("crash e d", "crashed"));
        assertArrayEquals(new int[] {ids[2]}, tok.idsOf("Computer"));
    }

    @Test
    void aFileThatIsNotATokenizerIsAFormatErrorNamingIt() throws IOException {
        Path notJson = dir.resolve("bad.json");
        Files.writeString(notJson, "{\"model\": ");
        FormatException e = assertThrows(FormatException.class, () -> Tokenizer.load(notJson));
        assertTrue(e.getMessage().startsWith(notJson.toString()), e.getMessage());
        Path noModel = dir.resolve("nomodel.json");
        Files.writeString(noModel, "{\"version\": \"1.0\"}");
        assertTrue(assertThrows(FormatException.class, () -> Tokenizer.load(noModel)).getMessage()
                .contains("no \"model\""));
        // Valid JSON with a vocabulary, but a model type the library does not know.
        Path unknown = dir.resolve("unknown.json");
        Files.writeString(unknown, Files.readString(FILE).replace("\"type\":\"WordPiece\",\"unk_token\"",
                "\"type\":\"NoSuchModel\",\"unk_token\""));
        FormatException u = assertThrows(FormatException.class, () -> Tokenizer.load(unknown));
        assertTrue(u.getMessage().contains("not a HuggingFace tokenizer.json"), u.getMessage());
    }

    @Test
    void aNativeLibraryThatCannotLoadIsOneLineNamingTheCause() {
        LrpException e = Tokenizer.nativeFailure(new IllegalStateException("wrapped",
                new UnsatisfiedLinkError("libtokenizers.so: cannot open shared object file\nmore")));
        assertTrue(e.getMessage().contains("native library"), e.getMessage());
        assertTrue(e.getMessage().endsWith("libtokenizers.so: cannot open shared object file"), e.getMessage());
        assertEquals(1, e.getMessage().lines().count());
    }
}
