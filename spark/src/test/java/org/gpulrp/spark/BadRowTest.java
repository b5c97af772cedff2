package org.gpulrp.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.spark.SparkException;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.gpulrp.Explanation;
import org.gpulrp.InvalidArgumentException;
import org.gpulrp.Target;
import org.gpulrp.Tensor;
import org.junit.jupiter.api.Test;

/** A bad row fails the job naming it, or (configured) gets a null relevance and the reason. */
class BadRowTest {
    private static final StructType VECTORS = new StructType().add("id", DataTypes.LongType)
            .add("features", DataTypes.createArrayType(DataTypes.FloatType, true)).add("label", DataTypes.IntegerType);

    private static Dataset<Row> frame(List<Row> rows, int partitions) {
        return SparkTesting.spark().createDataFrame(rows, VECTORS).repartition(partitions);
    }

    /** 40 good rows of 10 features, label 0, with {@code bad} replacing the row whose id it has. */
    private static List<Row> rows(float[][] x, Row... bad) {
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < x.length; i++) {
            Row r = RowFactory.create((long) i, SparkTesting.boxed(x[i]), 0);
            for (Row b : bad) {
                if (b.getLong(0) == i) {
                    r = b;
                }
            }
            rows.add(r);
        }
        return rows;
    }

    private static LrpConfig config() {
        return LrpConfig.forModel(SparkTesting.BREAST.toString()).withBackend("cpu").withBatchRows(6)
                .withIdCol("id");
    }

    private static String failure(Dataset<Row> df, LrpConfig c) {
        SparkException e = assertThrows(SparkException.class, () -> SparkLrp.explain(df, c).collectAsList());
        return e.getMessage();
    }

    @Test
    void aWrongLengthFailsTheJobNamingTheRow() {
        float[][] x = SparkTesting.randomRows(1, 40, 10);
        Row shortRow = RowFactory.create(17L, SparkTesting.boxed(new float[9]), 0);
        String m = failure(frame(rows(x, shortRow), 3), config());
        assertTrue(m.contains("BadRowException"), m);
        assertTrue(m.contains("cannot explain row id=17 ("), m);
        assertTrue(m.contains("input column 'features' has 9 values, the model takes 10"), m);
    }

    @Test
    void aNanOrANullFailsTheJobNamingTheRowAndValue() {
        float[][] x = SparkTesting.randomRows(2, 40, 10);
        float[] nan = x[5].clone();
        nan[3] = Float.NaN;
        String m = failure(frame(rows(x, RowFactory.create(5L, SparkTesting.boxed(nan), 0)), 2), config());
        assertTrue(m.contains("row id=5 (") && m.contains("value 3 is NaN"), m);

        Float[] hole = SparkTesting.boxed(x[8]);
        hole[2] = null;
        m = failure(frame(rows(x, RowFactory.create(8L, hole, 0)), 2), config());
        assertTrue(m.contains("row id=8 (") && m.contains("value 2 is null"), m);

        m = failure(frame(rows(x, RowFactory.create(9L, null, 0)), 2), config().withIdCol(null));
        assertTrue(m.contains("cannot explain row #") && m.contains(" in partition ")
                && m.contains("input column 'features' is null"), m);
    }

    @Test
    void aMissingOrMisshapenImageFailsTheJobNamingTheFile() {
        StructType s = new StructType().add("id", DataTypes.LongType).add("path", DataTypes.StringType);
        String good = SparkTesting.DIGIT_IMAGES.resolve("digit0_test695.png").toString();
        String missing = SparkTesting.DIGIT_IMAGES.resolve("no-such-digit.png").toString();
        LrpConfig c = LrpConfig.forModel(SparkTesting.DIGITS.toString()).withBackend("cpu").withInputCol("path")
                .withIdCol("id");
        Dataset<Row> df = SparkTesting.spark().createDataFrame(List.of(RowFactory.create(0L, good),
                RowFactory.create(1L, missing)), s);
        String m = failure(df, c);
        assertTrue(m.contains("row id=1 (") && m.contains("image " + missing + ": no such file"), m);

        String photo = SparkTesting.ROOT.resolve("src/test/resources/images/photo_40x30.png").toString();
        df = SparkTesting.spark().createDataFrame(List.of(RowFactory.create(7L, photo)), s);
        m = failure(df, c);
        assertTrue(m.contains("row id=7 (") && m.contains("the model takes 1x8x8"), m);
    }

    @Test
    void withNullModeBadRowsGetAReasonAndTheOthersTheirBits() {
        float[][] x = SparkTesting.randomRows(3, 40, 10);
        float[] inf = x[11].clone();
        inf[0] = Float.POSITIVE_INFINITY;
        Row[] bad = {RowFactory.create(4L, SparkTesting.boxed(new float[12]), 0),
            RowFactory.create(11L, SparkTesting.boxed(inf), 0),
            RowFactory.create(20L, null, 0),
            RowFactory.create(30L, SparkTesting.boxed(x[30]), 1),
            RowFactory.create(31L, SparkTesting.boxed(x[31]), null)};
        LrpConfig c = config().withTargetCol("label").withOnError(LrpConfig.OnError.NULL, "why");
        Map<Long, Row> got = SparkTesting.byId(SparkLrp.explain(frame(rows(x, bad), 3), c));
        assertEquals(x.length, got.size());
        Map<Long, String> reasons = Map.of(4L, "has 12 values, the model takes 10", 11L, "value 0 is Infinity",
                20L, "input column 'features' is null", 30L, "target 1 (column 'label') is out of range: the model "
                        + "has 1 output", 31L, "target column 'label' is null");
        List<float[]> good = new ArrayList<>();
        List<Long> goodIds = new ArrayList<>();
        for (int i = 0; i < x.length; i++) {
            Row r = got.get((long) i);
            String why = reasons.get((long) i);
            if (why != null) {
                assertTrue(r.isNullAt(r.fieldIndex("relevance")), "row " + i);
                assertTrue(r.getString(r.fieldIndex("why")).contains(why), r.getString(r.fieldIndex("why")));
            } else {
                assertNull(r.get(r.fieldIndex("why")), "row " + i);
                good.add(x[i]);
                goodIds.add((long) i);
            }
        }
        Explanation ref = SparkTesting.reference(SparkTesting.BREAST, null, "cpu",
                Tensor.ofRows(good.toArray(new float[0][])), Target.classIndex(0));
        for (int k = 0; k < good.size(); k++) {
            SparkTesting.assertSameBits(ref.relevance().row(k), got.get(goodIds.get(k)), "relevance",
                    "row " + goodIds.get(k));
        }
    }

    @Test
    void aTargetClassOutOfRangeFailsEvenInNullMode() {
        float[][] x = SparkTesting.randomRows(4, 10, 10);
        String m = failure(frame(rows(x), 2), config().withTarget("3")
                .withOnError(LrpConfig.OnError.NULL, "why"));
        assertTrue(m.contains("class index 3 is out of range: the model has 1 output"), m);
    }

    @Test
    void columnProblemsAreRefusedBeforeAnyTaskRuns() {
        Dataset<Row> df = frame(rows(SparkTesting.randomRows(5, 4, 10)), 1);
        InvalidArgumentException e = assertThrows(InvalidArgumentException.class,
                () -> SparkLrp.explain(df, config().withInputCol("pixels")));
        assertEquals("inputCol", e.parameter());
        assertTrue(e.getMessage().contains("no column 'pixels'; the DataFrame has id, features, label"),
                e.getMessage());

        e = assertThrows(InvalidArgumentException.class, () -> SparkLrp.explain(df, config().withInputCol("label")));
        assertTrue(e.getMessage().contains("column 'label' is int; expected array<float> or array<double>"),
                e.getMessage());

        e = assertThrows(InvalidArgumentException.class,
                () -> SparkLrp.explain(df, config().withRelevanceCol("label")));
        assertEquals("relevanceCol", e.parameter());

        e = assertThrows(InvalidArgumentException.class, () -> SparkLrp.explain(df, config().withTargetCol("id")
                .withIdCol("features").withTargetCol("features")));
        assertEquals("targetCol", e.parameter());

        e = assertThrows(InvalidArgumentException.class, () -> SparkLrp.explain(df, config().withIdCol("nope")));
        assertEquals("idCol", e.parameter());
    }

    @Test
    void aMissingModelFailsNamingItAndWhatToDo() {
        Dataset<Row> df = frame(rows(SparkTesting.randomRows(6, 4, 10)), 1);
        String m = failure(df, LrpConfig.forModel("/no/such/model.onnx").withBackend("cpu"));
        assertTrue(m.contains("model /no/such/model.onnx: no such file on executor")
                && m.contains("spark-submit --files"), m);
    }
}
