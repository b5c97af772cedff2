package org.gpulrp.io.torch;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;
import org.gpulrp.io.ModelFormatException;
import org.gpulrp.io.Npy;

/**
 * Reads {@code .safetensors}: an 8-byte little-endian header length N, N bytes of JSON mapping each name to {@code
 * {dtype, shape, data_offsets: [begin, end]}} (offsets relative to the data after the header) plus an optional
 * {@code __metadata__}, then the little-endian data. Every claimed size is checked against the file before reading.
 */
final class Safetensors {
    /** The format's own limit on the header. */
    private static final long MAX_HEADER = 100L << 20;

    private Safetensors() {
    }

    static Map<String, Npy.Array> read(Path file) {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long fileSize = ch.size();
            if (fileSize < 8) {
                throw fail(file, "too short for a safetensors header (" + fileSize + " bytes)");
            }
            long n = readFully(ch, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
            if (n < 0 || n > fileSize - 8) {
                throw fail(file, "the header claims " + Long.toUnsignedString(n) + " bytes but only "
                        + (fileSize - 8) + " follow the length; the file is truncated or not safetensors");
            }
            if (n > MAX_HEADER) {
                throw fail(file, "the header claims " + n + " bytes, more than the format's 100 MB limit");
            }
            String json = utf8(readFully(ch, 8, (int) n), file);
            JsonObject header;
            try {
                JsonElement el = JsonParser.parseString(json);
                if (!el.isJsonObject()) {
                    throw fail(file, "the header is JSON but not an object");
                }
                header = el.getAsJsonObject();
            } catch (JsonParseException | IllegalStateException e) {
                throw fail(file, "the header is not valid JSON (" + e.getMessage() + ")");
            }
            long dataStart = 8 + n;
            long dataSize = fileSize - dataStart;
            Map<String, Npy.Array> out = new LinkedHashMap<>();
            for (Map.Entry<String, JsonElement> e : header.entrySet()) {
                if (e.getKey().equals("__metadata__")) {
                    continue;
                }
                out.put(e.getKey(), tensor(ch, file, e.getKey(), e.getValue(), dataStart, dataSize));
            }
            return out;
        } catch (IOException e) {
            throw new ModelFormatException(file + ": cannot read (" + e.getMessage() + ")", e);
        }
    }

    private static Npy.Array tensor(FileChannel ch, Path file, String name, JsonElement el, long dataStart,
            long dataSize) throws IOException {
        String where = "tensor '" + name + "'";
        if (!el.isJsonObject()) {
            throw fail(file, where + " is not a JSON object");
        }
        JsonObject o = el.getAsJsonObject();
        String dtypeName = string(o.get("dtype"), file, where + " dtype");
        DType dtype = DType.ofSafetensors(dtypeName);
        if (dtype == null) {
            throw fail(file, where + " has dtype '" + dtypeName + "', which is not supported; supported: "
                    + DType.supportedSafetensors());
        }
        JsonArray shapeJson = array(o.get("shape"), file, where + " shape");
        int[] shape = new int[shapeJson.size()];
        long count = 1;
        for (int k = 0; k < shape.length; k++) {
            long d = integer(shapeJson.get(k), file, where + " shape");
            if (d < 0 || d > Integer.MAX_VALUE) {
                throw fail(file, where + " has shape entry " + d);
            }
            count *= d;
            if (count > Integer.MAX_VALUE - 8) {
                throw fail(file, where + " is too large for one Java array");
            }
            shape[k] = (int) d;
        }
        JsonArray offsets = array(o.get("data_offsets"), file, where + " data_offsets");
        if (offsets.size() != 2) {
            throw fail(file, where + " data_offsets must be [begin, end], has " + offsets.size() + " entries");
        }
        long begin = integer(offsets.get(0), file, where + " data_offsets");
        long end = integer(offsets.get(1), file, where + " data_offsets");
        if (begin < 0 || end < begin || end > dataSize) {
            throw fail(file, where + " data_offsets [" + begin + ", " + end + "] lie outside the "
                    + dataSize + " data bytes");
        }
        long bytes = count * dtype.width;
        if (end - begin != bytes) {
            throw fail(file, where + " of shape " + java.util.Arrays.toString(shape) + " " + dtypeName + " needs "
                    + bytes + " bytes but data_offsets give " + (end - begin));
        }
        byte[] raw = readFully(ch, dataStart + begin, (int) bytes).array();
        return new Npy.Array(dtype.toFloats(raw, 0, (int) count, ByteOrder.LITTLE_ENDIAN), shape);
    }

    private static ByteBuffer readFully(FileChannel ch, long position, int length) throws IOException {
        ByteBuffer bb = ByteBuffer.allocate(length);
        while (bb.hasRemaining()) {
            if (ch.read(bb, position + bb.position()) < 0) {
                throw new IOException("unexpected end of file");
            }
        }
        bb.flip();
        return bb;
    }

    private static String utf8(ByteBuffer bb, Path file) {
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(bb).toString();
        } catch (CharacterCodingException e) {
            throw fail(file, "the header is not valid UTF-8; not a safetensors file?");
        }
    }

    private static String string(JsonElement e, Path file, String what) {
        if (e == null || !e.isJsonPrimitive() || !e.getAsJsonPrimitive().isString()) {
            throw fail(file, what + " is missing or not a string");
        }
        return e.getAsString();
    }

    private static JsonArray array(JsonElement e, Path file, String what) {
        if (e == null || !e.isJsonArray()) {
            throw fail(file, what + " is missing or not an array");
        }
        return e.getAsJsonArray();
    }

    private static long integer(JsonElement e, Path file, String what) {
        if (e == null || !e.isJsonPrimitive() || !((JsonPrimitive) e).isNumber()) {
            throw fail(file, what + " holds a non-number");
        }
        try {
            return e.getAsJsonPrimitive().getAsBigDecimal().longValueExact();
        } catch (ArithmeticException | NumberFormatException x) {
            throw fail(file, what + " holds " + e + ", not a 64-bit integer");
        }
    }

    private static ModelFormatException fail(Path file, String message) {
        return new ModelFormatException(file + ": " + message);
    }
}
