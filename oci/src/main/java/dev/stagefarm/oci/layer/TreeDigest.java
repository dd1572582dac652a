package dev.stagefarm.oci.layer;

import dev.stagefarm.common.Digest;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Map;
import java.util.Set;

/**
 * The mtime-free digest of the entries a {@code COPY --from} takes, in the spirit of BuildKit's
 * {@code cache/contenthash}: per entry its path, type, permission bits (with setuid, setgid,
 * sticky), owner, xattrs, and the content digest of a file, the target of a link or the numbers
 * of a device; never a time. Entries come in the layer's fixed order, so equal trees give equal
 * digests. Parent directories that are in the artifact only to hold the selected paths are left
 * out: a COPY does not take them, so their metadata must not break a later stage's cache.
 */
final class TreeDigest {

    private final MessageDigest sha = Digest.newSha256();
    private final Set<String> counted;

    /** @param counted the entries a copy takes; any other entry written is not part of the digest */
    TreeDigest(Set<String> counted) {
        this.counted = counted;
    }

    boolean counts(String rel) {
        return counted.contains(rel);
    }

    /**
     * @param type the tar type flag
     * @param payload a file's content digest, a link's target, "major,minor" of a device, or empty
     */
    void entry(String rel, byte type, FileMeta meta, String payload, Map<String, byte[]> xattrs) {
        if (!counts(rel)) {
            return;
        }
        part(rel);
        part(Character.toString((char) type));
        part(Integer.toOctalString(meta.permissions()));
        part(Integer.toString(meta.uid()));
        part(Integer.toString(meta.gid()));
        part(payload);
        part(Integer.toString(xattrs.size()));
        // sorted by name (the writer's map is a TreeMap); values are bytes, hex keeps them unambiguous
        new java.util.TreeMap<>(xattrs).forEach((k, v) -> {
            part(k);
            part(HexFormat.of().formatHex(v));
        });
    }

    Digest digest() {
        return Digest.fromBytes(sha.digest());
    }

    /** Length-prefixed, so that no two different entry lists hash alike. */
    private void part(String s) {
        byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
        sha.update(ByteBuffer.allocate(Integer.BYTES).putInt(bytes.length).array());
        sha.update(bytes);
    }
}
