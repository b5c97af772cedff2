package org.gpulrp.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

/** One run of the command through {@link Main#run}, with what it printed; helpers shared by the CLI tests. */
record CliRun(int code, String out, String err) {
    /** The example model's ONNX file, relative to the project root (where the tests run). */
    static final String MODEL = "examples/breast-cancer/model.onnx";
    static final String WEIGHTS = "examples/breast-cancer/model_weights.pth";
    static final String ARCH = "fc1:linear,relu,fc2:linear,relu,fc3:linear,sigmoid";

    static CliRun of(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new CliRun(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    /** The non-empty lines on stderr. */
    List<String> errLines() {
        return err.lines().filter(l -> !l.isBlank()).toList();
    }

    /** Same values, bit for bit. */
    static void assertBits(float[] expected, float[] actual) {
        assertEquals(expected.length, actual.length, "length");
        for (int k = 0; k < expected.length; k++) {
            assertEquals(Float.floatToRawIntBits(expected[k]), Float.floatToRawIntBits(actual[k]),
                    "element " + k + ": " + expected[k] + " vs " + actual[k]);
        }
    }

    /**
     * Runs {@code base} followed by each of {@code extras}: every run a usage error (exit 2) whose first line starts
     * {@code gpulrp: }, and {@code out} never created.
     */
    static void assertUsageErrors(List<String> base, String[][] extras, java.nio.file.Path out) {
        for (String[] extra : extras) {
            List<String> args = new java.util.ArrayList<>(base);
            args.addAll(List.of(extra));
            CliRun r = of(args.toArray(String[]::new));
            assertEquals(2, r.code(), r.toString());
            org.junit.jupiter.api.Assertions.assertTrue(r.errLines().get(0).startsWith("gpulrp: "), r.toString());
            org.junit.jupiter.api.Assertions.assertFalse(java.nio.file.Files.exists(out), String.join(" ", extra));
        }
    }

    @Override
    public String toString() {
        return "exit " + code + "\n--- stdout\n" + out + "--- stderr\n" + err;
    }
}
