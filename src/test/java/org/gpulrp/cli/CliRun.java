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

    @Override
    public String toString() {
        return "exit " + code + "\n--- stdout\n" + out + "--- stderr\n" + err;
    }
}
