package org.gpulrp.spark;

import java.io.Serializable;
import java.util.Arrays;
import java.util.Locale;
import java.util.Objects;
import org.gpulrp.BackendChoice;
import org.gpulrp.InitialRelevance;
import org.gpulrp.InvalidArgumentException;
import org.gpulrp.composite.Presets;
import org.gpulrp.io.image.Preprocess;

/**
 * What {@link SparkLrp#explain} computes and where it puts it: the model file, rules, target and backend, the input
 * and output columns, batching, and what a bad row does. Immutable and serializable (it travels to the executors);
 * every {@code with*} returns a changed copy and checks its argument.
 *
 * <p>The model is an ONNX file that every executor can read: a local path on a shared file system, a file shipped
 * with {@code spark-submit --files} (give its name), or a Hadoop file system URI ({@code hdfs://}, {@code s3a://}).
 */
public final class LrpConfig implements Serializable {
    private static final long serialVersionUID = 1L;

    /** What happens to a row that cannot be explained (wrong length, NaN, unreadable image, bad target). */
    public enum OnError {
        /** Fail the job with an error naming the row (its id when an id column is set). The default. */
        FAIL,
        /** Give the row a null relevance and the reason in {@link #errorCol()}; the other rows go on. */
        NULL
    }

    private String model;
    private String composite;
    private String rule;
    private InitialRelevance init = InitialRelevance.OUTPUT;
    private int targetClass = -1;
    private String targetCol;
    private BackendChoice backend = BackendChoice.AUTO;
    private String device;
    private String gpuResource = "gpu";
    private String inputCol = "features";
    private String relevanceCol = "relevance";
    private String explainedClassCol;
    private String scoreCol;
    private String idCol;
    private OnError onError = OnError.FAIL;
    private String errorCol = "lrp_error";
    private int batchRows = 1024;
    private int chunkRows;
    private int cpuThreads;
    private int resize;
    private int crop;
    private float[] mean = {0f};
    private float[] std = {1f};
    private Boolean grayscale;

    private LrpConfig() {
    }

    /** A configuration for the ONNX model at {@code model} (see the class comment for what a location may be). */
    public static LrpConfig forModel(String model) {
        LrpConfig c = new LrpConfig();
        c.model = nonBlank(model, "model");
        return c;
    }

    private LrpConfig copy() {
        LrpConfig c = new LrpConfig();
        c.model = model;
        c.composite = composite;
        c.rule = rule;
        c.init = init;
        c.targetClass = targetClass;
        c.targetCol = targetCol;
        c.backend = backend;
        c.device = device;
        c.gpuResource = gpuResource;
        c.inputCol = inputCol;
        c.relevanceCol = relevanceCol;
        c.explainedClassCol = explainedClassCol;
        c.scoreCol = scoreCol;
        c.idCol = idCol;
        c.onError = onError;
        c.errorCol = errorCol;
        c.batchRows = batchRows;
        c.chunkRows = chunkRows;
        c.cpuThreads = cpuThreads;
        c.resize = resize;
        c.crop = crop;
        c.mean = mean.clone();
        c.std = std.clone();
        c.grayscale = grayscale;
        return c;
    }

    /** A composite by its command-line name, e.g. {@code epsilon-plus} or {@code epsilon-gamma-box:-3,3}. */
    public LrpConfig withComposite(String spec) {
        Presets.composite(spec);
        LrpConfig c = copy();
        c.composite = spec.strip();
        c.rule = null;
        return c;
    }

    /** One rule on every linear layer, by its command-line name, e.g. {@code epsilon:0.01} or {@code zplus}. */
    public LrpConfig withRule(String spec) {
        Presets.rule(spec);
        LrpConfig c = copy();
        c.rule = spec.strip();
        c.composite = null;
        return c;
    }

    /** The initial relevance: {@code output} (default), {@code onehot} or {@code logit}. */
    public LrpConfig withInitialRelevance(String name) {
        String n = nonBlank(name, "initialRelevance").toUpperCase(Locale.ROOT);
        LrpConfig c = copy();
        try {
            c.init = InitialRelevance.valueOf(n);
        } catch (IllegalArgumentException e) {
            throw new InvalidArgumentException("initialRelevance", "'" + name + "': expected output, onehot or "
                    + "logit");
        }
        return c;
    }

    /** The class explained: {@code argmax} (each row's arg-max, the default) or a class index. */
    public LrpConfig withTarget(String target) {
        String t = nonBlank(target, "target");
        LrpConfig c = copy();
        c.targetCol = null;
        if (t.equalsIgnoreCase("argmax")) {
            c.targetClass = -1;
            return c;
        }
        try {
            c.targetClass = Integer.parseInt(t);
        } catch (NumberFormatException e) {
            c.targetClass = -2;
        }
        InvalidArgumentException.check(c.targetClass >= 0, "target", "'" + target + "': expected argmax or a class "
                + "index >= 0 (or withTargetCol for one class per row)");
        return c;
    }

    /** Each row's class from this integer column (a null or out-of-range value is a bad row). */
    public LrpConfig withTargetCol(String column) {
        LrpConfig c = copy();
        c.targetCol = nonBlank(column, "targetCol");
        c.targetClass = -1;
        return c;
    }

    /** {@code auto} (OpenCL when a device exists, else the CPU; the default), {@code cpu} or {@code opencl}. */
    public LrpConfig withBackend(String name) {
        String n = nonBlank(name, "backend").toUpperCase(Locale.ROOT);
        LrpConfig c = copy();
        try {
            c.backend = BackendChoice.valueOf(n);
        } catch (IllegalArgumentException e) {
            throw new InvalidArgumentException("backend", "'" + name + "': expected auto, cpu or opencl");
        }
        return c;
    }

    /**
     * The OpenCL device whose name contains this text, on every executor. Without it, an executor that Spark gave a
     * GPU (resource {@link #withGpuResource}) uses that GPU, else the default device.
     */
    public LrpConfig withDevice(String nameContains) {
        LrpConfig c = copy();
        c.device = nameContains == null || nameContains.isBlank() ? null : nameContains.strip();
        return c;
    }

    /** The Spark resource name whose addresses pick the executor's GPU (default {@code gpu}); null ignores it. */
    public LrpConfig withGpuResource(String resourceName) {
        LrpConfig c = copy();
        c.gpuResource = resourceName == null || resourceName.isBlank() ? null : resourceName.strip();
        return c;
    }

    /**
     * The input column: an {@code array<float>} or {@code array<double>} of the model's input size (images
     * flattened in C, H, W order), or a {@code string} column of image paths. Default {@code features}.
     */
    public LrpConfig withInputCol(String column) {
        LrpConfig c = copy();
        c.inputCol = nonBlank(column, "inputCol");
        return c;
    }

    /** The added {@code array<float>} column with the input relevance (default {@code relevance}). */
    public LrpConfig withRelevanceCol(String column) {
        LrpConfig c = copy();
        c.relevanceCol = nonBlank(column, "relevanceCol");
        return c;
    }

    /** Also add the explained class index ({@code int}) in this column. */
    public LrpConfig withExplainedClassCol(String column) {
        LrpConfig c = copy();
        c.explainedClassCol = column == null || column.isBlank() ? null : column.strip();
        return c;
    }

    /** Also add the model's output at the explained class ({@code float}) in this column. */
    public LrpConfig withScoreCol(String column) {
        LrpConfig c = copy();
        c.scoreCol = column == null || column.isBlank() ? null : column.strip();
        return c;
    }

    /** A column whose value names a row in error messages (else: partition and position in it). */
    public LrpConfig withIdCol(String column) {
        LrpConfig c = copy();
        c.idCol = column == null || column.isBlank() ? null : column.strip();
        return c;
    }

    /** What a bad row does; with {@link OnError#NULL} the reason goes to {@code errorCol}. */
    public LrpConfig withOnError(OnError mode, String errorColumn) {
        InvalidArgumentException.check(mode != null, "onError", "must be FAIL or NULL");
        LrpConfig c = copy();
        c.onError = mode;
        if (mode == OnError.NULL) {
            c.errorCol = nonBlank(errorColumn, "errorCol");
        }
        return c;
    }

    /** Rows handed to the explainer at once within a partition (default 1024); results do not depend on it. */
    public LrpConfig withBatchRows(int rows) {
        InvalidArgumentException.check(rows > 0, "batchRows", "must be > 0, got " + rows);
        LrpConfig c = copy();
        c.batchRows = rows;
        return c;
    }

    /** The explainer's rows per device pass (0: the library's default); results do not depend on it. */
    public LrpConfig withChunkRows(int rows) {
        InvalidArgumentException.check(rows >= 0, "chunkRows", "must be >= 0 (0: default), got " + rows);
        LrpConfig c = copy();
        c.chunkRows = rows;
        return c;
    }

    /** Threads of the CPU path per executor (0: one per processor the executor JVM sees). */
    public LrpConfig withCpuThreads(int threads) {
        InvalidArgumentException.check(threads >= 0, "cpuThreads", "must be >= 0 (0: default), got " + threads);
        LrpConfig c = copy();
        c.cpuThreads = threads;
        return c;
    }

    /**
     * How image files become model input (as torchvision's Resize, CenterCrop, ToTensor, Normalize): 0 keeps the
     * size or skips the crop; {@code grayscale} null follows the model (one input channel means grayscale).
     */
    public LrpConfig withImagePreprocess(int resizeTo, int cropTo, float[] meanValues, float[] stdValues,
                                         Boolean gray) {
        new Preprocess(resizeTo, cropTo, meanValues, stdValues, gray != null && gray);
        LrpConfig c = copy();
        c.resize = resizeTo;
        c.crop = cropTo;
        c.mean = meanValues.clone();
        c.std = stdValues.clone();
        c.grayscale = gray;
        return c;
    }

    /** The image preprocessing for a model with {@code channels} input channels. */
    Preprocess preprocess(int channels) {
        boolean gray = grayscale != null ? grayscale : channels == 1;
        return new Preprocess(resize, crop, mean, std, gray);
    }

    public String model() {
        return model;
    }

    /** The composite spec, or null when a single rule (or the library's default, epsilon) is used. */
    public String composite() {
        return composite;
    }

    public String rule() {
        return rule;
    }

    public InitialRelevance initialRelevance() {
        return init;
    }

    /** The fixed class index, or -1 for arg-max or a target column. */
    public int targetClass() {
        return targetClass;
    }

    public String targetCol() {
        return targetCol;
    }

    public BackendChoice backend() {
        return backend;
    }

    public String device() {
        return device;
    }

    public String gpuResource() {
        return gpuResource;
    }

    public String inputCol() {
        return inputCol;
    }

    public String relevanceCol() {
        return relevanceCol;
    }

    public String explainedClassCol() {
        return explainedClassCol;
    }

    public String scoreCol() {
        return scoreCol;
    }

    public String idCol() {
        return idCol;
    }

    public OnError onError() {
        return onError;
    }

    /** The error column; present in the output only with {@link OnError#NULL}. */
    public String errorCol() {
        return errorCol;
    }

    public int batchRows() {
        return batchRows;
    }

    public int chunkRows() {
        return chunkRows;
    }

    public int cpuThreads() {
        return cpuThreads;
    }

    @Override
    public String toString() {
        return "LrpConfig[model=" + model + ", " + (rule != null ? "rule=" + rule : "composite="
                + Objects.requireNonNullElse(composite, "epsilon")) + ", init=" + init + ", target="
                + (targetCol != null ? "column " + targetCol : targetClass < 0 ? "argmax" : targetClass)
                + ", backend=" + backend + (device != null ? ", device=" + device : "") + ", input=" + inputCol
                + ", batchRows=" + batchRows + ", onError=" + onError + ", image=" + resize + "/" + crop + "/"
                + Arrays.toString(mean) + "/" + Arrays.toString(std) + "/" + grayscale + "]";
    }

    private static String nonBlank(String v, String parameter) {
        InvalidArgumentException.check(v != null && !v.isBlank(), parameter, "must not be empty");
        return v.strip();
    }
}
