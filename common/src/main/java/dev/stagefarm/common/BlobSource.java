package dev.stagefarm.common;

import java.io.IOException;
import java.io.InputStream;

/** Somewhere blobs can be read from by digest: the cache-server, a local content store, a registry. */
public interface BlobSource {

    /**
     * Opens a blob. The stream yields exactly the blob's bytes; a source that cannot prove them
     * against the digest fails the read rather than returning wrong data.
     *
     * @throws java.nio.file.NoSuchFileException when the source does not hold the blob
     */
    InputStream open(Digest digest) throws IOException;
}
