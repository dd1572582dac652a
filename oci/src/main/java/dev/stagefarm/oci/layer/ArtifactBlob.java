package dev.stagefarm.oci.layer;

import dev.stagefarm.common.Digest;

/**
 * The layer holding the paths a later stage copies, and the mtime-free digest of exactly what a copy
 * takes from it ({@link TreeDigest}): the blob moves the bytes, {@code content} keys the consumers.
 */
public record ArtifactBlob(LayerBlob blob, Digest content) {}
