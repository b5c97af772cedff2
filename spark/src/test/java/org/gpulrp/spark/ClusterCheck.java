package org.gpulrp.spark;

import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.gpulrp.Explanation;
import org.gpulrp.Target;
import org.gpulrp.Tensor;
import org.gpulrp.io.onnx.OnnxImporter;

/**
 * The two ends of {@code spark/cluster-test}, which runs {@link ExplainJob} on a standalone cluster in between:
 * {@code input} writes seeded random rows as CSV files (id, f0..fN-1); {@code verify} reads the job's Parquet output
 * in a local session and checks that every row is there exactly once, with the relevance, class and score the plain
 * library gives for the same rows in one call, bit for bit. Exits 1 with the reason on any difference.
 *
 * <pre>
 * ClusterCheck input  FOLDER ROWS FILES WIDTH SEED
 * ClusterCheck verify MODEL.onnx OUTPUT ROWS WIDTH SEED COMPOSITE
 * </pre>
 */
public final class ClusterCheck {
    private ClusterCheck() {
    }

    public static void main(String[] args) throws IOException {
        try {
            if (args.length == 6 && args[0].equals("input")) {
                input(Path.of(args[1]), Integer.parseInt(args[2]), Integer.parseInt(args[3]),
                        Integer.parseInt(args[4]), Long.parseLong(args[5]));
                return;
            }
            if (args.length == 7 && args[0].equals("verify")) {
                verify(Path.of(args[1]), args[2], Integer.parseInt(args[3]), Integer.parseInt(args[4]),
                        Long.parseLong(args[5]), args[6]);
                return;
            }
        } catch (AssertionError e) {
            System.err.println("ClusterCheck: FAILED: " + e.getMessage());
            System.exit(1);
        }
        System.err.println("usage: ClusterCheck input FOLDER ROWS FILES WIDTH SEED | "
                + "verify MODEL OUTPUT ROWS WIDTH SEED COMPOSITE");
        System.exit(2);
    }

    /** {@code rows} rows in {@code files} CSV files with a header; values printed so they parse back exactly. */
    static void input(Path folder, int rows, int files, int width, long seed) throws IOException {
        float[][] x = SparkTesting.randomRows(seed, rows, width);
        Files.createDirectories(folder);
        for (int f = 0; f < files; f++) {
            try (BufferedWriter w = Files.newBufferedWriter(folder.resolve(String.format(Locale.ROOT,
                    "part-%03d.csv", f)))) {
                w.write("id");
                for (int k = 0; k < width; k++) {
                    w.write(",f" + k);
                }
                w.newLine();
                for (int i = f; i < rows; i += files) {
                    w.write(Integer.toString(i));
                    for (float v : x[i]) {
                        w.write(',');
                        w.write(Float.toString(v));
                    }
                    w.newLine();
                }
            }
        }
        System.err.printf(Locale.ROOT, "ClusterCheck: %d rows of %d values in %d files under %s%n", rows, width,
                files, folder);
    }

    static void verify(Path model, String output, int rows, int width, long seed, String composite) {
        float[][] x = SparkTesting.randomRows(seed, rows, width);
        int[] shape = OnnxImporter.load(model).inputShape();
        Explanation ref = SparkTesting.reference(model, composite, "cpu",
                new Tensor(Tensor.ofRows(x).toArray(), withBatch(rows, shape)), Target.argmax());
        SparkSession spark = SparkSession.builder().master("local[2]").appName("gpulrp ClusterCheck")
                .config("spark.ui.enabled", "false").config("spark.driver.host", "127.0.0.1").getOrCreate();
        try {
            Dataset<Row> out = spark.read().parquet(output).withColumn("id", functions.col("id").cast("long"));
            List<Row> all = out.collectAsList();
            Row[] byId = new Row[rows];
            for (Row r : all) {
                long id = r.getLong(r.fieldIndex("id"));
                check(id >= 0 && id < rows, "row id " + id + " was never in the input");
                check(byId[(int) id] == null, "row id " + id + " is in the output twice");
                byId[(int) id] = r;
            }
            List<Integer> missing = new ArrayList<>();
            for (int i = 0; i < rows; i++) {
                Row r = byId[i];
                if (r == null) {
                    missing.add(i);
                    continue;
                }
                float[] want = ref.relevance().row(i);
                List<Object> rel = r.getList(r.fieldIndex("relevance"));
                check(rel != null && rel.size() == want.length, "row " + i + ": relevance " + rel);
                for (int k = 0; k < want.length; k++) {
                    check(Float.floatToRawIntBits(want[k]) == Float.floatToRawIntBits((Float) rel.get(k)),
                            "row " + i + " value " + k + ": relevance " + rel.get(k) + ", the library " + want[k]);
                }
                check(r.getInt(r.fieldIndex("lrp_class")) == ref.targets()[i], "row " + i + ": class");
                check(Float.floatToRawIntBits(r.getFloat(r.fieldIndex("lrp_score")))
                        == Float.floatToRawIntBits(ref.scores()[i]), "row " + i + ": score");
            }
            check(missing.isEmpty(), missing.size() + " rows missing, e.g. " + missing.subList(0,
                    Math.min(10, missing.size())));
            check(all.size() == rows, "the output has " + all.size() + " rows, the input " + rows);
            System.err.printf(Locale.ROOT, "ClusterCheck: %d rows, each once, bit-identical to the library "
                    + "(relevance, class, score)%n", rows);
        } finally {
            spark.stop();
        }
    }

    private static int[] withBatch(int rows, int[] shape) {
        int[] full = new int[shape.length + 1];
        full[0] = rows;
        System.arraycopy(shape, 0, full, 1, shape.length);
        return full;
    }

    private static void check(boolean ok, String what) {
        if (!ok) {
            throw new AssertionError(what);
        }
    }
}
