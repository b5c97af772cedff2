package org.gpulrp.spark;

import java.io.IOException;
import java.io.InputStream;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;

/**
 * Files named by a location string, read on an executor: a local path, a {@code file:} URI, or any Hadoop file
 * system URI ({@code hdfs://}, {@code s3a://}, ...) read with the driver's Hadoop configuration, which travels
 * along (it holds the credentials a session was given as {@code spark.hadoop.*}).
 */
final class HadoopFiles implements Serializable {
    private static final long serialVersionUID = 1L;
    private final HashMap<String, String> conf;
    private transient Configuration hadoop;

    HadoopFiles(Configuration driverConf) {
        conf = new HashMap<>();
        if (driverConf != null) {
            for (Map.Entry<String, String> e : driverConf) {
                conf.put(e.getKey(), e.getValue());
            }
        }
    }

    /** Whether {@code location} is a URI for Hadoop rather than a local path. */
    static boolean isRemote(String location) {
        int colon = location.indexOf("://");
        if (colon <= 0) {
            return false;
        }
        String scheme = location.substring(0, colon).toLowerCase(Locale.ROOT);
        return !scheme.equals("file") && scheme.matches("[a-z][a-z0-9+.-]*");
    }

    /** The local path of a non-remote location ({@code file:} URIs included). */
    static Path local(String location) {
        return location.startsWith("file:") ? Path.of(URI.create(location)) : Path.of(location);
    }

    private Configuration hadoop() {
        if (hadoop == null) {
            Configuration c = new Configuration(false);
            conf.forEach(c::set);
            hadoop = c;
        }
        return hadoop;
    }

    /** The status of a remote file; fails naming the location. */
    FileStatus status(String location) {
        org.apache.hadoop.fs.Path p = new org.apache.hadoop.fs.Path(location);
        try {
            FileSystem fs = p.getFileSystem(hadoop());
            return fs.getFileStatus(p);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + location + ": " + e.getMessage(), e);
        }
    }

    /** The bytes of a remote file (at most 2 GB). */
    byte[] readAll(String location) {
        org.apache.hadoop.fs.Path p = new org.apache.hadoop.fs.Path(location);
        try (InputStream in = p.getFileSystem(hadoop()).open(p)) {
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + location + ": " + e.getMessage(), e);
        }
    }

    /** Copies a remote file into {@code dir} (keeping its extension, which the image decoder looks at). */
    Path copyToLocal(String location, Path dir) {
        org.apache.hadoop.fs.Path p = new org.apache.hadoop.fs.Path(location);
        String name = p.getName();
        int dot = name.lastIndexOf('.');
        try (InputStream in = p.getFileSystem(hadoop()).open(p)) {
            Path f = Files.createTempFile(dir, "gpulrp-", dot >= 0 ? name.substring(dot) : "");
            Files.copy(in, f, StandardCopyOption.REPLACE_EXISTING);
            return f;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + location + ": " + e.getMessage(), e);
        }
    }
}
