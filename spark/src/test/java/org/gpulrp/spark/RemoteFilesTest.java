package org.gpulrp.spark;

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
import org.gpulrp.io.image.Images;
import org.gpulrp.io.image.Preprocess;
import org.junit.jupiter.api.Test;

/**
 * The model and the images read through a Hadoop file system (here {@link TestFileSystem}, registered in the
 * session's Hadoop configuration as {@code hdfs} or {@code s3a} would be), with the same bits as local files.
 */
class RemoteFilesTest {

    private static String remote(Path p) {
        return TestFileSystem.SCHEME + "://" + p.toAbsolutePath();
    }

    @Test
    void modelAndImagesFromAHadoopFileSystem() throws Exception {
        SparkTesting.spark().sparkContext().hadoopConfiguration().set("fs." + TestFileSystem.SCHEME + ".impl",
                TestFileSystem.class.getName());
        List<Path> files;
        try (Stream<Path> s = Files.list(SparkTesting.DIGIT_IMAGES)) {
            files = s.sorted().toList();
        }
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < files.size(); i++) {
            rows.add(RowFactory.create((long) i, remote(files.get(i))));
        }
        String missing = remote(SparkTesting.DIGIT_IMAGES.resolve("gone.png"));
        rows.add(RowFactory.create(99L, missing));
        StructType s = new StructType().add("id", DataTypes.LongType).add("path", DataTypes.StringType);
        Dataset<Row> df = SparkTesting.spark().createDataFrame(rows, s).repartition(3);
        LrpConfig c = LrpConfig.forModel(remote(SparkTesting.DIGITS)).withComposite("epsilon-plus")
                .withBackend("cpu").withInputCol("path").withBatchRows(3)
                .withOnError(LrpConfig.OnError.NULL, "why");
        Map<Long, Row> got = SparkTesting.byId(SparkLrp.explain(df, c));
        Explanation ref = SparkTesting.reference(SparkTesting.DIGITS, "epsilon-plus", "cpu",
                Images.load(files, Preprocess.none().withGrayscale(true)), Target.argmax());
        assertEquals(files.size() + 1, got.size());
        for (int i = 0; i < files.size(); i++) {
            SparkTesting.assertSameBits(ref.relevance().row(i), got.get((long) i), "relevance", files.get(i)
                    .toString());
        }
        Row gone = got.get(99L);
        assertTrue(gone.isNullAt(gone.fieldIndex("relevance")));
        String why = gone.getString(gone.fieldIndex("why"));
        assertTrue(why.startsWith("image " + missing + ": cannot read"), why);
    }
}
