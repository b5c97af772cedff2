package org.gpulrp.cli;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.gpulrp.LrpException;
import org.gpulrp.Target;
import org.gpulrp.Tensor;
import org.gpulrp.io.AtomicFiles;
import org.gpulrp.io.Csv;
import org.gpulrp.io.FormatException;
import org.gpulrp.io.Npy;

/**
 * The command's data files: inputs and targets read from {@code .npy} or {@code .csv}, relevances written in the
 * input's shape (and, for CSV, with its header), each output whole or not at all.
 */
final class DataFiles {
    /** The file formats, chosen by extension. */
    enum Format { NPY, CSV }

    /**
     * An input batch: the tensor the explainer takes, the shape it had in the file, and the CSV header (null when
     * the file had none or was not CSV).
     */
    record Input(Path file, Tensor tensor, int[] shape, List<String> header) {
    }

    private DataFiles() {
    }

    /** The format of a file by its extension, or null for anything else. */
    static Format format(Path file) {
        String n = String.valueOf(file.getFileName()).toLowerCase(Locale.ROOT);
        return n.endsWith(".npy") ? Format.NPY : n.endsWith(".csv") ? Format.CSV : null;
    }

    /** Reads a batch of samples of {@code features} values each; errors name the file and the expected shape. */
    static Input read(Path file, int features) {
        ModelOptions.requireFile(file, "--input");
        return Failures.naming(file, () -> format(file) == Format.NPY ? npy(file, features) : csv(file, features));
    }

    private static Input npy(Path file, int features) {
        Npy.Array a = Npy.read(file);
        int[] s = a.shape();
        if (s.length == 0) {
            throw new FormatException(file + ": holds a single number; the model takes " + features
                    + " features per sample (shape [batch, " + features + "])");
        }
        int rows = s.length == 1 ? 1 : s[0];
        if (rows == 0 || a.data().length == 0) {
            throw new FormatException(file + ": shape " + Arrays.toString(s) + " holds no samples");
        }
        int per = a.data().length / rows;
        if (per != features) {
            throw new FormatException(file + ": shape " + Arrays.toString(s) + " has " + per + " values per sample "
                    + "but the model takes " + features + " (shape [batch, " + features + "])");
        }
        return new Input(file, new Tensor(a.data(), s.length == 1 ? new int[] {1, per} : s), s, null);
    }

    private static Input csv(Path file, int features) {
        String text = Csv.readText(file);
        Csv.Table t = Csv.parse(text, file.toString());
        if (t.rows().length == 0) {
            throw new FormatException(file + ": holds no data rows");
        }
        int width = t.columns().size();
        if (width != features) {
            throw new FormatException(file + ": has " + width + " columns but the model takes " + features
                    + " features per sample");
        }
        // Csv invents column0.. names for a header-less file; find out whether the first line was a header.
        String first = text.lines().filter(l -> !l.isBlank()).findFirst().orElse("");
        boolean header = Csv.parse(first, file.toString()).rows().length == 0;
        return new Input(file, Tensor.ofRows(t.rows()), new int[] {t.rows().length, width},
                header ? t.columns() : null);
    }

    /** Writes the input relevance to {@code out}: same shape as the input (.npy) or same header (.csv). */
    static void writeRelevance(Path out, Input in, Tensor relevance) {
        float[] data = relevance.toArray();
        if (format(out) == Format.NPY) {
            Npy.write(out, data, in.shape());
        } else {
            writeCsv(out, in.header(), data, relevance.rows());
        }
    }

    /** Writes rows of numbers as CSV (shortest round-tripping decimal per value), atomically. */
    static void writeCsv(Path out, List<String> header, float[] data, int rows) {
        int cols = data.length / rows;
        StringBuilder sb = new StringBuilder(data.length * 14);
        if (header != null) {
            sb.append(String.join(",", header)).append('\n');
        }
        for (int b = 0; b < rows; b++) {
            for (int i = 0; i < cols; i++) {
                sb.append(i == 0 ? "" : ",").append(Float.toString(data[b * cols + i]));
            }
            sb.append('\n');
        }
        AtomicFiles.write(out, sb.toString().getBytes(StandardCharsets.UTF_8));
    }

    /**
     * Reads {@code --target FILE.npy}: one class index per sample (an int or float array of {@code rows} values,
     * each a whole number >= 0).
     */
    static Target targets(Path file, int rows) {
        ModelOptions.requireFile(file, "--target");
        return Failures.naming(file, () -> {
            Npy.Array a = Npy.read(file);
            float[] v = a.data();
            if (v.length != rows) {
                throw new FormatException(file + ": holds " + v.length + " class indices (shape "
                        + Arrays.toString(a.shape()) + ") but the input has " + rows + " samples");
            }
            int[] idx = new int[rows];
            for (int b = 0; b < rows; b++) {
                if (!(v[b] >= 0) || v[b] != Math.rint(v[b]) || v[b] > Integer.MAX_VALUE) {
                    throw new FormatException(file + ": element " + b + " is " + v[b]
                            + ", not a class index (a whole number >= 0)");
                }
                idx[b] = (int) v[b];
            }
            return Target.perSample(idx);
        });
    }

    /** A file name for a node's relevance: the node name with anything but letters, digits, '.', '-' and '_' replaced. */
    static String fileName(String node) {
        String s = node.replaceAll("[^A-Za-z0-9._-]", "_").replaceAll("^[._]+", "");
        return (s.isEmpty() ? "node" : s) + ".npy";
    }

    /** Fails when the folder for {@code out} does not exist, before any work is done. */
    static void requireParent(Path out, String option) {
        Path dir = out.toAbsolutePath().getParent();
        if (dir != null && !Files.isDirectory(dir)) {
            throw new LrpException(option + " " + out + ": folder " + dir + " does not exist");
        }
    }
}
