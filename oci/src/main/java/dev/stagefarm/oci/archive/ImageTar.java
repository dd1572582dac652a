package dev.stagefarm.oci.archive;

import dev.stagefarm.common.BlobSource;
import dev.stagefarm.common.Digest;
import dev.stagefarm.oci.Descriptor;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.HashSet;
import java.util.Set;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;

/**
 * The tar both image archive formats are written into: fixed owners, modes and times so the same image
 * gives the same archive, and every blob checked against its descriptor while it is copied in.
 */
final class ImageTar implements AutoCloseable {

    private final TarArchiveOutputStream tar;
    private final Set<String> written = new HashSet<>();

    ImageTar(OutputStream out) {
        tar = new TarArchiveOutputStream(out, "UTF-8");
        tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
        tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
    }

    void directory(String name) throws IOException {
        if (written.add(name)) {
            tar.putArchiveEntry(entry(name + "/", 0755));
            tar.closeArchiveEntry();
        }
    }

    void file(String name, byte[] content) throws IOException {
        if (written.add(name)) {
            TarArchiveEntry e = entry(name, 0644);
            e.setSize(content.length);
            tar.putArchiveEntry(e);
            tar.write(content);
            tar.closeArchiveEntry();
        }
    }

    /**
     * Copies a blob under {@code name} (once), failing if it is not the descriptor's size. Its
     * digest is the source's to prove ({@link BlobSource#open}: the cache client hashes what it
     * hands out and fails at the end instead of reporting EOF); hashing it here again cost an
     * export as much CPU as the read itself.
     */
    void blob(String name, BlobSource blobs, Descriptor d) throws IOException {
        if (!written.add(name)) {
            return;
        }
        TarArchiveEntry e = entry(name, 0644);
        e.setSize(d.size());
        tar.putArchiveEntry(e);
        long total = 0;
        try (InputStream in = blobs.open(d.digest())) {
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) {
                total += n;
                if (total > d.size()) {
                    break;
                }
                tar.write(buf, 0, n);
            }
        }
        if (total != d.size()) {
            throw new IOException("blob " + d.digest() + " read back as " + (total > d.size() ? "more than " : "")
                    + total + " bytes, not the " + d.size() + " its descriptor says: the blob store is corrupt;"
                    + " the archive is unusable");
        }
        tar.closeArchiveEntry();
    }

    static String blobPath(Digest d) {
        return "blobs/sha256/" + d.encoded();
    }

    private static TarArchiveEntry entry(String name, int mode) {
        TarArchiveEntry e = new TarArchiveEntry(name);
        e.setMode(mode);
        e.setUserId(0);
        e.setGroupId(0);
        e.setUserName("");
        e.setGroupName("");
        e.setModTime(FileTime.from(Instant.EPOCH));
        return e;
    }

    @Override
    public void close() throws IOException {
        tar.finish();
        tar.flush();
    }
}
