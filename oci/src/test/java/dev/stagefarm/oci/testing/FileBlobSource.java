package dev.stagefarm.oci.testing;

import dev.stagefarm.common.BlobSource;
import dev.stagefarm.common.Digest;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * Blobs kept in memory or in files, for tests. Like every {@link BlobSource} it proves what it
 * returns: a file changed since it was added fails the open.
 */
public final class FileBlobSource implements BlobSource {

    private final Map<Digest, Path> files = new HashMap<>();
    private final Map<Digest, byte[]> bytes = new HashMap<>();

    public Digest add(Path file) throws IOException {
        Digest d = Digest.of(file);
        files.put(d, file);
        return d;
    }

    public Digest add(byte[] content) {
        Digest d = Digest.of(content);
        bytes.put(d, content.clone());
        return d;
    }

    @Override
    public InputStream open(Digest digest) throws IOException {
        if (bytes.containsKey(digest)) {
            return new ByteArrayInputStream(bytes.get(digest));
        }
        Path f = files.get(digest);
        if (f == null) {
            throw new NoSuchFileException(digest.toString());
        }
        byte[] content = Files.readAllBytes(f);
        Digest actual = Digest.of(content);
        if (!actual.equals(digest)) {
            throw new IOException("blob " + digest + " is corrupt: " + f + " now hashes to " + actual);
        }
        return new ByteArrayInputStream(content);
    }
}
