package org.gpulrp.fuzz;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.gpulrp.io.FormatException;

/**
 * A seeded mutation fuzzer for one file reader. Input {@code i} of a run is a pure function of the run's seed and
 * {@code i} (a seed file is picked and mutated with {@code new Random(mix(seed, i))}), so any failure reproduces with
 * {@code -Dgpulrp.fuzz.seed=S -Dgpulrp.fuzz.only=i}, printed in the failure together with the file the input was
 * saved to. Each input is written to a scratch file and read on a watchdog thread; it must end in a result or in an
 * accepted exception (by default {@link FormatException}, which includes ModelFormatException) whose message names
 * the file. Anything else fails the test: another exception or error (NPE, index out of bounds, OutOfMemoryError,
 * StackOverflowError, ...), a read slower than {@code gpulrp.fuzz.inputMillis} (default 10 000 ms), or a read that
 * allocates more than a bound linear in the input's size (a sign that a size claimed by the file was believed).
 *
 * <p>System properties: {@code gpulrp.fuzz.seconds} (per reader, default 8), {@code gpulrp.fuzz.seed},
 * {@code gpulrp.fuzz.only}, {@code gpulrp.fuzz.inputMillis}.
 */
final class FuzzRunner<T> {
    static final long SEED = Long.getLong("gpulrp.fuzz.seed", 20261126L);
    static final double SECONDS = Double.parseDouble(System.getProperty("gpulrp.fuzz.seconds", "8"));
    private static final Long ONLY = Long.getLong("gpulrp.fuzz.only");
    private static final long INPUT_MILLIS = Long.getLong("gpulrp.fuzz.inputMillis", 10_000L);
    /** Regression inputs: files that once escaped, replayed before every run. */
    static final Path REGRESSIONS = Path.of("src/test/resources/fuzz");
    private static final Path FAILURES = Path.of("target/fuzz-failures");

    /** Reads the input (already written to {@code file}); the allocation bound applies to this step. */
    interface Reader<T> {
        T read(byte[] input, Path file) throws Exception;
    }

    /** Uses what was read (builds a network, explains once); any exception here is a failure. */
    interface Use<T> {
        void use(T result) throws Exception;
    }

    /** Makes one mutant from a seed; {@code corpus} holds all seeds for splicing. */
    interface Strategy {
        byte[] mutate(Random r, byte[] seed, List<byte[]> corpus);
    }

    /** What a run did, for the report line and for assertions. */
    record Stats(String reader, long inputs, long results, long refused, double seconds, long slowestMillis,
                 long mostAllocated) {
        @Override
        public String toString() {
            return String.format(Locale.ROOT, "fuzz[%s] seed %d: %d inputs in %.1f s, %d results, %d refused; "
                    + "slowest input %d ms, most allocated %.1f MB", reader, SEED, inputs, seconds, results, refused,
                    slowestMillis, mostAllocated / 1e6);
        }
    }

    private final String reader;
    private final String extension;
    private final List<byte[]> seeds;
    private final Strategy strategy;
    private final Reader<T> read;
    private final Use<T> use;
    private Predicate<Throwable> accepted = e -> e instanceof FormatException;
    private long allocationBase = 64L << 20;
    private long allocationPerByte = 256;
    private boolean messageNamesFile = true;

    private long results;
    private long refused;
    private long slowest;
    private long mostAllocated;

    FuzzRunner(String reader, String extension, List<byte[]> seeds, Strategy strategy, Reader<T> read, Use<T> use) {
        this.reader = reader;
        this.extension = extension;
        this.seeds = List.copyOf(seeds);
        this.strategy = strategy;
        this.read = read;
        this.use = use;
        assertTrue(!seeds.isEmpty(), reader + ": no seed files");
    }

    /** Replaces the accepted-exception rule (the default is {@code instanceof FormatException}). */
    FuzzRunner<T> accepting(Predicate<Throwable> rule) {
        this.accepted = rule;
        return this;
    }

    /** Bytes a read may allocate: {@code base + perByte * input length}. */
    FuzzRunner<T> allocationBound(long base, long perByte) {
        this.allocationBase = base;
        this.allocationPerByte = perByte;
        return this;
    }

    /** Whether a refusal's message must contain the file name (true unless the reader is given no name). */
    FuzzRunner<T> messageNamesFile(boolean must) {
        this.messageNamesFile = must;
        return this;
    }

    /** Files of a folder (sorted), read as seeds; names ending in one of {@code suffixes}. */
    static List<byte[]> files(Path dir, String... suffixes) {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.walk(dir)) {
            List<Path> paths = s.filter(Files::isRegularFile)
                    .filter(p -> Stream.of(suffixes).anyMatch(x -> p.getFileName().toString().endsWith(x)))
                    .sorted().toList();
            List<byte[]> out = new ArrayList<>();
            for (Path p : paths) {
                out.add(Files.readAllBytes(p));
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Replays the regression inputs, checks the unmutated seeds, then fuzzes for {@link #SECONDS}.
     *
     * @param scratch a folder for the input files
     */
    Stats run(Path scratch) throws Exception {
        Path file = scratch.resolve("fuzz-" + reader + extension);
        ExecutorService worker = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "fuzz-" + reader);
            t.setDaemon(true); // a hung read must not keep the JVM alive
            return t;
        });
        try {
            long start = System.nanoTime();
            if (ONLY != null) {
                probe(worker, file, input(ONLY), "input " + ONLY);
                return stats(1, start);
            }
            List<byte[]> regressions = files(REGRESSIONS.resolve(reader), "");
            for (int k = 0; k < regressions.size(); k++) {
                probe(worker, file, regressions.get(k), "regression input " + k + " in " + REGRESSIONS.resolve(reader));
            }
            long seedResults = results;
            for (int k = 0; k < seeds.size(); k++) {
                probe(worker, file, seeds.get(k), "seed " + k);
            }
            assertTrue(results > seedResults, reader + ": no seed file reads cleanly; the harness is miswired");
            long deadline = start + (long) (SECONDS * 1e9);
            long i = 0;
            while (System.nanoTime() < deadline) {
                probe(worker, file, input(i), "input " + i);
                i++;
            }
            Stats st = stats(i, start);
            System.out.println(st);
            assertTrue(SECONDS <= 0 || refused > 0, reader + ": no mutant was refused; the mutations do not bite");
            return st;
        } finally {
            worker.shutdownNow();
        }
    }

    private Stats stats(long inputs, long start) {
        return new Stats(reader, inputs, results, refused, (System.nanoTime() - start) / 1e9, slowest, mostAllocated);
    }

    /** Input {@code i}: a function of the run seed and {@code i} only. */
    byte[] input(long i) {
        Random r = new Random(SEED * 0x9E3779B97F4A7C15L + i);
        byte[] seed = seeds.get(r.nextInt(seeds.size()));
        return strategy.mutate(r, seed, seeds);
    }

    private void probe(ExecutorService worker, Path file, byte[] input, String what) throws Exception {
        Files.write(file, input);
        Future<Throwable> f = worker.submit(() -> {
            com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
            long before = mx.getCurrentThreadAllocatedBytes();
            long t0 = System.nanoTime();
            T value;
            try {
                value = read.read(input, file);
            } catch (Throwable e) {
                return e;
            } finally {
                long allocated = mx.getCurrentThreadAllocatedBytes() - before;
                mostAllocated = Math.max(mostAllocated, allocated);
                slowest = Math.max(slowest, (System.nanoTime() - t0) / 1_000_000);
                long bound = allocationBase + allocationPerByte * input.length;
                if (allocated > bound) {
                    return new AssertionError("the read allocated " + allocated + " bytes for a " + input.length
                            + "-byte input (bound " + bound + "): a claimed size was believed");
                }
            }
            try {
                use.use(value);
            } catch (Throwable e) {
                return new AssertionError("the file was read, but using the result failed: " + e, e);
            }
            return null;
        });
        Throwable outcome;
        try {
            outcome = f.get(INPUT_MILLIS, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            f.cancel(true);
            throw failure(what, input, "did not finish within " + INPUT_MILLIS + " ms (a hang?)", null);
        } catch (ExecutionException e) {
            throw failure(what, input, "crashed the harness", e.getCause());
        }
        if (outcome == null) {
            results++;
        } else if (!(outcome instanceof AssertionError) && accepted.test(outcome)) {
            String m = outcome.getMessage();
            if (m == null || m.isBlank() || (messageNamesFile && !m.contains(file.getFileName().toString()))) {
                throw failure(what, input, "was refused with a message that does not name the file: " + m, outcome);
            }
            refused++;
        } else {
            throw failure(what, input, "escaped as " + outcome, outcome);
        }
    }

    private AssertionError failure(String what, byte[] input, String problem, Throwable cause) {
        String saved;
        try {
            Path dir = Files.createDirectories(FAILURES.resolve(reader));
            Path f = dir.resolve("seed" + SEED + "-" + what.replaceAll("[^A-Za-z0-9]+", "_") + extension);
            Files.write(f, input);
            saved = f.toString();
        } catch (IOException e) {
            saved = "(could not save: " + e.getMessage() + ")";
        }
        String again = what.startsWith("input ") ? "mvn test -Dtest='Fuzz*' -Dgpulrp.fuzz.seed=" + SEED
                + " -Dgpulrp.fuzz.only=" + what.substring(6) : "rerun the test (a fixed file)";
        return new AssertionError("fuzz[" + reader + "] " + what + " (" + input.length + " bytes) " + problem
                + "\n  reproduce: " + again + "\n  saved to " + saved + "; once fixed, keep it under "
                + REGRESSIONS.resolve(reader), cause);
    }
}
