package org.gpulrp.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.gpulrp.io.Csv;
import org.gpulrp.io.FormatException;
import org.gpulrp.io.onnx.OnnxImporter;
import org.gpulrp.model.Network;

/**
 * The built-in example: the article's SampleModel (Linear 10-32, ReLU, Linear 32-16, ReLU, Linear 16-1, Sigmoid)
 * trained on the ten "mean" features of the Wisconsin breast cancer data ({@code scripts/train_sample_model.py}),
 * with eight held-out rows. Loaded from the classpath (its {@code model.onnx}, {@code heldout.csv} and
 * {@code scaler.csv}), where the build puts {@code examples/breast-cancer}.
 */
public final class SampleModel {
    private static final String BASE = "/org/gpulrp/examples/breast-cancer/";

    /** Held-out rows: raw values, standardized values, names and labels. */
    public record Rows(List<String> features, float[][] raw, float[][] standardized, String[] diagnosis) {
    }

    private SampleModel() {
    }

    /** The sample model, loaded from the example's {@code model.onnx} on the classpath. */
    public static Network network() {
        return OnnxImporter.load(bytes("model.onnx"), "model.onnx", null);
    }

    /** The held-out rows, standardized with the training split's scaler. */
    public static Rows heldOut() {
        Csv.Table rows = Csv.parse(text("heldout.csv"), "heldout.csv");
        // scaler.csv: feature,mean,std ; heldout-labels.csv: row,label,diagnosis,model_probability
        List<String[]> scaler = fields(text("scaler.csv"));
        List<String[]> labels = fields(text("heldout-labels.csv"));
        float[][] raw = rows.rows();
        float[][] std = new float[raw.length][];
        String[] diagnosis = new String[raw.length];
        for (int b = 0; b < raw.length; b++) {
            std[b] = new float[raw[b].length];
            for (int i = 0; i < raw[b].length; i++) {
                double mean = Double.parseDouble(scaler.get(i)[1]);
                double sd = Double.parseDouble(scaler.get(i)[2]);
                std[b][i] = (float) ((raw[b][i] - mean) / sd);
            }
            diagnosis[b] = labels.get(b)[2];
        }
        return new Rows(rows.columns(), raw, std, diagnosis);
    }

    private static byte[] bytes(String name) {
        try (InputStream in = SampleModel.class.getResourceAsStream(BASE + name)) {
            if (in == null) {
                throw new FormatException("built-in example file " + name + " is missing from the classpath; "
                        + "rebuild with mvn package");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Comma-split lines after the header. */
    private static List<String[]> fields(String text) {
        return text.lines().skip(1).filter(l -> !l.isBlank()).map(l -> l.split(",")).toList();
    }

    private static String text(String name) {
        return new String(bytes(name), StandardCharsets.UTF_8);
    }
}
