package dev.stagefarm.oci;

import dev.stagefarm.common.Digest;
import java.util.Collections;
import java.util.Map;
import java.util.Objects;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * A content descriptor: what a blob is, its digest and size. {@code platform} is set only on the
 * entries of an index; {@code annotations} is never null.
 */
public record Descriptor(
        String mediaType, Digest digest, long size, Map<String, String> annotations, Platform platform) {

    public Descriptor {
        Objects.requireNonNull(mediaType, "mediaType");
        Objects.requireNonNull(digest, "digest");
        if (size < 0) {
            throw new IllegalArgumentException("negative size " + size + " for " + digest);
        }
        annotations = annotations == null ? Map.of() : Collections.unmodifiableSortedMap(new TreeMap<>(annotations));
    }

    public Descriptor(String mediaType, Digest digest, long size) {
        this(mediaType, digest, size, Map.of(), null);
    }

    public Descriptor withAnnotations(Map<String, String> extra) {
        SortedMap<String, String> all = new TreeMap<>(annotations);
        all.putAll(extra);
        return new Descriptor(mediaType, digest, size, all, platform);
    }
}
