package org.gpulrp.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.function.Supplier;
import org.gpulrp.LrpException;

/** Turns a failure into the one line the command prints, and makes sure that line names the file involved. */
final class Failures {
    private Failures() {
    }

    /** Runs {@code body}; a library or I/O error whose message does not name {@code file} gets the file prepended. */
    static <T> T naming(Path file, Supplier<T> body) {
        try {
            return body.get();
        } catch (LrpException | UncheckedIOException e) {
            String m = String.valueOf(e.getMessage());
            if (m.contains(file.toString()) || m.contains(String.valueOf(file.getFileName()))) {
                throw e;
            }
            throw new LrpException(file + ": " + m, e);
        }
    }

    /** One line for the user: the message for expected failures, the exception type too for unexpected ones. */
    static String oneLine(Throwable e) {
        String m = e.getMessage();
        boolean expected = e instanceof LrpException || e instanceof UncheckedIOException
                || e instanceof IOException;
        String text = expected && m != null && !m.isBlank() ? m
                : e + " (an internal error: please report it with the output of --verbose)";
        String first = text.strip().lines().findFirst().orElse(text);
        return first.length() < text.strip().length() ? first + " (more with --verbose)" : first;
    }
}
