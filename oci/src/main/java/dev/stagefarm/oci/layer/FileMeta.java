package dev.stagefarm.oci.layer;

import dev.stagefarm.common.linux.FileStat;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.Map;

/** What a tar header keeps of a file's metadata, read from the "unix:*" attributes. */
record FileMeta(int mode, int uid, int gid, long size, FileTime mtime) {

    static FileMeta of(Map<String, Object> unixAttrs) {
        return new FileMeta(
                (Integer) unixAttrs.get("mode"),
                (Integer) unixAttrs.get("uid"),
                (Integer) unixAttrs.get("gid"),
                (Long) unixAttrs.get("size"),
                (FileTime) unixAttrs.get("lastModifiedTime"));
    }

    static FileMeta of(FileStat s) {
        return new FileMeta(
                s.mode(),
                s.uid(),
                s.gid(),
                s.size(),
                FileTime.from(Instant.ofEpochSecond(s.mtimeSeconds(), s.mtimeNanos())));
    }

    /** The permission bits including setuid, setgid and sticky. */
    int permissions() {
        return mode & 07777;
    }
}
