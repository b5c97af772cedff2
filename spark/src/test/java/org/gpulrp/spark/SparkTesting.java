package org.gpulrp.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.gpulrp.BackendChoice;
import org.gpulrp.Explainer;
import org.gpulrp.Explanation;
import org.gpulrp.GpuLrp;
import org.gpulrp.Target;
import org.gpulrp.Tensor;
import org.gpulrp.backend.opencl.OpenClBackend;
import org.gpulrp.composite.Presets;
import org.gpulrp.io.onnx.OnnxImporter;
import org.gpulrp.model.Network;
import org.junit.jupiter.api.Assumptions;

/** One local Spark session for all tests (two threads, three attempts per task), fixtures and the reference run. */
final class SparkTesting {
    /** The repository root (tests run in spark/). */
    static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
    /** 10 features, one sigmoid output. */
    static final Path BREAST = ROOT.resolve("examples/breast-cancer/model.onnx");
    /** A CNN on [1, 8, 8] (64 features), 10 logits. */
    static final Path DIGITS = ROOT.resolve("examples/digits/model.onnx");
    static final Path DIGIT_IMAGES = ROOT.resolve("examples/digits/images");

    private static SparkSession spark;

    private SparkTesting() {
    }

    static synchronized SparkSession spark() {
        if (spark == null) {
            spark = SparkSession.builder().master("local[2,3]").appName("gpulrp-spark tests")
                    .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "4")
                    .config("spark.driver.host", "127.0.0.1").config("spark.sql.adaptive.enabled", "false")
                    .getOrCreate();
            spark.sparkContext().setLogLevel("ERROR");
        }
        return spark;
    }

    /** Skips OpenCL cases where there is no device, unless CI requires OpenCL (then they fail). */
    static void assumeBackend(String backend) {
        if (!backend.equals("opencl") || OpenClBackend.isAvailable()) {
            return;
        }
        boolean required = "true".equalsIgnoreCase(System.getenv("CI"))
                || "1".equals(System.getenv("GPULRP_REQUIRE_OPENCL"));
        if (required) {
            fail("OpenCL required but unavailable: " + OpenClBackend.unavailableReason().orElse("?"));
        }
        Assumptions.assumeTrue(false, "no OpenCL device: " + OpenClBackend.unavailableReason().orElse("?"));
    }

    /** {@code n} rows of {@code width} gaussian floats, seeded. */
    static float[][] randomRows(long seed, int n, int width) {
        Random r = new Random(seed);
        float[][] x = new float[n][width];
        for (float[] row : x) {
            for (int k = 0; k < width; k++) {
                row[k] = (float) r.nextGaussian();
            }
        }
        return x;
    }

    /** A DataFrame {@code id long, features array<float>} in {@code partitions} partitions. */
    static Dataset<Row> vectors(float[][] x, int partitions) {
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < x.length; i++) {
            rows.add(RowFactory.create((long) i, boxed(x[i])));
        }
        StructType s = new StructType().add("id", DataTypes.LongType, false)
                .add("features", DataTypes.createArrayType(DataTypes.FloatType, true), true);
        return spark().createDataFrame(rows, s).repartition(partitions);
    }

    static Float[] boxed(float[] v) {
        Float[] b = new Float[v.length];
        for (int k = 0; k < v.length; k++) {
            b[k] = v[k];
        }
        return b;
    }

    /** The plain library on one machine: the whole batch in one call. */
    static Explanation reference(Path model, String composite, String backend, Tensor x, Target t) {
        Network net = OnnxImporter.load(model);
        Explainer.Builder b = GpuLrp.explainer(net).backend(BackendChoice.valueOf(backend.toUpperCase()));
        if (composite != null) {
            b.composite(Presets.composite(composite));
        }
        try (Explainer ex = b.build()) {
            return ex.explain(x, t);
        }
    }

    /** Rows keyed by the long column {@code id}. */
    static Map<Long, Row> byId(Dataset<Row> df) {
        Map<Long, Row> m = new HashMap<>();
        for (Row r : df.collectAsList()) {
            Row old = m.put(r.getLong(r.fieldIndex("id")), r);
            assertEquals(null, old, "duplicate id " + r.getLong(r.fieldIndex("id")));
        }
        return m;
    }

    /** Asserts the row's relevance column equals {@code expected} bit for bit. */
    static void assertSameBits(float[] expected, Row r, String column, String what) {
        List<Object> got = r.getList(r.fieldIndex(column));
        assertNotNull(got, what + ": null relevance");
        assertEquals(expected.length, got.size(), what + ": length");
        for (int k = 0; k < expected.length; k++) {
            int e = Float.floatToRawIntBits(expected[k]);
            int g = Float.floatToRawIntBits((Float) got.get(k));
            if (e != g) {
                fail(what + ": value " + k + " differs: expected " + expected[k] + " (0x" + Integer.toHexString(e)
                        + "), got " + got.get(k) + " (0x" + Integer.toHexString(g) + ")");
            }
        }
    }
}
