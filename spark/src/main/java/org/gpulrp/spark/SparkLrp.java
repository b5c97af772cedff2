package org.gpulrp.spark;

import java.util.Locale;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.ByteType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.DoubleType;
import org.apache.spark.sql.types.FloatType;
import org.apache.spark.sql.types.IntegerType;
import org.apache.spark.sql.types.LongType;
import org.apache.spark.sql.types.Metadata;
import org.apache.spark.sql.types.ShortType;
import org.apache.spark.sql.types.StringType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.sql.types.UserDefinedType;
import org.gpulrp.InvalidArgumentException;

/**
 * Adds LRP relevance columns to a Spark DataFrame with gpulrp's engine: the same numbers, bit for bit, as the
 * library explaining the same rows on one machine.
 *
 * <pre>{@code
 * Dataset<Row> out = SparkLrp.explain(df, LrpConfig.forModel("hdfs:///models/net.onnx")
 *         .withInputCol("features").withComposite("epsilon-plus").withTarget("argmax").withIdCol("id"));
 * }</pre>
 *
 * <p>Each executor JVM prepares the model once ({@link ExplainerCache}) and reuses it for every task and partition;
 * rows are explained in batches formed within each partition. The result keeps every input column and row order
 * within partitions, and appends the relevance ({@code array<float>}, the input's size; images flattened in C, H, W
 * order), optionally the explained class and its score, and with {@link LrpConfig.OnError#NULL} an error column.
 *
 * <p>A streaming DataFrame works the same way: nothing here runs an action or keeps state between partitions, and
 * micro-batches reuse the executors' prepared explainers. With a file sink and a checkpoint, each input row is
 * explained into the output once, across stops and restarts. A bad row under {@link LrpConfig.OnError#FAIL} stops
 * the query, and a restart meets it again; streams usually want {@link LrpConfig.OnError#NULL}.
 */
public final class SparkLrp {
    private SparkLrp() {
    }

    /** The DataFrame with the relevance columns appended; lazy, like any transformation. */
    public static Dataset<Row> explain(Dataset<Row> df, LrpConfig config) {
        InvalidArgumentException.check(df != null, "df", "must not be null");
        InvalidArgumentException.check(config != null, "config", "must not be null");
        StructType in = df.schema();
        int input = column(in, config.inputCol(), "inputCol");
        boolean images = isImagePaths(in.fields()[input], config.inputCol());
        int id = config.idCol() == null ? -1 : column(in, config.idCol(), "idCol");
        int target = -1;
        if (config.targetCol() != null) {
            target = column(in, config.targetCol(), "targetCol");
            DataType t = in.fields()[target].dataType();
            InvalidArgumentException.check(t instanceof IntegerType || t instanceof LongType || t instanceof ShortType
                    || t instanceof ByteType, "targetCol", "column '" + config.targetCol() + "' is "
                    + t.simpleString() + "; class indices must be an integer column");
        }
        StructType out = outputSchema(in, config);
        HadoopFiles files = new HadoopFiles(df.sparkSession().sparkContext().hadoopConfiguration());
        return df.mapPartitions(new PartitionExplainer(config, files, images, input, id, target), Encoders.row(out));
    }

    /** The schema {@link #explain} produces for an input schema. */
    public static StructType outputSchema(StructType in, LrpConfig config) {
        StructType out = in;
        out = add(out, config.relevanceCol(), DataTypes.createArrayType(DataTypes.FloatType, false), "relevanceCol");
        if (config.explainedClassCol() != null) {
            out = add(out, config.explainedClassCol(), DataTypes.IntegerType, "explainedClassCol");
        }
        if (config.scoreCol() != null) {
            out = add(out, config.scoreCol(), DataTypes.FloatType, "scoreCol");
        }
        if (config.onError() == LrpConfig.OnError.NULL) {
            out = add(out, config.errorCol(), DataTypes.StringType, "errorCol");
        }
        return out;
    }

    private static StructType add(StructType s, String name, DataType type, String parameter) {
        for (String f : s.fieldNames()) {
            InvalidArgumentException.check(!f.equalsIgnoreCase(name), parameter, "column '" + name + "' already "
                    + "exists; choose another name for the output column");
        }
        return s.add(new StructField(name, type, true, Metadata.empty()));
    }

    private static int column(StructType s, String name, String parameter) {
        String[] names = s.fieldNames();
        for (int i = 0; i < names.length; i++) {
            if (names[i].equals(name)) {
                return i;
            }
        }
        for (int i = 0; i < names.length; i++) {
            if (names[i].toLowerCase(Locale.ROOT).equals(name.toLowerCase(Locale.ROOT))) {
                return i;
            }
        }
        throw new InvalidArgumentException(parameter, "no column '" + name + "'; the DataFrame has "
                + String.join(", ", names));
    }

    /** True for a string column of image paths, false for a float/double array; else a clear error. */
    private static boolean isImagePaths(StructField f, String name) {
        DataType t = f.dataType();
        if (t instanceof StringType) {
            return true;
        }
        if (t instanceof ArrayType a && (a.elementType() instanceof FloatType
                || a.elementType() instanceof DoubleType)) {
            return false;
        }
        if (t instanceof UserDefinedType<?> u && u.userClass().getSimpleName().contains("Vector")) {
            throw new InvalidArgumentException("inputCol", "column '" + name + "' is a Spark ML vector; convert it "
                    + "first: df.withColumn(\"" + name + "\", org.apache.spark.ml.functions.vector_to_array(col(\""
                    + name + "\"), \"float32\"))");
        }
        throw new InvalidArgumentException("inputCol", "column '" + name + "' is " + t.simpleString()
                + "; expected array<float> or array<double> (feature vectors) or string (image paths)");
    }
}
