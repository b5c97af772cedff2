package org.gpulrp.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.gpulrp.BackendChoice;
import org.gpulrp.Explainer;
import org.gpulrp.InvalidArgumentException;
import org.gpulrp.InvalidInputException;
import org.gpulrp.Target;
import org.gpulrp.Tensor;
import org.gpulrp.model.Network;
import org.gpulrp.testing.RandomNets;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Explaining .npy files chunk by chunk: the same bits as in memory, bounded reads, nothing partial on failure. */
class NpyStreamsTest {
    private static final Network NET = RandomNets.mlp(11, 37, 64, 33, 7);

    @TempDir
    Path dir;

    @AfterEach
    void resetHook() {
        NpyStreams.chunkAllocations = n -> { };
    }

    private static Explainer explainer() {
        return Explainer.builder(NET).backend(BackendChoice.CPU).cpuThreads(2).chunkRows(8).build();
    }

    private static void assertBits(float[] expected, float[] actual) {
        assertEquals(expected.length, actual.length, "length");
        for (int k = 0; k < expected.length; k++) {
            assertEquals(Float.floatToRawIntBits(expected[k]), Float.floatToRawIntBits(actual[k]), "element " + k);
        }
    }

    @Test
    void chunkByChunkGivesTheBitsOfTheInMemoryCall() {
        float[] x = RandomNets.flatten(RandomNets.inputs(1, 103, 37));
        Path in = dir.resolve("in.npy");
        Path out = dir.resolve("out.npy");
        Npy.write(in, x, 103, 37);
        List<long[]> progress = new ArrayList<>();
        try (Explainer ex = explainer()) {
            NpyStreams.Result r = NpyStreams.explain(ex, in, out, Target.argmax(),
                    (done, total) -> progress.add(new long[] {done, total}), 10);
            assertEquals(103, r.samples());
            Npy.Array got = Npy.read(out);
            assertArrayEquals(new int[] {103, 37}, got.shape());
            assertBits(ex.explain(new Tensor(x, 103, 37), Target.argmax()).relevance().toArray(), got.data());
        }
        assertEquals(11, progress.size(), "one update per chunk");
        for (int k = 0; k < progress.size(); k++) {
            assertEquals(Math.min(103, 10L * (k + 1)), progress.get(k)[0]);
            assertEquals(103, progress.get(k)[1]);
        }
    }

    @Test
    void float64InputIsConvertedPerChunkAndPerSampleTargetsAreSliced() {
        int rows = 45;
        float[] x = RandomNets.flatten(RandomNets.inputs(2, rows, 37));
        SplittableRandom rnd = new SplittableRandom(3);
        int[] t = new int[rows];
        for (int b = 0; b < rows; b++) {
            t[b] = rnd.nextInt(7);
        }
        Path in = dir.resolve("in64.npy");
        Path out = dir.resolve("out.npy");
        Npy.write(in, x, Npy.DType.FLOAT64, rows, 37);
        try (Explainer ex = explainer()) {
            NpyStreams.explain(ex, in, out, Target.perSample(t), null, 7);
            assertBits(ex.explain(new Tensor(x, rows, 37), Target.perSample(t)).relevance().toArray(),
                    Npy.read(out).data());
            // A single sample saved as a 1-D array keeps its shape.
            Path one = dir.resolve("one.npy");
            Npy.write(one, java.util.Arrays.copyOf(x, 37), 37);
            NpyStreams.explain(ex, one, out, Target.classIndex(3), NpyStreams.Progress.NONE);
            Npy.Array got = Npy.read(out);
            assertArrayEquals(new int[] {37}, got.shape());
            assertBits(ex.explain(new Tensor(java.util.Arrays.copyOf(x, 37), 1, 37), Target.classIndex(3))
                    .relevance().toArray(), got.data());
        }
    }

    @Test
    void theReaderHoldsOnlyAFewChunksAtATime() {
        int rows = 500;
        int chunk = 16;
        Path in = dir.resolve("in.npy");
        Npy.write(in, RandomNets.flatten(RandomNets.inputs(4, rows, 37)), rows, 37);
        AtomicLong chunks = new AtomicLong();
        AtomicLong largest = new AtomicLong();
        NpyStreams.chunkAllocations = n -> {
            chunks.incrementAndGet();
            largest.accumulateAndGet(n, Math::max);
        };
        long[] mostAhead = {0};
        try (Explainer ex = explainer()) {
            NpyStreams.explain(ex, in, dir.resolve("out.npy"), Target.argmax(), (done, total) -> {
                long written = (done + chunk - 1) / chunk;
                mostAhead[0] = Math.max(mostAhead[0], chunks.get() - written);
            }, chunk);
        }
        assertEquals((rows + chunk - 1) / chunk, chunks.get(), "each chunk read once");
        assertEquals((long) chunk * 37, largest.get(), "no read larger than one chunk");
        assertTrue(mostAhead[0] <= NpyStreams.WINDOW, "chunks read ahead of the writer: " + mostAhead[0]);
    }

    @Test
    void aBadSampleNamesItsRowAndLeavesNoOutput() throws IOException {
        float[][] x = RandomNets.inputs(5, 80, 37);
        x[57][9] = Float.NaN;
        Path in = dir.resolve("in.npy");
        Path out = dir.resolve("out.npy");
        Npy.write(in, RandomNets.flatten(x), 80, 37);
        Files.writeString(out, "old");
        try (Explainer ex = explainer()) {
            InvalidInputException e = assertThrows(InvalidInputException.class,
                    () -> NpyStreams.explain(ex, in, out, Target.argmax(), null, 10));
            assertEquals(57, e.sample());
            assertEquals(9, e.feature());
            assertTrue(e.getMessage().contains("in.npy") && e.getMessage().contains("sample 57"), e.getMessage());
        }
        assertEquals("old", Files.readString(out), "the old output is untouched");
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of("in.npy", "out.npy"), files.map(p -> p.getFileName().toString()).sorted().toList(),
                    "no temporary file left");
        }
    }

    @Test
    void wrongShapesTypesAndTargetsAreRefusedBeforeAnyWork() {
        Path out = dir.resolve("out.npy");
        Path wide = dir.resolve("wide.npy");
        Npy.write(wide, new float[4 * 38], 4, 38);
        Path ints = dir.resolve("ints.npy");
        Npy.write(ints, new float[2 * 37], Npy.DType.INT32, 2, 37);
        Path empty = dir.resolve("empty.npy");
        Npy.write(empty, new float[0], 0, 37);
        Path ok = dir.resolve("ok.npy");
        Npy.write(ok, RandomNets.flatten(RandomNets.inputs(6, 3, 37)), 3, 37);
        try (Explainer ex = explainer()) {
            FormatException w = assertThrows(FormatException.class,
                    () -> NpyStreams.explain(ex, wide, out, Target.argmax(), null));
            assertTrue(w.getMessage().contains("38 values per sample"), w.getMessage());
            assertThrows(FormatException.class, () -> NpyStreams.explain(ex, ints, out, Target.argmax(), null));
            assertThrows(FormatException.class, () -> NpyStreams.explain(ex, empty, out, Target.argmax(), null));
            assertThrows(InvalidArgumentException.class,
                    () -> NpyStreams.explain(ex, ok, out, Target.perSample(1, 2), null));
            assertThrows(InvalidArgumentException.class,
                    () -> NpyStreams.explain(ex, ok, out, Target.classIndex(7), null));
        }
        assertFalse(Files.exists(out));
    }
}
