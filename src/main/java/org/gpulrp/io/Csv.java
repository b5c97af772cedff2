package org.gpulrp.io;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Numeric CSV tables: comma-separated, an optional header row (detected when its first field is not a number) whose
 * names become feature names. Quoted fields are not needed for numbers and are refused.
 */
public final class Csv {

    /** Rows of numbers with column names ({@code column0..} when the file has no header). */
    public record Table(List<String> columns, float[][] rows) {
        public int column(String name) {
            int k = columns.indexOf(name);
            if (k < 0) {
                throw new FormatException("no column '" + name + "'; columns: " + columns);
            }
            return k;
        }
    }

    private Csv() {
    }

    /**
     * Reads a UTF-8 CSV file.
     *
     * @throws FormatException      when the file is not UTF-8 text or not a numeric table; names the file and line
     * @throws UncheckedIOException when the file cannot be read at all
     */
    public static Table read(Path file) {
        return parse(readText(file), file.toString());
    }

    /**
     * The file's text, decoded strictly as UTF-8.
     *
     * @throws FormatException      when the bytes are not UTF-8; names the file
     * @throws UncheckedIOException when the file cannot be read at all
     */
    public static String readText(Path file) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        }
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new FormatException(file + ": not UTF-8 text (" + e.getMessage() + "); is it a CSV file?", e);
        }
    }

    /** Parses CSV text; {@code file} names it in error messages. */
    public static Table parse(String content, String file) {
        List<String> lines = content.lines().toList();
        List<String> columns = null;
        List<float[]> rows = new ArrayList<>();
        int width = -1;
        for (int ln = 0; ln < lines.size(); ln++) {
            String line = lines.get(ln).strip();
            if (line.isEmpty()) {
                continue;
            }
            String[] f = line.split(",", -1);
            if (width < 0) {
                width = f.length;
                if (!isNumber(f[0].strip())) {
                    columns = new ArrayList<>();
                    for (String s : f) {
                        columns.add(s.strip());
                    }
                    continue;
                }
            }
            if (f.length != width) {
                throw new FormatException(file + " line " + (ln + 1) + ": " + f.length + " fields, expected "
                        + width);
            }
            float[] r = new float[width];
            for (int k = 0; k < width; k++) {
                String s = f[k].strip();
                if (!isNumber(s)) {
                    throw new FormatException(file + " line " + (ln + 1) + " field " + (k + 1) + ": '" + s
                            + "' is not a number");
                }
                r[k] = Float.parseFloat(s);
            }
            rows.add(r);
        }
        if (width < 0) {
            throw new FormatException(file + ": empty CSV file");
        }
        if (columns == null) {
            columns = new ArrayList<>();
            for (int k = 0; k < width; k++) {
                columns.add("column" + k);
            }
        }
        return new Table(List.copyOf(columns), rows.toArray(new float[0][]));
    }

    private static boolean isNumber(String s) {
        if (s.isEmpty()) {
            return false;
        }
        try {
            Float.parseFloat(s);
            return !s.endsWith("f") && !s.endsWith("F") && !s.endsWith("d") && !s.endsWith("D");
        } catch (NumberFormatException e) {
            return false;
        }
    }
}
