package org.gpulrp.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeoutException;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.streaming.StreamingQuery;
import org.apache.spark.sql.streaming.Trigger;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.gpulrp.Explanation;
import org.gpulrp.Target;
import org.gpulrp.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Structured Streaming: CSV files arrive in a folder while a query explains them into a Parquet file sink; the
 * query is stopped and restarted from its checkpoint. Every row comes out once, with the library's bits.
 */
class StreamingTest {
    private static final int FEATURES = 10;
    private static final int ROWS_PER_FILE = 40;

    @Test
    void filesAddedWhileRunningAndAcrossARestartAreExplainedOnce(@TempDir Path dir) throws Exception {
        Path in = Files.createDirectories(dir.resolve("in"));
        String out = dir.resolve("out").toString();
        String checkpoint = dir.resolve("checkpoint").toString();
        float[][] x = SparkTesting.randomRows(31, 6 * ROWS_PER_FILE, FEATURES);

        long prepared = ExplainerCache.preparations();
        writeCsv(in, x, 0);
        StreamingQuery q = start(in, out, checkpoint);
        writeCsv(in, x, 1);
        q.processAllAvailable();
        writeCsv(in, x, 2);
        q.processAllAvailable();
        long batches = q.lastProgress().batchId() + 1;
        assertTrue(batches >= 2, "the files added while the query ran made batches of their own: " + batches);
        q.stop();
        assertEquals(3 * ROWS_PER_FILE, SparkTesting.spark().read().parquet(out).count(), "rows before restart");

        // Files that arrive while the query is down, and while the restarted query runs.
        writeCsv(in, x, 3);
        writeCsv(in, x, 4);
        StreamingQuery again = start(in, out, checkpoint);
        writeCsv(in, x, 5);
        again.processAllAvailable();
        long first = again.recentProgress()[0].batchId();
        assertEquals(batches, first, "the restarted query continues from its checkpoint, not from batch 0");
        again.stop();
        assertTrue(ExplainerCache.preparations() - prepared <= 1, "micro-batches reuse the prepared explainer");

        Dataset<Row> written = SparkTesting.spark().read().parquet(out);
        assertEquals(x.length, written.count(), "rows written");
        Map<Long, Row> got = SparkTesting.byId(written);
        assertEquals(x.length, got.size(), "distinct ids written");
        Explanation ref = SparkTesting.reference(SparkTesting.BREAST, "epsilon-plus", "cpu", Tensor.ofRows(x),
                Target.argmax());
        for (int i = 0; i < x.length; i++) {
            Row r = got.get((long) i);
            assertTrue(r != null, "row " + i + " missing");
            SparkTesting.assertSameBits(ref.relevance().row(i), r, "relevance", "row " + i);
        }
    }

    private static StreamingQuery start(Path in, String out, String checkpoint) throws TimeoutException {
        StructType s = new StructType().add("id", DataTypes.LongType);
        List<Column> features = new ArrayList<>();
        for (int k = 0; k < FEATURES; k++) {
            s = s.add("f" + k, DataTypes.FloatType);
            features.add(functions.col("f" + k));
        }
        Dataset<Row> csv = SparkTesting.spark().readStream().schema(s).option("header", true)
                .option("maxFilesPerTrigger", 1).csv(in.toString())
                .select(functions.col("id"), functions.array(features.toArray(new Column[0])).as("features"));
        LrpConfig c = LrpConfig.forModel(SparkTesting.BREAST.toString()).withComposite("epsilon-plus")
                .withBackend("cpu").withBatchRows(16).withIdCol("id");
        return SparkLrp.explain(csv, c).writeStream().format("parquet").option("checkpointLocation", checkpoint)
                .trigger(Trigger.ProcessingTime(100)).start(out);
    }

    /** Rows {@code [file * ROWS_PER_FILE, (file + 1) * ROWS_PER_FILE)} as one CSV file, written then renamed in. */
    private static void writeCsv(Path folder, float[][] x, int file) throws Exception {
        StringBuilder b = new StringBuilder("id");
        for (int k = 0; k < FEATURES; k++) {
            b.append(",f").append(k);
        }
        b.append('\n');
        for (int i = file * ROWS_PER_FILE; i < (file + 1) * ROWS_PER_FILE; i++) {
            b.append(i);
            for (float v : x[i]) {
                b.append(',').append(v);
            }
            b.append('\n');
        }
        Path tmp = folder.resolveSibling("part-" + file + ".csv.tmp");
        Files.writeString(tmp, b);
        Files.move(tmp, folder.resolve("part-" + file + ".csv"));
    }
}
