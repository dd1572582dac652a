package dev.stagefarm.oci.testing;

import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;

/**
 * A tar written entry by entry, for tests that need layers no builder would write: a path through
 * a symlink, a file of zeros that gzips to a thousandth of its size.
 */
public final class HandWrittenTar implements Closeable {

    private final ByteArrayOutputStream memory;
    private final TarArchiveOutputStream tar;

    /** A tar kept in memory, read with {@link #toByteArray()}. */
    public HandWrittenTar() {
        this(new ByteArrayOutputStream());
    }

    /** A tar streamed into {@code out}, which {@link #close()} closes. */
    public HandWrittenTar(OutputStream out) {
        this.memory = out instanceof ByteArrayOutputStream bytes ? bytes : null;
        this.tar = new TarArchiveOutputStream(out);
    }

    public HandWrittenTar symlink(String name, String target) throws IOException {
        TarArchiveEntry e = new TarArchiveEntry(name, TarArchiveEntry.LF_SYMLINK);
        e.setLinkName(target);
        tar.putArchiveEntry(e);
        tar.closeArchiveEntry();
        return this;
    }

    public HandWrittenTar file(String name, String content) throws IOException {
        return file(name, content.getBytes(StandardCharsets.UTF_8));
    }

    public HandWrittenTar file(String name, byte[] data) throws IOException {
        put(name, data.length);
        tar.write(data);
        tar.closeArchiveEntry();
        return this;
    }

    /** A file of {@code size} zero bytes, written a chunk at a time: it need not fit in memory. */
    public HandWrittenTar zeros(String name, long size) throws IOException {
        put(name, size);
        byte[] chunk = new byte[1 << 16];
        for (long left = size; left > 0; left -= chunk.length) {
            tar.write(chunk, 0, (int) Math.min(chunk.length, left));
        }
        tar.closeArchiveEntry();
        return this;
    }

    /** Ends the tar and returns it; only for one kept in memory. */
    public byte[] toByteArray() throws IOException {
        if (memory == null) {
            throw new IllegalStateException("this tar was streamed, not kept in memory");
        }
        close();
        return memory.toByteArray();
    }

    @Override
    public void close() throws IOException {
        tar.close();
    }

    private void put(String name, long size) throws IOException {
        TarArchiveEntry e = new TarArchiveEntry(name);
        e.setMode(0100644);
        e.setSize(size);
        tar.putArchiveEntry(e);
    }
}
