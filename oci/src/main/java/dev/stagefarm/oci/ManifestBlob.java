package dev.stagefarm.oci;

import dev.stagefarm.common.Digest;
import java.util.Objects;

/**
 * A manifest as stored: its exact bytes (the digest is over them, so a re-serialized manifest is a
 * different image) together with the parsed form.
 */
public record ManifestBlob(byte[] bytes, ImageManifest manifest) {

    public ManifestBlob {
        Objects.requireNonNull(bytes, "bytes");
        Objects.requireNonNull(manifest, "manifest");
        bytes = bytes.clone();
    }

    public String mediaType() {
        return manifest.mediaType();
    }

    public Digest digest() {
        return Digest.of(bytes);
    }

    @Override
    public byte[] bytes() {
        return bytes.clone();
    }

    public Descriptor descriptor() {
        return new Descriptor(mediaType(), digest(), bytes.length);
    }
}
