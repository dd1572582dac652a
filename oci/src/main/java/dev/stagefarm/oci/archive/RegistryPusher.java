package dev.stagefarm.oci.archive;

import dev.stagefarm.common.BlobSource;
import dev.stagefarm.common.Digest;
import dev.stagefarm.oci.Descriptor;
import dev.stagefarm.oci.ImageReference;
import dev.stagefarm.oci.ManifestBlob;
import dev.stagefarm.oci.registry.RegistryClient;
import dev.stagefarm.oci.registry.RegistryException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Pushes an image to a registry: every blob the manifest names (skipping those it has), then the manifest. */
public final class RegistryPusher {

    private final RegistryClient client;

    public RegistryPusher(RegistryClient client) {
        this.client = client;
    }

    /**
     * Pushes under each of {@code tags} (blobs go to each tag's repository once); returns the manifest digest.
     */
    public Digest push(BlobSource blobs, ManifestBlob manifest, List<ImageReference> tags) throws RegistryException {
        if (tags.isEmpty()) {
            throw new IllegalArgumentException("push needs at least one name");
        }
        Map<Digest, Descriptor> unique = new LinkedHashMap<>();
        unique.put(manifest.manifest().config().digest(), manifest.manifest().config());
        manifest.manifest().layers().forEach(l -> unique.putIfAbsent(l.digest(), l));
        List<String> donePerRepo = new ArrayList<>();
        Digest digest = null;
        for (ImageReference tag : tags) {
            String repo = tag.registry() + "/" + tag.repository();
            if (!donePerRepo.contains(repo)) {
                for (Descriptor d : unique.values()) { // layers are uploaded one at a time for now
                    client.pushBlob(tag, d.digest(), d.size(), blobs);
                }
                donePerRepo.add(repo);
            }
            digest = client.pushManifest(tag, manifest.mediaType(), manifest.bytes());
        }
        return digest;
    }
}
