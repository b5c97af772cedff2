package org.gpulrp.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.gpulrp.Explanation;
import org.gpulrp.Target;
import org.gpulrp.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A task that fails part-way is retried: the written output has every row once, with the same bits. */
class RetryTest {
    /** Failures injected so far (local mode: the tasks run in this JVM). */
    static final AtomicInteger INJECTED = new AtomicInteger();

    /** Passes rows through, but the first attempt of partition 1 dies after emitting three of its rows. */
    static final class FailFirstAttempt implements MapPartitionsFunction<Row, Row> {
        private static final long serialVersionUID = 1L;

        @Override
        public Iterator<Row> call(Iterator<Row> in) {
            TaskContext t = TaskContext.get();
            boolean fail = t.partitionId() == 1 && t.attemptNumber() == 0;
            return new Iterator<>() {
                private int emitted;

                @Override
                public boolean hasNext() {
                    if (fail && emitted == 3) {
                        INJECTED.incrementAndGet();
                        throw new IllegalStateException("injected failure in partition 1, attempt 0");
                    }
                    return in.hasNext();
                }

                @Override
                public Row next() {
                    emitted++;
                    return in.next();
                }
            };
        }
    }

    @Test
    void aRetriedTaskNeitherLosesNorDuplicatesRows(@TempDir Path dir) {
        float[][] x = SparkTesting.randomRows(21, 300, 10);
        LrpConfig c = LrpConfig.forModel(SparkTesting.BREAST.toString()).withComposite("epsilon-plus")
                .withBackend("cpu").withBatchRows(8).withIdCol("id");
        Dataset<Row> explained = SparkLrp.explain(SparkTesting.vectors(x, 4), c);
        Dataset<Row> faulty = explained.mapPartitions(new FailFirstAttempt(), Encoders.row(explained.schema()));
        int before = INJECTED.get();
        String out = dir.resolve("out.parquet").toString();
        faulty.write().parquet(out);
        assertEquals(1, INJECTED.get() - before, "the injected failure happened once, and the job still finished");

        Map<Long, Row> got = SparkTesting.byId(SparkTesting.spark().read().parquet(out));
        assertEquals(x.length, SparkTesting.spark().read().parquet(out).count(), "rows written");
        assertEquals(x.length, got.size(), "distinct ids written");
        Explanation ref = SparkTesting.reference(SparkTesting.BREAST, "epsilon-plus", "cpu", Tensor.ofRows(x),
                Target.argmax());
        List<Long> missing = new ArrayList<>();
        for (int i = 0; i < x.length; i++) {
            Row r = got.get((long) i);
            if (r == null) {
                missing.add((long) i);
                continue;
            }
            SparkTesting.assertSameBits(ref.relevance().row(i), r, "relevance", "row " + i);
        }
        assertTrue(missing.isEmpty(), "missing rows " + missing);
    }
}
