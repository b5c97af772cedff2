package org.gpulrp.io;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.function.LongConsumer;
import org.gpulrp.Explainer;
import org.gpulrp.Explanation;
import org.gpulrp.InvalidArgumentException;
import org.gpulrp.InvalidInputException;
import org.gpulrp.Target;
import org.gpulrp.Tensor;
import org.gpulrp.backend.BackendInfo;

/**
 * Explains a {@code .npy} file of any size, chunk by chunk: the input is memory-mapped one chunk at a time
 * (float32, or float64 converted per chunk; C order), at most a few chunks are in flight, and the relevance goes to
 * the output {@code .npy} (float32, the input's shape) through a temporary file renamed into place at the end, so a
 * failed run leaves no partial output. Memory use is bounded by the chunk size, not the file size.
 */
public final class NpyStreams {
    /** Chunks in flight at once: one explained while the next is read, one written. */
    static final int WINDOW = 2;
    /** Test hook: told the floats of every chunk the reader allocates. */
    static volatile LongConsumer chunkAllocations = n -> { };

    private NpyStreams() {
    }

    /** Told after each chunk is written: samples done so far, of the total. */
    @FunctionalInterface
    public interface Progress {
        Progress NONE = (done, total) -> { };

        void update(long done, long total);
    }

    /**
     * What a run did.
     *
     * @param samples the samples explained
     * @param shape   the array's shape (the input's, and so the output's)
     * @param backend what ran them
     */
    public record Result(long samples, int[] shape, BackendInfo backend) {
    }

    /** Whether {@code file}'s elements can be streamed (float32 or float64); others must be read whole. */
    public static boolean streamable(Npy.Header h) {
        return h.type().equals("f4") || h.type().equals("f8");
    }

    /** As {@link #explain(Explainer, Path, Path, Target, Progress, int)} with chunks sized from the heap. */
    public static Result explain(Explainer explainer, Path in, Path out, Target target, Progress progress) {
        return explain(explainer, in, out, target, progress, 0);
    }

    /**
     * Explains every sample of {@code in} ({@code [samples, features...]}; a 1-D array is one sample) and writes
     * the input relevance to {@code out}.
     *
     * @param target    the class per sample; {@link Target#perSample} must hold one index per sample of the file
     * @param chunkRows samples per chunk; 0 picks them from the heap size and the explainer's lanes
     * @throws FormatException       when the file is not an array of float32/float64 samples of the model's size
     * @throws InvalidInputException naming the sample's row in the file, for a non-finite value
     */
    public static Result explain(Explainer explainer, Path in, Path out, Target target, Progress progress,
                                 int chunkRows) {
        InvalidArgumentException.check(explainer != null, "explainer", "must not be null");
        InvalidArgumentException.check(in != null && out != null, "file", "input and output must not be null");
        InvalidArgumentException.check(target != null, "target", "must not be null");
        InvalidArgumentException.check(chunkRows >= 0, "chunkRows", "must be >= 0, got " + chunkRows);
        Progress report = progress == null ? Progress.NONE : progress;
        Npy.Header h = Npy.header(in);
        if (!streamable(h)) {
            throw new FormatException(in + ": dtype " + h.type() + " cannot be streamed; save the array as float32");
        }
        int[] shape = h.shape();
        int features = explainer.network().inputSize();
        long rows = shape.length == 0 ? 0 : shape.length == 1 ? 1 : shape[0];
        if (rows == 0 || h.count() == 0) {
            throw new FormatException(in + ": shape " + Arrays.toString(shape) + " holds no samples");
        }
        long per = h.count() / rows;
        if (per != features) {
            throw new FormatException(in + ": shape " + Arrays.toString(shape) + " has " + per + " values per sample "
                    + "but the model takes " + features + " (shape [batch, " + features + "])");
        }
        if (target.samples() >= 0 && target.samples() != rows) {
            throw new InvalidArgumentException("target", "got " + target.samples() + " per-sample targets for "
                    + rows + " samples in " + in);
        }
        if (!(target instanceof Target.Argmax)) {
            // class indices checked against the model's outputs before any work starts
            target.resolve(null, target.samples() >= 0 ? (int) rows : 1, explainer.network().outputSize());
        }
        // One mapping per chunk: at most 2 GiB of file bytes (and of output bytes, as float32).
        int mappable = (Integer.MAX_VALUE - 8) / (features * Math.max(h.width(), Float.BYTES));
        int chunk = Math.max(1, Math.min(mappable, chunkRows > 0 ? chunkRows : defaultChunkRows(explainer,
                features)));
        Path abs = out.toAbsolutePath();
        Path tmp = null;
        try (FileChannel src = FileChannel.open(in, StandardOpenOption.READ)) {
            tmp = Files.createTempFile(abs.getParent(), "." + abs.getFileName(), ".tmp");
            try (FileChannel dst = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                long[] dims = new long[shape.length];
                for (int k = 0; k < dims.length; k++) {
                    dims[k] = shape[k];
                }
                writeFully(dst, ByteBuffer.wrap(Npy.headerBytes(Npy.DType.FLOAT32, dims)));
                Chunks chunks = new Chunks(src, h, rows, features, chunk);
                Iterator<Explanation> results = explainer.explainStream(chunks, (first, n) -> target.rows(
                        (int) first, n), WINDOW);
                ByteBuffer bytes = ByteBuffer.allocate(Math.multiplyExact(chunk, features) * Float.BYTES)
                        .order(ByteOrder.LITTLE_ENDIAN);
                long done = 0;
                BackendInfo backend = explainer.backend();
                for (long c = 0; done < rows; c++) {
                    Explanation e;
                    try {
                        e = results.next();
                    } catch (InvalidInputException bad) {
                        long row = c * chunk + bad.sample();
                        throw new InvalidInputException(in + ": sample " + row + " (row " + row + " of the file), "
                                + "feature " + bad.feature() + ", is not a finite number; LRP needs finite inputs",
                                (int) Math.min(Integer.MAX_VALUE, row), bad.feature());
                    }
                    float[] r = e.relevance().toArray();
                    bytes.clear();
                    bytes.asFloatBuffer().put(r);
                    bytes.limit(r.length * Float.BYTES);
                    writeFully(dst, bytes);
                    done += e.batchSize();
                    backend = e.backend();
                    report.update(done, rows);
                }
                dst.force(false);
                Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
                tmp = null;
                return new Result(rows, shape, backend);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot explain " + in + " into " + out + ": " + e.getMessage(), e);
        } finally {
            if (tmp != null) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // best effort; the original error matters more
                }
            }
        }
    }

    /** Rows per chunk: enough to give every lane full passes, within 1/32 of the heap for a chunk's arrays. */
    static int defaultChunkRows(Explainer explainer, int features) {
        long lanesRows = (long) explainer.laneCount() * explainer.rowsPerPass();
        long heapFloats = Runtime.getRuntime().maxMemory() / 32 / Float.BYTES;
        long perRow = 3L * features + 2L * explainer.network().outputSize() + 4;
        long fit = Math.max(1, heapFloats / perRow);
        return (int) Math.max(1, Math.min(Math.min(lanesRows, fit), Integer.MAX_VALUE / Math.max(1, features) / 4));
    }

    private static void writeFully(FileChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }

    /** The input's chunks as tensors, each mapped, copied out and converted on its own. */
    private static final class Chunks implements Iterator<Tensor> {
        private final FileChannel ch;
        private final Npy.Header h;
        private final long rows;
        private final int features;
        private final int chunk;
        private long next;

        Chunks(FileChannel ch, Npy.Header h, long rows, int features, int chunk) {
            this.ch = ch;
            this.h = h;
            this.rows = rows;
            this.features = features;
            this.chunk = chunk;
        }

        @Override
        public boolean hasNext() {
            return next < rows;
        }

        @Override
        public Tensor next() {
            if (!hasNext()) {
                throw new NoSuchElementException();
            }
            int n = (int) Math.min(chunk, rows - next);
            int floats = n * features;
            long off = h.dataOffset() + next * features * (long) h.width();
            float[] x = new float[floats];
            chunkAllocations.accept(floats);
            try {
                MappedByteBuffer m = ch.map(FileChannel.MapMode.READ_ONLY, off, (long) floats * h.width());
                m.order(h.order());
                if (h.width() == 4) {
                    m.asFloatBuffer().get(x);
                } else {
                    DoubleBuffer d = m.asDoubleBuffer();
                    for (int k = 0; k < floats; k++) {
                        x[k] = (float) d.get(k);
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot map rows " + next + ".." + (next + n) + ": " + e.getMessage(), e);
            }
            next += n;
            return new Tensor(x, n, features);
        }
    }
}
