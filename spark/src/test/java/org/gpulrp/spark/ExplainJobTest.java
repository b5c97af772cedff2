package org.gpulrp.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.spark.sql.Row;
import org.gpulrp.Explanation;
import org.gpulrp.Target;
import org.gpulrp.Tensor;
import org.gpulrp.io.image.Images;
import org.gpulrp.io.image.Preprocess;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The example job, run in this test's Spark session: CSV and image folders in, Parquet out, library bits. */
class ExplainJobTest {

    private static int run(String... args) {
        StringWriter err = new StringWriter();
        int rc = new CommandLine(new ExplainJob()).setErr(new PrintWriter(err)).execute(args);
        assertEquals(0, rc, err.toString());
        return rc;
    }

    private static String runFailing(String... args) {
        StringWriter err = new StringWriter();
        int rc = new CommandLine(new ExplainJob()).setErr(new PrintWriter(err)).execute(args);
        assertTrue(rc != 0, "expected a failure");
        return err.toString();
    }

    @Test
    void csvInParquetOut(@TempDir Path dir) throws Exception {
        SparkTesting.spark();
        float[][] x = SparkTesting.randomRows(8, 50, 10);
        StringBuilder csv = new StringBuilder("id");
        for (int k = 0; k < 10; k++) {
            csv.append(",f").append(k);
        }
        csv.append('\n');
        for (int i = 0; i < x.length; i++) {
            csv.append(i);
            for (float v : x[i]) {
                csv.append(',').append(v * 1000f);
            }
            csv.append('\n');
        }
        Path in = dir.resolve("rows.csv");
        Files.writeString(in, csv);
        String out = dir.resolve("out").toString();
        run("--model", SparkTesting.BREAST.toString(), "--input", in.toString(), "--output", out, "--id-col", "id",
                "--composite", "epsilon-plus", "--backend", "cpu", "--batch-rows", "9", "--partitions", "3");
        Map<Long, Row> got = SparkTesting.byId(SparkTesting.spark().read().parquet(out)
                .withColumn("id", org.apache.spark.sql.functions.col("id").cast("long")));
        // The reference parses the same text as the job: float values printed by Float.toString, read back.
        float[][] parsed = new float[x.length][10];
        for (int i = 0; i < x.length; i++) {
            for (int k = 0; k < 10; k++) {
                parsed[i][k] = Float.parseFloat(Float.toString(x[i][k] * 1000f));
            }
        }
        Explanation ref = SparkTesting.reference(SparkTesting.BREAST, "epsilon-plus", "cpu", Tensor.ofRows(parsed),
                Target.argmax());
        assertEquals(x.length, got.size());
        for (int i = 0; i < x.length; i++) {
            Row r = got.get((long) i);
            SparkTesting.assertSameBits(ref.relevance().row(i), r, "relevance", "row " + i);
            assertEquals(Float.floatToRawIntBits(ref.scores()[i]),
                    Float.floatToRawIntBits(r.getFloat(r.fieldIndex("lrp_score"))));
        }
    }

    @Test
    void aFolderOfImages(@TempDir Path dir) throws Exception {
        SparkTesting.spark();
        String out = dir.resolve("out").toString();
        run("--model", SparkTesting.DIGITS.toString(), "--input", SparkTesting.DIGIT_IMAGES.toString(), "--format",
                "images", "--output", out, "--composite", "epsilon-plus", "--backend", "cpu", "--target", "7");
        assertImagesExplained(out, digitImages());
    }

    @Test
    void streamingPicksUpNewImagesFromItsCheckpoint(@TempDir Path dir) throws Exception {
        SparkTesting.spark();
        List<Path> files = digitImages();
        Path in = Files.createDirectories(dir.resolve("in"));
        String out = dir.resolve("out").toString();
        String[] args = {"--model", SparkTesting.DIGITS.toString(), "--input", in.toString(), "--format", "images",
            "--output", out, "--checkpoint", dir.resolve("checkpoint").toString(), "--composite", "epsilon-plus",
            "--backend", "cpu", "--target", "7"};
        int half = files.size() / 2;
        for (Path f : files.subList(0, half)) {
            Files.copy(f, in.resolve(f.getFileName()));
        }
        run(args);
        assertEquals(half, SparkTesting.spark().read().parquet(out).count(), "rows after the first run");
        for (Path f : files.subList(half, files.size())) {
            Files.copy(f, in.resolve(f.getFileName()));
        }
        run(args);
        // Paths name the copies; the bits must be those of the originals, each explained once.
        assertImagesExplained(out, files);
    }

    @Test
    void aStreamNeedsAFileToTakeItsColumnsFrom(@TempDir Path dir) throws Exception {
        String err = runFailing("--model", SparkTesting.BREAST.toString(), "--input",
                Files.createDirectories(dir.resolve("in")).toString(), "--format", "csv", "--output",
                dir.resolve("out").toString(), "--checkpoint", dir.resolve("checkpoint").toString());
        assertTrue(err.contains("the stream takes its columns from the csv files already there"), err);
    }

    private static List<Path> digitImages() throws Exception {
        try (Stream<Path> s = Files.list(SparkTesting.DIGIT_IMAGES)) {
            return s.sorted().toList();
        }
    }

    /** Each image of {@code files} (matched by file name) once in the output, with the library's bits. */
    private static void assertImagesExplained(String out, List<Path> files) {
        List<Row> rows = SparkTesting.spark().read().parquet(out).orderBy("path").collectAsList();
        assertEquals(files.size(), rows.size());
        Explanation ref = SparkTesting.reference(SparkTesting.DIGITS, "epsilon-plus", "cpu",
                Images.load(files, Preprocess.none().withGrayscale(true)), Target.classIndex(7));
        for (int i = 0; i < rows.size(); i++) {
            Row r = rows.get(i);
            String path = r.getString(r.fieldIndex("path"));
            assertTrue(path.endsWith("/" + files.get(i).getFileName()), path);
            SparkTesting.assertSameBits(ref.relevance().row(i), r, "relevance", path);
            assertEquals(7, r.getInt(r.fieldIndex("lrp_class")));
        }
    }
}
