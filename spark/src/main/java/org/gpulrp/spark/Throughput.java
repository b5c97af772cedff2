package org.gpulrp.spark;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.Callable;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.gpulrp.BackendChoice;
import org.gpulrp.Explainer;
import org.gpulrp.Explanation;
import org.gpulrp.GpuLrp;
import org.gpulrp.LrpException;
import org.gpulrp.Target;
import org.gpulrp.Tensor;
import org.gpulrp.composite.Presets;
import org.gpulrp.io.onnx.OnnxImporter;
import org.gpulrp.model.Network;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Rows per second of {@link SparkLrp} in local mode against the plain library on the same random rows, measured
 * alternately in one JVM (the machine's speed drifts; runs from different processes do not compare). Spark writes
 * to the {@code noop} sink, so the numbers are explaining plus Spark's row handling, without file output. Checks
 * first that Spark's relevance equals the library's, bit for bit.
 */
@Command(name = "Throughput", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Spark local mode vs the plain library: rows/s on random rows.")
public final class Throughput implements Callable<Integer> {
    @Option(names = "--model", required = true, paramLabel = "FILE.onnx")
    private String model;

    @Option(names = "--rows", defaultValue = "20000")
    private int rows;

    @Option(names = "--partitions", defaultValue = "8")
    private int partitions;

    @Option(names = "--batch-rows", defaultValue = "1024")
    private int batchRows;

    @Option(names = "--composite", defaultValue = "epsilon-plus")
    private String composite;

    @Option(names = "--backend", defaultValue = "cpu")
    private String backend;

    @Option(names = "--repeats", defaultValue = "5")
    private int repeats;

    @Option(names = "--cpu-threads", defaultValue = "0",
            description = "Threads of each executor's CPU explainer (default 0: every core its JVM sees).")
    private int cpuThreads;

    public static void main(String[] args) {
        System.exit(new CommandLine(new Throughput()).execute(args));
    }

    @Override
    public Integer call() {
        Network net = OnnxImporter.load(java.nio.file.Path.of(model));
        int width = net.inputSize();
        Random r = new Random(1);
        float[][] x = new float[rows][width];
        List<Row> data = new ArrayList<>(rows);
        for (int i = 0; i < rows; i++) {
            Float[] boxed = new Float[width];
            for (int k = 0; k < width; k++) {
                x[i][k] = (float) r.nextGaussian();
                boxed[k] = x[i][k];
            }
            data.add(RowFactory.create((long) i, boxed));
        }
        SparkSession spark = SparkSession.builder().appName("gpulrp Throughput").getOrCreate();
        try {
            StructType s = new StructType().add("id", DataTypes.LongType)
                    .add("features", DataTypes.createArrayType(DataTypes.FloatType));
            Dataset<Row> df = spark.createDataFrame(data, s).repartition(partitions).cache();
            df.count();
            LrpConfig c = LrpConfig.forModel(model).withComposite(composite).withBackend(backend)
                    .withBatchRows(batchRows).withCpuThreads(cpuThreads);
            try (Explainer ex = GpuLrp.explainer(net).composite(Presets.composite(composite))
                    .backend(BackendChoice.valueOf(backend.toUpperCase(Locale.ROOT))).build()) {
                Tensor all = Tensor.ofRows(x);
                Explanation ref = ex.explain(all, Target.argmax());
                check(SparkLrp.explain(df, c.withIdCol("id")), ref);
                double[] lib = new double[repeats];
                double[] spk = new double[repeats];
                double[] pass = new double[repeats];
                StructType out = SparkLrp.outputSchema(s, c);
                for (int k = 0; k < repeats; k++) {
                    long t0 = System.nanoTime();
                    ex.explain(all, Target.argmax());
                    long t1 = System.nanoTime();
                    SparkLrp.explain(df, c).write().format("noop").mode("overwrite").save();
                    long t2 = System.nanoTime();
                    df.mapPartitions(new PassThrough(width), Encoders.row(out)).write().format("noop")
                            .mode("overwrite").save();
                    long t3 = System.nanoTime();
                    lib[k] = rows / ((t1 - t0) / 1e9);
                    spk[k] = rows / ((t2 - t1) / 1e9);
                    pass[k] = rows / ((t3 - t2) / 1e9);
                }
                System.out.printf(Locale.ROOT, "model %s (%d inputs), %d rows, %s, backend %s [%s], %d partitions, "
                                + "batch %d, master %s%n", net.name(), width, rows, composite, backend,
                        ex.backend().device(), partitions, batchRows, spark.sparkContext().master());
                System.out.printf(Locale.ROOT, "library: median %.0f rows/s (runs %s)%n", median(lib), fmt(lib));
                System.out.printf(Locale.ROOT, "spark:   median %.0f rows/s (runs %s)%n", median(spk), fmt(spk));
                System.out.printf(Locale.ROOT, "spark pass-through (rows in and out, no explaining): median %.0f "
                        + "rows/s (runs %s)%n", median(pass), fmt(pass));
                System.out.printf(Locale.ROOT, "spark / library: %.2f%n", median(spk) / median(lib));
                if (!spark.sparkContext().isLocal()) {
                    for (String line : ExecutorHeap.collect(spark)) {
                        System.out.println(line);
                    }
                }
            }
        } finally {
            spark.stop();
        }
        return 0;
    }

    /** Spark's floor: the same rows in and out with a relevance-sized array appended, nothing explained. */
    static final class PassThrough implements MapPartitionsFunction<Row, Row> {
        private static final long serialVersionUID = 1L;
        private final int width;

        PassThrough(int width) {
            this.width = width;
        }

        @Override
        public Iterator<Row> call(Iterator<Row> in) {
            return new Iterator<>() {
                @Override
                public boolean hasNext() {
                    return in.hasNext();
                }

                @Override
                public Row next() {
                    Row r = in.next();
                    List<Object> x = r.getList(1);
                    float[] copy = new float[width];
                    for (int k = 0; k < width; k++) {
                        copy[k] = ((Number) x.get(k)).floatValue();
                    }
                    return RowFactory.create(r.get(0), r.get(1), copy);
                }
            };
        }
    }

    /** Spark's relevance must equal the library's before any timing means anything. */
    private static void check(Dataset<Row> explained, Explanation ref) {
        List<Row> got = explained.collectAsList();
        for (Row row : got) {
            int i = (int) row.getLong(row.fieldIndex("id"));
            List<Object> rel = row.getList(row.fieldIndex("relevance"));
            float[] want = ref.relevance().row(i);
            for (int k = 0; k < want.length; k++) {
                if (Float.floatToRawIntBits(want[k]) != Float.floatToRawIntBits((Float) rel.get(k))) {
                    throw new LrpException("row " + i + " value " + k + ": Spark " + rel.get(k) + " != library "
                            + want[k]);
                }
            }
        }
        System.out.println("check: " + got.size() + " rows bit-identical to the library");
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    private static String fmt(double[] v) {
        StringBuilder b = new StringBuilder();
        for (double d : v) {
            b.append(b.length() == 0 ? "" : ", ").append(String.format(Locale.ROOT, "%.0f", d));
        }
        return b.toString();
    }
}
