package org.gpulrp.spark;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.gpulrp.Explanation;
import org.gpulrp.InvalidArgumentException;
import org.gpulrp.LrpException;
import org.gpulrp.Target;
import org.gpulrp.Tensor;
import org.gpulrp.io.image.Images;
import org.gpulrp.io.image.Preprocess;
import org.gpulrp.model.Network;

/**
 * The per-partition work: reads rows in batches of {@link LrpConfig#batchRows()}, checks each, explains the good ones
 * with the executor's cached explainer and emits every input row, in order, with the relevance columns appended.
 * Lazy: a batch is read only when the rows before it have been consumed.
 */
final class PartitionExplainer implements MapPartitionsFunction<Row, Row> {
    private static final long serialVersionUID = 1L;
    private final LrpConfig config;
    private final HadoopFiles files;
    private final boolean images;
    private final int inputIndex;
    private final int idIndex;
    private final int targetIndex;
    private final int extra;

    PartitionExplainer(LrpConfig config, HadoopFiles files, boolean images, int inputIndex, int idIndex,
                       int targetIndex) {
        this.config = config;
        this.files = files;
        this.images = images;
        this.inputIndex = inputIndex;
        this.idIndex = idIndex;
        this.targetIndex = targetIndex;
        this.extra = 1 + (config.explainedClassCol() != null ? 1 : 0) + (config.scoreCol() != null ? 1 : 0)
                + (config.onError() == LrpConfig.OnError.NULL ? 1 : 0);
    }

    @Override
    public Iterator<Row> call(Iterator<Row> input) {
        ExplainerCache.Prepared p = ExplainerCache.get(config, files);
        TaskContext t = TaskContext.get();
        int partition = t == null ? 0 : t.partitionId();
        return new Iterator<>() {
            private final ArrayDeque<Row> ready = new ArrayDeque<>();
            private long position;

            @Override
            public boolean hasNext() {
                while (ready.isEmpty() && input.hasNext()) {
                    List<Row> batch = new ArrayList<>(config.batchRows());
                    while (batch.size() < config.batchRows() && input.hasNext()) {
                        batch.add(input.next());
                    }
                    explainBatch(p, batch, partition, position, ready);
                    position += batch.size();
                }
                return !ready.isEmpty();
            }

            @Override
            public Row next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                return ready.poll();
            }
        };
    }

    /** One batch: check each row, explain the good ones together, emit all in input order. */
    private void explainBatch(ExplainerCache.Prepared p, List<Row> batch, int partition, long first,
                              ArrayDeque<Row> out) {
        Network net = p.network();
        int n = batch.size();
        int size = net.inputSize();
        String[] reasons = new String[n];
        float[][] inputs = new float[n][];
        int[] targets = new int[n];
        for (int i = 0; i < n; i++) {
            Row r = batch.get(i);
            try {
                inputs[i] = images ? image(r, net) : vector(r, size);
                targets[i] = target(r, net.outputSize());
            } catch (BadRow e) {
                reasons[i] = e.getMessage();
                if (config.onError() == LrpConfig.OnError.FAIL) {
                    throw new BadRowException(rowName(r, partition, first + i), reasons[i], first + i);
                }
            }
        }
        int good = 0;
        for (String reason : reasons) {
            good += reason == null ? 1 : 0;
        }
        Tensor relevance = null;
        int[] explained = null;
        float[] scores = null;
        if (good > 0) {
            float[] data = new float[Math.multiplyExact(good, size)];
            int[] tg = new int[good];
            for (int i = 0, k = 0; i < n; i++) {
                if (reasons[i] == null) {
                    System.arraycopy(inputs[i], 0, data, k * size, size);
                    tg[k++] = targets[i];
                }
            }
            int[] shape = net.inputShape();
            int[] full = new int[shape.length + 1];
            full[0] = good;
            System.arraycopy(shape, 0, full, 1, shape.length);
            Explanation e = p.explainer().explain(new Tensor(data, full), target(tg));
            relevance = e.relevance();
            explained = e.targets();
            scores = e.scores();
        }
        for (int i = 0, k = 0; i < n; i++) {
            Row r = batch.get(i);
            int width = r.size();
            Object[] v = new Object[width + extra];
            for (int c = 0; c < width; c++) {
                v[c] = r.get(c);
            }
            int c = width;
            if (reasons[i] == null) {
                v[c++] = relevance.row(k);
                if (config.explainedClassCol() != null) {
                    v[c++] = explained[k];
                }
                if (config.scoreCol() != null) {
                    v[c++] = scores[k];
                }
                k++;
            } else {
                c += extra - 1;
            }
            if (config.onError() == LrpConfig.OnError.NULL) {
                v[c] = reasons[i];
            }
            out.add(RowFactory.create(v));
        }
    }

    private Target target(int[] perRow) {
        if (targetIndex >= 0) {
            return Target.perSample(perRow);
        }
        return config.targetClass() >= 0 ? Target.classIndex(config.targetClass()) : Target.argmax();
    }

    /** The row's class from the target column (checked against the model), or 0 where the target is not per row. */
    private int target(Row r, int classes) {
        if (targetIndex < 0) {
            if (config.targetClass() >= classes) {
                // A configuration error, not a row's: fail whatever the error mode.
                throw new InvalidArgumentException("target", "class index " + config.targetClass() + " is out of "
                        + "range: the model has " + classes + " output" + (classes == 1 ? "" : "s"));
            }
            return 0;
        }
        if (r.isNullAt(targetIndex)) {
            throw new BadRow("target column '" + config.targetCol() + "' is null");
        }
        long k = ((Number) r.get(targetIndex)).longValue();
        if (k < 0 || k >= classes) {
            throw new BadRow("target " + k + " (column '" + config.targetCol() + "') is out of range: the model has "
                    + classes + " output" + (classes == 1 ? "" : "s"));
        }
        return (int) k;
    }

    /** The row's feature vector as float32; doubles are rounded to the nearest float. */
    private float[] vector(Row r, int size) {
        if (r.isNullAt(inputIndex)) {
            throw new BadRow("input column '" + config.inputCol() + "' is null");
        }
        List<Object> values = r.getList(inputIndex);
        if (values.size() != size) {
            throw new BadRow("input column '" + config.inputCol() + "' has " + values.size() + " value"
                    + (values.size() == 1 ? "" : "s") + ", the model takes " + size);
        }
        float[] x = new float[size];
        for (int k = 0; k < size; k++) {
            Object o = values.get(k);
            if (o == null) {
                throw new BadRow("input column '" + config.inputCol() + "': value " + k + " is null");
            }
            float f = ((Number) o).floatValue();
            if (!Float.isFinite(f)) {
                throw new BadRow("input column '" + config.inputCol() + "': value " + k + " is " + f
                        + (o instanceof Double d && Double.isFinite(d) ? " (the double " + d + " overflows float32)"
                        : ""));
            }
            x[k] = f;
        }
        return x;
    }

    /** The row's image, read and preprocessed, checked against the model's input shape. */
    private float[] image(Row r, Network net) {
        if (r.isNullAt(inputIndex)) {
            throw new BadRow("image path column '" + config.inputCol() + "' is null");
        }
        String location = r.getString(inputIndex);
        int[] shape = net.inputShape();
        if (shape.length != 3) {
            throw new InvalidArgumentException("inputCol", "'" + config.inputCol() + "' holds image paths, but the "
                    + "model's input is " + Arrays.toString(shape) + ", not [channels, height, width]");
        }
        Preprocess pre = config.preprocess(shape[0]);
        Path local = null;
        Path copy = null;
        try {
            if (HadoopFiles.isRemote(location)) {
                copy = files.copyToLocal(location, tempDir());
                local = copy;
            } else {
                local = HadoopFiles.local(location);
            }
            if (!Files.isRegularFile(local)) {
                throw new BadRow("image " + location + ": no such file");
            }
            Tensor t;
            try {
                t = Images.read(List.of(local), pre).tensor();
            } catch (LrpException | UncheckedIOException e) {
                throw new BadRow("image " + location + ": " + e.getMessage());
            }
            int[] got = t.shape();
            if (got[1] != shape[0] || got[2] != shape[1] || got[3] != shape[2]) {
                throw new BadRow("image " + location + " is " + got[1] + "x" + got[2] + "x" + got[3]
                        + " (channels x height x width) after preprocessing, the model takes " + shape[0] + "x"
                        + shape[1] + "x" + shape[2] + "; set a resize/crop");
            }
            return t.toArray();
        } catch (UncheckedIOException | InvalidPathException e) {
            throw new BadRow("image " + location + ": " + e.getMessage());
        } finally {
            if (copy != null) {
                deleteQuietly(copy);
            }
        }
    }

    private static Path tempDir() {
        return Path.of(System.getProperty("java.io.tmpdir"));
    }

    private static void deleteQuietly(Path f) {
        try {
            Files.deleteIfExists(f);
        } catch (IOException e) {
            // A temporary file left behind is harmless; the error being reported matters more.
        }
    }

    private String rowName(Row r, int partition, long position) {
        String where = "#" + position + " in partition " + partition;
        if (idIndex < 0) {
            return where;
        }
        return config.idCol() + "=" + (r.isNullAt(idIndex) ? "null" : String.valueOf(r.get(idIndex))) + " (" + where
                + ")";
    }

    /** A row's problem, caught in the batch loop and turned into an error or a reason. */
    private static final class BadRow extends LrpException {
        private static final long serialVersionUID = 1L;

        BadRow(String message) {
            super(message);
        }
    }
}
