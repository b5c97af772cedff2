package org.gpulrp.spark;

import java.net.URI;
import org.apache.hadoop.fs.RawLocalFileSystem;

/** The local disk under the scheme {@code testfs://}, standing in for a remote Hadoop file system in tests. */
public final class TestFileSystem extends RawLocalFileSystem {
    static final String SCHEME = "testfs";

    @Override
    public URI getUri() {
        return URI.create(SCHEME + ":///");
    }

    @Override
    public String getScheme() {
        return SCHEME;
    }
}
