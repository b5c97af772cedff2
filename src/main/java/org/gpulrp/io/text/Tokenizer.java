package org.gpulrp.io.text;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.djl.huggingface.tokenizers.jni.CharSpan;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.gpulrp.LrpException;
import org.gpulrp.io.FormatException;

/**
 * A HuggingFace {@code tokenizer.json}, run by HuggingFace's own Rust implementation through DJL's binding
 * ({@code ai.djl.huggingface:tokenizers}); the only class that names DJL. Texts are encoded whole, with the
 * tokenizer's special tokens and without its padding or truncation (the caller pads a batch; {@link #encode(String,
 * int)} truncates as the tokenizer would). The vocabulary is read from the file as well, for turning ids back into
 * tokens.
 *
 * <p>DJL is run offline: it would otherwise contact a cloud metadata service and a telemetry server on first use,
 * and download its native library where the jar lacks one. The jar carries the library for linux-x86_64,
 * linux-aarch64, osx-aarch64 and win-x86_64, which DJL copies to {@code ~/.djl.ai/tokenizers} (or
 * {@code $DJL_CACHE_DIR}) and loads from there; when that fails, {@link #load} says so in one line.
 */
public final class Tokenizer implements AutoCloseable {
    static {
        // Before any DJL class loads: no network access, the CPU build of the native library, no SLF4J chatter.
        setIfAbsent("ai.djl.offline", "true");
        setIfAbsent("OPT_OUT_TRACKING", "true");
        setIfAbsent("RUST_FLAVOR", "cpu");
        setIfAbsent("slf4j.internal.verbosity", "ERROR");
    }

    private final Path file;
    private final HuggingFaceTokenizer whole;
    private final Map<Integer, HuggingFaceTokenizer> truncating = new HashMap<>();
    private final Map<Integer, String> tokens;
    private final int vocabSize;
    private final int truncation;

    private Tokenizer(Path file, HuggingFaceTokenizer whole, Map<Integer, String> tokens, int truncation) {
        this.file = file;
        this.whole = whole;
        this.tokens = tokens;
        this.truncation = truncation;
        this.vocabSize = tokens.keySet().stream().mapToInt(Integer::intValue).max().orElse(-1) + 1;
    }

    private static void setIfAbsent(String key, String value) {
        if (System.getProperty(key) == null) {
            System.setProperty(key, value);
        }
    }

    /**
     * One encoded text.
     *
     * @param ids       token ids, special tokens included
     * @param types     token type ids (0, and 1 on the second text of a pair)
     * @param pieces    what each token shows of the text, for display
     * @param untruncated the length before truncation (the length of {@code ids} when not truncated)
     */
    public record Encoded(int[] ids, int[] types, List<Piece> pieces, int untruncated) {
        public boolean truncated() {
            return untruncated > ids.length;
        }
    }

    /**
     * Reads {@code file}; a file that is not a tokenizer DJL can build, or a native library that cannot load, is a
     * {@link FormatException} or an {@link LrpException} naming the file and the cause.
     */
    public static Tokenizer load(Path file) {
        String json;
        try {
            json = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": cannot read the tokenizer: " + e.getMessage(), e);
        }
        JsonObject root = parse(file, json);
        Map<Integer, String> vocab = vocabulary(file, root);
        HuggingFaceTokenizer t;
        try {
            t = build(file, 0);
        } catch (UnsatisfiedLinkError | NoClassDefFoundError | ExceptionInInitializerError e) {
            throw nativeFailure(e);
        } catch (IOException | RuntimeException e) {
            if (isNative(e)) {
                throw nativeFailure(e);
            }
            throw new FormatException(file + ": not a HuggingFace tokenizer.json that the tokenizers library "
                    + "accepts: " + firstLine(e));
        }
        return new Tokenizer(file, t, vocab, truncation(root));
    }

    private static HuggingFaceTokenizer build(Path file, int maxLength) throws IOException {
        HuggingFaceTokenizer.Builder b = HuggingFaceTokenizer.builder().optTokenizerPath(file)
                .optAddSpecialTokens(true).optPadding(false).optTruncation(maxLength > 0);
        if (maxLength > 0) {
            b.optMaxLength(maxLength);
        }
        return b.build();
    }

    /** Whether an exception from building the tokenizer comes from loading the native library. */
    private static boolean isNative(Throwable e) {
        for (Throwable c = e; c != null; c = c.getCause()) {
            if (c instanceof UnsatisfiedLinkError || c.getClass().getName().equals("ai.djl.engine.EngineException")
                    || String.valueOf(c.getMessage()).contains("native")) {
                return true;
            }
        }
        return false;
    }

    /** The one line that says the native library could not be loaded, and why. */
    static LrpException nativeFailure(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return new LrpException("--tokenizer: the HuggingFace tokenizers native library (DJL "
                + "ai.djl.huggingface:tokenizers) could not be loaded on " + System.getProperty("os.name") + " "
                + System.getProperty("os.arch") + ": " + firstLine(root), e);
    }

    private static String firstLine(Throwable e) {
        String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        return m.strip().lines().findFirst().orElse(m);
    }

    private static JsonObject parse(Path file, String json) {
        try {
            JsonElement e = JsonParser.parseString(json);
            if (!e.isJsonObject()) {
                throw new FormatException(file + ": not a tokenizer.json (a JSON object with a \"model\")");
            }
            return e.getAsJsonObject();
        } catch (JsonParseException e) {
            throw new FormatException(file + ": not valid JSON: " + firstLine(e));
        }
    }

    /** {@code truncation.max_length}, or 0 where the file sets no truncation. */
    private static int truncation(JsonObject root) {
        JsonElement t = root.get("truncation");
        JsonElement m = t != null && t.isJsonObject() ? t.getAsJsonObject().get("max_length") : null;
        if (m == null || !m.isJsonPrimitive() || !m.getAsJsonPrimitive().isNumber()) {
            return 0;
        }
        return Math.max(0, m.getAsInt());
    }

    /** Id to token from {@code model.vocab} (an object, or Unigram's list of pairs) and {@code added_tokens}. */
    private static Map<Integer, String> vocabulary(Path file, JsonObject root) {
        Map<Integer, String> ids = new HashMap<>();
        try {
            JsonElement model = root.get("model");
            JsonElement vocab = model != null && model.isJsonObject() ? model.getAsJsonObject().get("vocab") : null;
            if (vocab == null) {
                throw new FormatException(file + ": not a tokenizer.json: no \"model\" with a \"vocab\"");
            }
            if (vocab.isJsonObject()) {
                for (Map.Entry<String, JsonElement> v : vocab.getAsJsonObject().entrySet()) {
                    ids.put(v.getValue().getAsInt(), v.getKey());
                }
            } else {
                JsonArray list = vocab.getAsJsonArray();
                for (int i = 0; i < list.size(); i++) {
                    ids.put(i, list.get(i).getAsJsonArray().get(0).getAsString());
                }
            }
            JsonElement added = root.get("added_tokens");
            if (added != null && added.isJsonArray()) {
                for (JsonElement a : added.getAsJsonArray()) {
                    ids.put(a.getAsJsonObject().get("id").getAsInt(), a.getAsJsonObject().get("content")
                            .getAsString());
                }
            }
        } catch (IllegalStateException | UnsupportedOperationException | NumberFormatException
                 | NullPointerException | IndexOutOfBoundsException e) {
            throw new FormatException(file + ": not a tokenizer.json: its vocabulary does not parse ("
                    + firstLine(e) + ")");
        }
        return ids;
    }

    /** The file read. */
    public Path file() {
        return file;
    }

    /** One more than the largest id of the vocabulary (added tokens included). */
    public int vocabSize() {
        return vocabSize;
    }

    /** The length the file truncates encodings at ({@code truncation.max_length}), or 0 when it sets none. */
    public int truncation() {
        return truncation;
    }

    /** The token of {@code id} as the vocabulary spells it, or null for an id it lacks. */
    public String token(int id) {
        return tokens.get(id);
    }

    /**
     * Encodes a text with the special tokens; a text with a tab is the pair (before, after) and gets token types 1
     * on its second part where the tokenizer's template says so. With {@code maxLength > 0}, a longer encoding is
     * truncated as the tokenizer truncates (its special tokens kept), {@link Encoded#untruncated()} saying how long
     * it was.
     */
    public Encoded encode(String text, int maxLength) {
        int tab = text.indexOf('\t');
        String a = tab < 0 ? text : text.substring(0, tab);
        String b = tab < 0 ? null : text.substring(tab + 1);
        Encoding whole = encode(this.whole, a, b);
        Encoding e = whole;
        if (maxLength > 0 && whole.getIds().length > maxLength) {
            e = encode(truncating.computeIfAbsent(maxLength, this::truncatingAt), a, b);
        }
        long[] ids = e.getIds();
        long[] types = e.getTypeIds();
        long[] special = e.getSpecialTokenMask();
        long[] sequence = e.getSequenceIds();
        CharSpan[] spans = e.getCharTokenSpans();
        String[] toks = e.getTokens();
        int[] id = new int[ids.length];
        int[] type = new int[ids.length];
        List<Piece> pieces = new ArrayList<>(ids.length);
        int end = -1;
        long seq = -1;
        for (int i = 0; i < ids.length; i++) {
            id[i] = Math.toIntExact(ids[i]);
            type[i] = Math.toIntExact(types[i]);
            CharSpan s = spans == null || i >= spans.length ? null : spans[i];
            String source = sequence != null && i < sequence.length && sequence[i] == 1 ? b : a;
            if (special[i] == 1 || s == null || s.getStart() >= s.getEnd() || source == null
                    || s.getEnd() > source.codePointCount(0, source.length())) {
                pieces.add(new Piece(toks[i], true, special[i] == 1));
                end = -1;
            } else {
                // The spans count characters (code points), Java strings UTF-16 units.
                long sq = sequence == null || i >= sequence.length ? 0 : sequence[i];
                boolean space = end < 0 || sq != seq || s.getStart() > end;
                pieces.add(new Piece(source.substring(source.offsetByCodePoints(0, s.getStart()),
                        source.offsetByCodePoints(0, s.getEnd())), space, false));
                end = s.getEnd();
                seq = sq;
            }
        }
        return new Encoded(id, type, pieces, whole.getIds().length);
    }

    private HuggingFaceTokenizer truncatingAt(int maxLength) {
        try {
            return build(file, maxLength);
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": " + e.getMessage(), e);
        }
    }

    private static Encoding encode(HuggingFaceTokenizer t, String a, String b) {
        return b == null ? t.encode(a, true, false) : t.encode(a, b, true, false);
    }

    /** The ids of a text without special tokens (for naming one token by its text). */
    public int[] idsOf(String text) {
        long[] ids = whole.encode(text, false, false).getIds();
        int[] out = new int[ids.length];
        for (int i = 0; i < ids.length; i++) {
            out[i] = Math.toIntExact(ids[i]);
        }
        return out;
    }

    /**
     * Display pieces for ids without their text (an ids file): each token as the vocabulary spells it, with the
     * usual subword marks turned into spacing ({@code ##x} joins the previous piece, {@code Ġx} and {@code ▁x}
     * start a new word); an id the vocabulary lacks shows as {@code #id}.
     */
    public List<Piece> pieces(int[] ids) {
        return Piece.fromTokens(ids, this::token);
    }

    @Override
    public void close() {
        whole.close();
        truncating.values().forEach(HuggingFaceTokenizer::close);
        truncating.clear();
    }
}
