package org.gpulrp.spark;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeoutException;
import org.apache.spark.sql.AnalysisException;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.streaming.DataStreamWriter;
import org.apache.spark.sql.streaming.StreamingQuery;
import org.apache.spark.sql.streaming.StreamingQueryException;
import org.apache.spark.sql.streaming.StreamingQueryProgress;
import org.apache.spark.sql.streaming.Trigger;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.NumericType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.gpulrp.LrpException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * An example job: reads feature vectors (Parquet, or CSV with one numeric column per feature) or image files,
 * adds the relevance with {@link SparkLrp}, and writes Parquet. With {@code --checkpoint} it is a Structured
 * Streaming query instead: the files that arrive in the input folder, into a Parquet file sink, each row once. Runs under {@code spark-submit} on a cluster, or
 * alone in local mode ({@code --master local[2]}; {@code spark/run} does that in one command).
 */
@Command(name = "ExplainJob", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Explain a DataFrame with gpulrp on Spark and write the relevance as Parquet.")
public final class ExplainJob implements Callable<Integer> {
    private static final String IMAGE_FILES = "*.{png,jpg,jpeg,PNG,JPG,JPEG}";
    /** Spark's binaryFile source's fixed schema, which a stream must be given. */
    private static final StructType BINARY_FILE = new StructType().add("path", DataTypes.StringType, false)
            .add("modificationTime", DataTypes.TimestampType, false).add("length", DataTypes.LongType, false)
            .add("content", DataTypes.BinaryType, true);

    @Option(names = "--model", required = true, paramLabel = "FILE.onnx|URI",
            description = "The ONNX model: a path every executor can read, a file shipped with --files (its name), "
                    + "or an hdfs:// / s3a:// URI.")
    private String model;

    @Option(names = "--input", required = true, paramLabel = "PATH|URI",
            description = "Parquet file or folder, a .csv file or folder, or a folder of images (--format images).")
    private String input;

    @Option(names = "--format", paramLabel = "parquet|csv|images",
            description = "The input format (default: from the input's extension; parquet otherwise).")
    private String format;

    @Option(names = "--input-col", paramLabel = "NAME",
            description = "The array<float|double> column (Parquet; default features). For CSV without it, every "
                    + "numeric column except --id-col and --target-col, in file order, makes the vector.")
    private String inputCol;

    @Option(names = "--output", required = true, paramLabel = "PATH|URI", description = "Where the Parquet goes.")
    private String output;

    @Option(names = "--id-col", paramLabel = "NAME", description = "A column naming rows in error messages.")
    private String idCol;

    @Option(names = "--composite", paramLabel = "SPEC", description = "e.g. epsilon-plus, epsilon-gamma-box:-3,3.")
    private String composite;

    @Option(names = "--rule", paramLabel = "SPEC", description = "One rule on every layer, e.g. epsilon:0.01.")
    private String rule;

    @Option(names = "--init", paramLabel = "output|onehot|logit", defaultValue = "output")
    private String init;

    @Option(names = "--target", paramLabel = "argmax|INDEX", defaultValue = "argmax")
    private String target;

    @Option(names = "--target-col", paramLabel = "NAME", description = "An integer column: one class per row.")
    private String targetCol;

    @Option(names = "--backend", paramLabel = "auto|cpu|opencl", defaultValue = "auto")
    private String backend;

    @Option(names = "--device", paramLabel = "NAME",
            description = "OpenCL device name (default: the executor's Spark GPU, else the library's default).")
    private String device;

    @Option(names = "--batch-rows", paramLabel = "N", defaultValue = "1024",
            description = "Rows explained together within a partition (default 1024).")
    private int batchRows;

    @Option(names = "--partitions", paramLabel = "N", description = "Repartition the input first.")
    private Integer partitions;

    @Option(names = "--on-error", paramLabel = "fail|null", defaultValue = "fail",
            description = "fail (default): a bad row fails the job; null: null relevance and the reason in "
                    + "lrp_error.")
    private String onError;

    @Option(names = "--resize", paramLabel = "N", defaultValue = "0", description = "Images: shorter side.")
    private int resize;

    @Option(names = "--crop", paramLabel = "N", defaultValue = "0", description = "Images: centre crop.")
    private int crop;

    @Option(names = "--mean", paramLabel = "A[,B,C]", split = ",", description = "Images: per-channel mean.")
    private float[] mean = {0f};

    @Option(names = "--std", paramLabel = "A[,B,C]", split = ",", description = "Images: per-channel std.")
    private float[] std = {1f};

    @Option(names = "--grayscale", negatable = true,
            description = "Images: one gray channel (default: when the model has one input channel).")
    private Boolean grayscale;

    @Option(names = "--checkpoint", paramLabel = "PATH|URI",
            description = "Stream: explain the files in the --input folder as they arrive, into a Parquet file sink "
                    + "at --output, keeping the query's progress here; a later run with the same checkpoint goes on "
                    + "with the files it has not seen.")
    private String checkpoint;

    @Option(names = "--trigger", paramLabel = "available-now|SECONDS", defaultValue = "available-now",
            description = "With --checkpoint: available-now (default) explains the files there now, then stops; a "
                    + "number of seconds starts a micro-batch that often and runs until stopped.")
    private String trigger;

    @Option(names = "--master", paramLabel = "URL",
            description = "Spark master when not run by spark-submit (e.g. local[2]); default local[*].")
    private String master;

    public static void main(String[] args) {
        int rc = new CommandLine(new ExplainJob()).setExecutionExceptionHandler((e, cmd, parsed) -> {
            cmd.getErr().println("ExplainJob: " + (e instanceof LrpException ? e.getMessage() : e.toString()));
            return 1;
        }).execute(args);
        if (rc != 0) {
            System.exit(rc);
        }
    }

    @Override
    public Integer call() throws TimeoutException, StreamingQueryException {
        LrpConfig c = config();
        SparkSession.Builder b = SparkSession.builder().appName("gpulrp ExplainJob");
        if (master != null) {
            b.master(master);
        } else if (System.getProperty("spark.master") == null) {
            b.master("local[*]");
        }
        // A session that already runs (a notebook, a test) is used and left running; one made here is stopped.
        boolean own = SparkSession.getDefaultSession().isEmpty();
        SparkSession spark = b.getOrCreate();
        try {
            String fmt = format();
            Dataset<Row> df = checkpoint != null ? readStream(spark, fmt) : read(spark, fmt);
            if (fmt.equals("csv") && inputCol == null) {
                df = assemble(df);
                c = c.withInputCol("features");
            } else if (fmt.equals("images")) {
                c = c.withInputCol("path");
            } else {
                c = c.withInputCol(inputCol != null ? inputCol : "features");
            }
            if (partitions != null) {
                df = df.repartition(partitions);
            }
            if (checkpoint != null) {
                stream(SparkLrp.explain(df, c));
                return 0;
            }
            long t0 = System.nanoTime();
            SparkLrp.explain(df, c).write().mode(SaveMode.ErrorIfExists).parquet(output);
            double s = (System.nanoTime() - t0) / 1e9;
            long rows = spark.read().parquet(output).count();
            System.err.printf(Locale.ROOT, "ExplainJob: %d rows in %.1f s (%.0f rows/s) -> %s%n", rows, s, rows / s,
                    output);
        } finally {
            if (own) {
                spark.stop();
            }
        }
        return 0;
    }

    private LrpConfig config() {
        LrpConfig c = LrpConfig.forModel(model).withInitialRelevance(init).withBackend(backend).withDevice(device)
                .withBatchRows(batchRows).withIdCol(idCol).withExplainedClassCol("lrp_class")
                .withScoreCol("lrp_score").withImagePreprocess(resize, crop, mean, std, grayscale);
        if (composite != null && rule != null) {
            throw new LrpException("give --composite or --rule, not both");
        }
        if (composite != null) {
            c = c.withComposite(composite);
        } else if (rule != null) {
            c = c.withRule(rule);
        }
        c = targetCol != null ? c.withTargetCol(targetCol) : c.withTarget(target);
        return switch (onError.toLowerCase(Locale.ROOT)) {
            case "fail" -> c;
            case "null" -> c.withOnError(LrpConfig.OnError.NULL, "lrp_error");
            default -> throw new LrpException("--on-error '" + onError + "': expected fail or null");
        };
    }

    private String format() {
        if (format != null) {
            String f = format.toLowerCase(Locale.ROOT);
            if (!List.of("parquet", "csv", "images").contains(f)) {
                throw new LrpException("--format '" + format + "': expected parquet, csv or images");
            }
            return f;
        }
        return input.toLowerCase(Locale.ROOT).endsWith(".csv") ? "csv" : "parquet";
    }

    private Dataset<Row> read(SparkSession spark, String fmt) {
        return switch (fmt) {
            case "csv" -> spark.read().option("header", true).option("enforceSchema", false).schema(csvSchema(spark))
                    .csv(input);
            // Only the path column is read: the image bytes are decoded on the executors, row by row.
            case "images" -> spark.read().format("binaryFile").option("pathGlobFilter", IMAGE_FILES).load(input)
                    .select("path").orderBy("path");
            default -> spark.read().parquet(input);
        };
    }

    /**
     * The input folder as a stream of the files that arrive in it. A file source needs its schema up front: CSV and
     * Parquet take it from the files there at the start (there must be one); image paths have a fixed one. Rows come in
     * arrival order, not sorted.
     */
    private Dataset<Row> readStream(SparkSession spark, String fmt) {
        try {
            return switch (fmt) {
                case "csv" -> spark.readStream().option("header", true).option("enforceSchema", false)
                        .schema(csvSchema(spark)).csv(input);
                case "images" -> spark.readStream().format("binaryFile").schema(BINARY_FILE)
                        .option("pathGlobFilter", IMAGE_FILES).load(input).select("path");
                default -> spark.readStream().schema(spark.read().parquet(input).schema()).parquet(input);
            };
        } catch (Exception e) {
            // Scala throws AnalysisException (a checked exception to Java) undeclared; anything else goes on.
            if (!(e instanceof AnalysisException)) {
                throw e;
            }
            throw new LrpException("--input " + input + ": the stream takes its columns from the " + fmt + " files "
                    + "already there, and found none to read (" + e.getMessage() + ")");
        }
    }

    /** Writes the explained stream to the Parquet file sink and waits for the query (available-now: to the end). */
    private void stream(Dataset<Row> explained) throws TimeoutException, StreamingQueryException {
        DataStreamWriter<Row> w = explained.writeStream().format("parquet").option("checkpointLocation", checkpoint);
        if (trigger.equalsIgnoreCase("available-now")) {
            w = w.trigger(Trigger.AvailableNow());
        } else {
            double seconds;
            try {
                seconds = Double.parseDouble(trigger);
            } catch (NumberFormatException e) {
                seconds = -1;
            }
            if (!(seconds > 0)) {
                throw new LrpException("--trigger '" + trigger + "': expected available-now or a number of seconds "
                        + "> 0");
            }
            w = w.trigger(Trigger.ProcessingTime(Math.round(seconds * 1000)));
        }
        long t0 = System.nanoTime();
        StreamingQuery q = w.start(output);
        q.awaitTermination();
        long rows = 0;
        for (StreamingQueryProgress p : q.recentProgress()) {
            rows += p.numInputRows();
        }
        System.err.printf(Locale.ROOT, "ExplainJob: %d new rows in %d micro-batches, %.1f s -> %s (checkpoint %s)%n",
                rows, q.recentProgress().length, (System.nanoTime() - t0) / 1e9, output, checkpoint);
    }

    /**
     * The CSV schema: inferred, then with the feature columns as float, so that each value is parsed straight to
     * float32 (as the library's CSV reader does) rather than rounded twice through double.
     */
    private StructType csvSchema(SparkSession spark) {
        StructType inferred = spark.read().option("header", true).option("inferSchema", true).csv(input).schema();
        if (inputCol != null) {
            return inferred;
        }
        StructType s = new StructType();
        for (StructField f : inferred.fields()) {
            boolean feature = f.dataType() instanceof NumericType && !f.name().equals(idCol)
                    && !f.name().equals(targetCol);
            s = s.add(f.name(), feature ? DataTypes.FloatType : f.dataType(), true);
        }
        return s;
    }

    /** CSV: one {@code array<float>} column {@code features} from the numeric columns, in file order. */
    private Dataset<Row> assemble(Dataset<Row> df) {
        List<Column> features = new ArrayList<>();
        List<Column> keep = new ArrayList<>();
        for (StructField f : df.schema().fields()) {
            String n = f.name();
            boolean key = n.equals(idCol) || n.equals(targetCol);
            if (key || !(f.dataType() instanceof NumericType)) {
                keep.add(df.col("`" + n + "`"));
            } else {
                features.add(df.col("`" + n + "`"));
            }
        }
        if (features.isEmpty()) {
            throw new LrpException("--input " + input + ": no numeric columns to explain");
        }
        keep.add(functions.array(features.toArray(new Column[0])).as("features"));
        return df.select(keep.toArray(new Column[0]));
    }
}
