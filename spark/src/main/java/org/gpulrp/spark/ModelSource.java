package org.gpulrp.spark;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import org.apache.hadoop.fs.FileStatus;
import org.apache.spark.SparkEnv;
import org.apache.spark.SparkFiles;
import org.gpulrp.LrpException;
import org.gpulrp.io.onnx.OnnxImporter;
import org.gpulrp.model.Network;

/**
 * Finds the model file on an executor and says which version of it is there (path, size and modification time:
 * cheap to ask for every task, and a replaced file gets a new identity), then loads it.
 *
 * <p>A location is tried as a Hadoop URI ({@code hdfs://}, {@code s3a://}), else as a local path, else as the name
 * of a file shipped with {@code spark-submit --files} ({@link SparkFiles#get}).
 */
final class ModelSource {
    /** Where the model was found and which version of it. */
    record Found(String location, boolean remote, long size, long modified) {
        String identity() {
            return location + "|" + size + "|" + modified;
        }
    }

    private ModelSource() {
    }

    static Found find(String location, HadoopFiles files) {
        if (HadoopFiles.isRemote(location)) {
            FileStatus s = files.status(location);
            if (!s.isFile()) {
                throw new LrpException("model " + location + ": not a file");
            }
            return new Found(location, true, s.getLen(), s.getModificationTime());
        }
        Path p = HadoopFiles.local(location);
        if (!Files.isRegularFile(p) && p.getNameCount() == 1 && SparkEnv.get() != null) {
            Path shipped = Path.of(SparkFiles.get(p.toString()));
            if (Files.isRegularFile(shipped)) {
                p = shipped;
            }
        }
        if (!Files.isRegularFile(p)) {
            throw new LrpException("model " + location + ": no such file on executor " + host() + " (give a path "
                    + "every executor can read, ship the file with spark-submit --files and give its name, or use "
                    + "an hdfs:// or s3a:// URI)");
        }
        try {
            BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class);
            return new Found(p.toAbsolutePath().toString(), false, a.size(), a.lastModifiedTime().toMillis());
        } catch (IOException e) {
            throw new UncheckedIOException("model " + location + ": " + e.getMessage(), e);
        }
    }

    static Network load(Found f, HadoopFiles files) {
        if (!f.remote()) {
            return OnnxImporter.load(Path.of(f.location()));
        }
        if (f.size() > Integer.MAX_VALUE - 8) {
            throw new LrpException("model " + f.location() + ": larger than 2 GB; copy it to a local path with its "
                    + "external data beside it");
        }
        return OnnxImporter.load(files.readAll(f.location()), f.location(), null);
    }

    private static String host() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return "(unknown host)";
        }
    }
}
