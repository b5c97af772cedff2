package org.gpulrp.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.gpulrp.io.text.Tokenizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The texts on stdout: coloured with 24-bit ANSI escapes when stdout is a terminal (a pseudo-terminal made by
 * util-linux's {@code script}), plain otherwise. Separate JVMs, as {@code System.console()} looks at the real streams.
 */
class TextTerminalTest {
    private static final Path SCRIPT = Path.of("/usr/bin/script");

    @TempDir
    Path dir;

    private List<String> command() throws IOException {
        Path model = dir.resolve("toy.onnx");
        Files.write(model, new byte[] {0});
        int vocab;
        try (Tokenizer t = Tokenizer.load(Path.of(TextExplainTest.TOKENIZER))) {
            vocab = t.vocabSize();
        }
        return List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "--add-modules",
                "jdk.incubator.vector", "-cp", System.getProperty("java.class.path"),
                ToyTokenModels.class.getName(), "toy-classifier:" + vocab, "explain", "--model", model.toString(),
                "--tokenizer", TextExplainTest.TOKENIZER, "--text", "The computer crashed.", "--backend", "cpu");
    }

    private static String run(List<String> cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).directory(Path.of("").toAbsolutePath().toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        byte[] out = p.getInputStream().readAllBytes();
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), err);
        return new String(out, StandardCharsets.UTF_8);
    }

    private static String quote(String s) {
        return "'" + s.replace("'", "'\\''") + "'";
    }

    @Test
    void colouredOnATerminalPlainInAPipe() throws Exception {
        List<String> cmd = command();
        String plain = run(cmd);
        assertFalse(plain.contains("\u001b"), plain);
        assertTrue(plain.contains("[CLS][") && plain.contains(" computer["), plain);

        assumeTrue(Files.isExecutable(SCRIPT), "util-linux's script is not installed");
        List<String> quoted = new ArrayList<>();
        cmd.forEach(a -> quoted.add(quote(a)));
        String tty = run(List.of(SCRIPT.toString(), "-qec", String.join(" ", quoted), "/dev/null"));
        assertTrue(tty.contains("\u001b[48;2;") && tty.contains("\u001b[0m"), tty);
        assertTrue(tty.matches("(?s).*\u001b\\[48;2;\\d+;\\d+;\\d+m\u001b\\[38;2;\\d+;\\d+;\\d+mcomputer\u001b\\[0m.*"),
                tty);
        assertFalse(tty.contains("computer["), "no numbers on a terminal");
    }
}
