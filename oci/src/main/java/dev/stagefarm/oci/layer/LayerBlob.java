package dev.stagefarm.oci.layer;

import dev.stagefarm.common.Digest;
import java.nio.file.Path;

/**
 * A compressed layer on disk. {@code digest} and {@code size} describe the file's (compressed) bytes, as a
 * manifest's layer descriptor does; {@code diffId} is the digest of the uncompressed tar, as the image
 * config's rootfs lists it. {@code empty} when the tar holds no entries.
 */
public record LayerBlob(Path file, Digest digest, Digest diffId, long size, boolean empty) {}
