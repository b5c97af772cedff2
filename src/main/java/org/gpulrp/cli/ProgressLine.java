package org.gpulrp.cli;

import java.io.PrintWriter;
import java.util.Locale;
import java.util.function.LongSupplier;
import org.gpulrp.io.NpyStreams;

/**
 * A one-line progress display on stderr for long runs: samples done of the total, samples per second and the time
 * left, redrawn in place ({@code \r}) at most a few times per second, ended with a newline by {@link #finish()}.
 */
final class ProgressLine implements NpyStreams.Progress {
    /** Redraws at most this often (the last update is always drawn). */
    static final long INTERVAL_NANOS = 250_000_000L;

    private final PrintWriter err;
    private final LongSupplier clock;
    private final long start;
    private long last = Long.MIN_VALUE;
    private boolean drawn;
    private int width;

    ProgressLine(PrintWriter err, LongSupplier nanoClock) {
        this.err = err;
        this.clock = nanoClock;
        this.start = nanoClock.getAsLong();
    }

    /** Whether to show progress: {@code --progress} forces it, {@code --quiet} stops it, else only on a terminal. */
    static boolean wanted(boolean progress, boolean quiet) {
        return !quiet && (progress || System.console() != null);
    }

    @Override
    public void update(long done, long total) {
        long now = clock.getAsLong();
        if (done < total && last != Long.MIN_VALUE && now - last < INTERVAL_NANOS) {
            return;
        }
        last = now;
        String line = format(done, total, now - start);
        // Pad over a longer previous line so no stale characters remain.
        err.print("\r" + line + " ".repeat(Math.max(0, width - line.length())));
        err.flush();
        width = line.length();
        drawn = true;
    }

    /** Ends the line (when anything was drawn) so later messages start on their own line. */
    void finish() {
        if (drawn) {
            err.println();
            err.flush();
            drawn = false;
        }
    }

    /** E.g. {@code gpulrp: 12000/50000 samples (24.0%), 5210 samples/s, ETA 0:07}. */
    static String format(long done, long total, long elapsedNanos) {
        double seconds = elapsedNanos / 1e9;
        double rate = seconds > 0 ? done / seconds : 0;
        String eta = rate > 0 ? clock((long) Math.ceil((total - done) / rate)) : "?";
        return String.format(Locale.ROOT, "gpulrp: %d/%d samples (%.1f%%), %.0f samples/s, ETA %s", done, total,
                total == 0 ? 100.0 : 100.0 * done / total, rate, eta);
    }

    /** Seconds as {@code m:ss} or {@code h:mm:ss}. */
    static String clock(long s) {
        return s >= 3600 ? String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
                : String.format(Locale.ROOT, "%d:%02d", s / 60, s % 60);
    }
}
