package dev.stagefarm.coordinator.plan;

import dev.stagefarm.common.Digest;
import dev.stagefarm.proto.cache.ArtifactResult;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Collection;

/**
 * Builds content-based cache keys: a key hashes its parent key, the canonical instruction and
 * every input the step can see. Each part is length-prefixed so that no two different part
 * lists can hash alike ("ab","c" vs "a","bc").
 */
public final class CacheKey {

    /** Bump when the meaning of a key changes, so old cache entries are never misread. */
    private static final String VERSION = "stagefarm-key-v1";

    private final MessageDigest sha = Digest.newSha256();

    private CacheKey(String kind) {
        add(VERSION).add(kind);
    }

    public static CacheKey of(String kind) {
        return new CacheKey(kind);
    }

    public CacheKey add(String part) {
        byte[] bytes = (part == null ? "\0null" : part).getBytes(StandardCharsets.UTF_8);
        sha.update(ByteBuffer.allocate(Integer.BYTES).putInt(bytes.length).array());
        sha.update(bytes);
        return this;
    }

    public CacheKey add(Collection<String> parts) {
        add(Integer.toString(parts.size()));
        parts.forEach(this::add);
        return this;
    }

    public CacheKey add(boolean flag) {
        return add(flag ? "1" : "0");
    }

    /**
     * What a {@code COPY --from} or a {@code --mount from=} takes from an earlier stage: the
     * mtime-free digest of exactly the copied entries, so a rebuilt stage that yields the same
     * files leaves this key as it was (early cut-off). The blob digest only for an artifact made
     * by a worker that does not report content digests.
     */
    public CacheKey addCopiedFrom(ArtifactResult artifact) {
        if (!artifact.getContentDigest().isEmpty()) {
            return add("stage-content").add(artifact.getContentDigest());
        }
        return add("stage-artifact").add(artifact.getDigest());
    }

    public String build() {
        return Digest.fromBytes(sha.digest()).toString();
    }
}
