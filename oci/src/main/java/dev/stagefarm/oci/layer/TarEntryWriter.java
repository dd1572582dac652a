package dev.stagefarm.oci.layer;

import static dev.stagefarm.common.linux.LinuxFiles.S_IFBLK;
import static dev.stagefarm.common.linux.LinuxFiles.S_IFCHR;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Writes tar headers the same way every time: numeric owners, whole-second mtimes, sorted xattrs. */
final class TarEntryWriter {

    private static final Logger log = LoggerFactory.getLogger(TarEntryWriter.class);
    private final TarArchiveOutputStream tar;
    private final Instant clamp;
    /** When set, every entry is also added to this mtime-free digest. */
    private final TreeDigest tree;
    /** Content digests of the regular files written so far, for hard links to them. */
    private final Map<String, String> fileDigests = new HashMap<>();

    private long count;

    TarEntryWriter(TarArchiveOutputStream tar, Instant clamp) {
        this(tar, clamp, null);
    }

    TarEntryWriter(TarArchiveOutputStream tar, Instant clamp, TreeDigest tree) {
        this.tar = tar;
        this.clamp = clamp;
        this.tree = tree;
    }

    void directory(String rel, FileMeta m, Map<String, byte[]> xattrs) throws IOException {
        put(header(rel + "/", TarConstants.LF_DIR, m, xattrs));
        tar.closeArchiveEntry();
        digest(rel, TarConstants.LF_DIR, m, "", xattrs);
    }

    void regular(String rel, Path file, FileMeta m, Map<String, byte[]> xattrs) throws IOException {
        TarArchiveEntry e = header(rel, TarConstants.LF_NORMAL, m, xattrs);
        e.setSize(m.size());
        put(e);
        HashingOutputStream content = tree == null ? null : new HashingOutputStream(tar);
        try (InputStream in = Files.newInputStream(file)) {
            long copied = in.transferTo(content == null ? tar : content);
            if (copied != m.size()) {
                throw new IOException(file + " changed size while being archived (" + m.size() + " → " + copied
                        + "): nothing may write to a directory while it becomes a layer");
            }
        }
        tar.closeArchiveEntry();
        if (content != null) {
            String digest = content.digest().toString();
            fileDigests.put(rel, digest);
            digest(rel, TarConstants.LF_NORMAL, m, digest, xattrs);
        }
    }

    void hardlink(String rel, String target, FileMeta m) throws IOException {
        TarArchiveEntry e = header(rel, TarConstants.LF_LINK, m, Map.of());
        e.setLinkName(target);
        put(e);
        tar.closeArchiveEntry();
        // a copy sees a second file with the same bytes: counted as such, whichever name came first
        digest(rel, TarConstants.LF_NORMAL, m, fileDigests.getOrDefault(target, "link:" + target), Map.of());
    }

    void symlink(String rel, String target, FileMeta m, Map<String, byte[]> xattrs) throws IOException {
        TarArchiveEntry e = header(rel, TarConstants.LF_SYMLINK, m, xattrs);
        e.setLinkName(target);
        put(e);
        tar.closeArchiveEntry();
        digest(rel, TarConstants.LF_SYMLINK, m, target, xattrs);
    }

    void device(String rel, int type, int major, int minor, FileMeta m, Map<String, byte[]> xattrs) throws IOException {
        byte flag =
                type == S_IFCHR ? TarConstants.LF_CHR : type == S_IFBLK ? TarConstants.LF_BLK : TarConstants.LF_FIFO;
        TarArchiveEntry e = header(rel, flag, m, xattrs);
        e.setDevMajor(major);
        e.setDevMinor(minor);
        put(e);
        tar.closeArchiveEntry();
        digest(rel, flag, m, major + "," + minor, xattrs);
    }

    private void digest(String rel, byte type, FileMeta m, String payload, Map<String, byte[]> xattrs) {
        if (tree != null) {
            tree.entry(rel, type, m, payload, xattrs);
        }
    }

    /** An empty regular file standing for a whiteout or an opaque marker; owner and time of what it marks. */
    void marker(String rel, FileMeta m) throws IOException {
        TarArchiveEntry e = header(rel, TarConstants.LF_NORMAL, m, Map.of());
        e.setMode(0);
        put(e);
        tar.closeArchiveEntry();
    }

    private void put(TarArchiveEntry e) throws IOException {
        tar.putArchiveEntry(e);
        count++;
    }

    /** Entries written so far. */
    long count() {
        return count;
    }

    private TarArchiveEntry header(String name, byte flag, FileMeta m, Map<String, byte[]> xattrs) {
        TarArchiveEntry e = new TarArchiveEntry(name, flag);
        e.setMode(m.permissions());
        e.setUserId(m.uid());
        e.setGroupId(m.gid());
        e.setUserName("");
        e.setGroupName("");
        e.setModTime(FileTime.from(mtimeSeconds(m.mtime()), TimeUnit.SECONDS));
        e.setSize(0);
        xattrs.forEach((k, v) -> {
            String text = utf8(v);
            if (text == null) {
                // commons-compress writes PAX values as UTF-8 text; a binary value would be corrupted
                log.warn("not storing binary xattr {} of {} (not representable yet)", k, name);
            } else {
                e.addPaxHeader("SCHILY.xattr." + k, text);
            }
        });
        return e;
    }

    private long mtimeSeconds(FileTime t) {
        long s = t.toInstant().getEpochSecond();
        return clamp != null && s > clamp.getEpochSecond() ? clamp.getEpochSecond() : s;
    }

    private static String utf8(byte[] v) {
        try {
            return StandardCharsets.UTF_8
                    .newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(v))
                    .toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }
}
