package org.gpulrp.spark;

import static org.gpulrp.spark.SparkTesting.assertSameBits;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.gpulrp.Explanation;
import org.gpulrp.Target;
import org.gpulrp.Tensor;
import org.gpulrp.io.image.Images;
import org.gpulrp.io.image.Preprocess;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Spark results equal the plain library's on one machine, bit for bit, whatever the partitions and batches. */
class BitIdentityTest {

    @ParameterizedTest
    @ValueSource(strings = {"cpu", "opencl"})
    void floatVectorsMatchTheLibrary(String backend) {
        SparkTesting.assumeBackend(backend);
        float[][] x = SparkTesting.randomRows(11, 257, 10);
        LrpConfig c = LrpConfig.forModel(SparkTesting.BREAST.toString()).withComposite("epsilon-plus")
                .withBackend(backend).withBatchRows(16).withIdCol("id").withExplainedClassCol("cls")
                .withScoreCol("score");
        Map<Long, Row> got = SparkTesting.byId(SparkLrp.explain(SparkTesting.vectors(x, 5), c));
        Explanation ref = SparkTesting.reference(SparkTesting.BREAST, "epsilon-plus", backend, Tensor.ofRows(x),
                Target.argmax());
        assertEquals(x.length, got.size());
        for (int i = 0; i < x.length; i++) {
            Row r = got.get((long) i);
            assertSameBits(ref.relevance().row(i), r, "relevance", "row " + i);
            assertEquals(ref.targets()[i], r.getInt(r.fieldIndex("cls")), "class of row " + i);
            assertEquals(Float.floatToRawIntBits(ref.scores()[i]),
                    Float.floatToRawIntBits(r.getFloat(r.fieldIndex("score"))), "score of row " + i);
        }
    }

    /** A CNN fed flattened [1, 8, 8] doubles (rounded to float32 on both sides) with a class per row. */
    @ParameterizedTest
    @ValueSource(strings = {"cpu", "opencl"})
    void doubleVectorsWithPerRowTargetsMatchTheLibrary(String backend) {
        SparkTesting.assumeBackend(backend);
        int n = 61;
        java.util.Random rnd = new java.util.Random(5);
        double[][] d = new double[n][64];
        float[] flat = new float[n * 64];
        int[] cls = new int[n];
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Double[] v = new Double[64];
            for (int k = 0; k < 64; k++) {
                d[i][k] = rnd.nextDouble() * 2 - 0.5;
                v[k] = d[i][k];
                flat[i * 64 + k] = (float) d[i][k];
            }
            cls[i] = rnd.nextInt(10);
            rows.add(RowFactory.create((long) i, v, (long) cls[i]));
        }
        StructType s = new StructType().add("id", DataTypes.LongType).add("pixels",
                DataTypes.createArrayType(DataTypes.DoubleType)).add("label", DataTypes.LongType);
        Dataset<Row> df = SparkTesting.spark().createDataFrame(rows, s).repartition(3);
        LrpConfig c = LrpConfig.forModel(SparkTesting.DIGITS.toString()).withComposite("epsilon-gamma-box:0,1")
                .withBackend(backend).withInputCol("pixels").withTargetCol("label").withBatchRows(7)
                .withExplainedClassCol("cls");
        Map<Long, Row> got = SparkTesting.byId(SparkLrp.explain(df, c));
        Explanation ref = SparkTesting.reference(SparkTesting.DIGITS, "epsilon-gamma-box:0,1", backend,
                new Tensor(flat, n, 1, 8, 8), Target.perSample(cls));
        for (int i = 0; i < n; i++) {
            Row r = got.get((long) i);
            assertSameBits(ref.relevance().row(i), r, "relevance", "row " + i);
            assertEquals(cls[i], r.getInt(r.fieldIndex("cls")));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"cpu", "opencl"})
    void imagePathsMatchTheLibrary(String backend) throws Exception {
        SparkTesting.assumeBackend(backend);
        List<Path> files;
        try (Stream<Path> s = Files.list(SparkTesting.DIGIT_IMAGES)) {
            files = s.sorted().toList();
        }
        List<Path> all = new ArrayList<>();
        List<Row> rows = new ArrayList<>();
        for (int rep = 0; rep < 3; rep++) {
            for (Path f : files) {
                rows.add(RowFactory.create((long) all.size(), f.toString()));
                all.add(f);
            }
        }
        StructType s = new StructType().add("id", DataTypes.LongType).add("path", DataTypes.StringType);
        Dataset<Row> df = SparkTesting.spark().createDataFrame(rows, s).repartition(4);
        LrpConfig c = LrpConfig.forModel(SparkTesting.DIGITS.toString()).withComposite("epsilon-plus-flat")
                .withBackend(backend).withInputCol("path").withTarget("3").withBatchRows(4);
        Map<Long, Row> got = SparkTesting.byId(SparkLrp.explain(df, c));
        Preprocess gray = Preprocess.none().withGrayscale(true);
        Explanation ref = SparkTesting.reference(SparkTesting.DIGITS, "epsilon-plus-flat", backend,
                Images.load(all, gray), Target.classIndex(3));
        assertEquals(all.size(), got.size());
        for (int i = 0; i < all.size(); i++) {
            assertSameBits(ref.relevance().row(i), got.get((long) i), "relevance", "image row " + i);
        }
    }

    /** Many partitions and tasks, two jobs: one preparation in this (executor) JVM. */
    @org.junit.jupiter.api.Test
    void eachExecutorPreparesTheModelOnce() {
        SparkTesting.spark();
        ExplainerCache.clear();
        long before = ExplainerCache.preparations();
        float[][] x = SparkTesting.randomRows(3, 120, 10);
        LrpConfig c = LrpConfig.forModel(SparkTesting.BREAST.toString()).withBackend("cpu").withBatchRows(5);
        assertEquals(120, SparkLrp.explain(SparkTesting.vectors(x, 6), c).count());
        assertEquals(120, SparkLrp.explain(SparkTesting.vectors(x, 8), c).collectAsList().size());
        assertEquals(1, ExplainerCache.preparations() - before, "preparations across 14 tasks");
        assertEquals(1, ExplainerCache.size());
        // Another configuration is another explainer.
        SparkLrp.explain(SparkTesting.vectors(x, 2), c.withComposite("epsilon-plus")).count();
        assertEquals(2, ExplainerCache.preparations() - before);
        assertTrue(ExplainerCache.size() == 2);
    }
}
