package dev.stagefarm.oci.registry;

import dev.stagefarm.common.Digest;
import dev.stagefarm.oci.ImageConfig;
import dev.stagefarm.oci.ImageManifest;
import dev.stagefarm.oci.ImageReference;
import dev.stagefarm.oci.ManifestBlob;

/**
 * An image resolved for one platform: {@code ref} pinned to the platform's manifest digest, the manifest's
 * exact bytes and parsed form, the config's exact bytes and parsed form. All bytes are verified.
 */
public record ResolvedImage(
        ImageReference ref,
        Digest manifestDigest,
        String manifestMediaType,
        byte[] manifestBytes,
        ImageManifest manifest,
        byte[] configBytes,
        ImageConfig config) {

    public ManifestBlob manifestBlob() {
        return new ManifestBlob(manifestBytes, manifest);
    }
}
