package dev.stagefarm.oci.registry;

import dev.stagefarm.common.BlobSource;
import dev.stagefarm.common.Digest;
import dev.stagefarm.oci.Descriptor;
import dev.stagefarm.oci.ImageConfig;
import dev.stagefarm.oci.ImageIndex;
import dev.stagefarm.oci.ImageManifest;
import dev.stagefarm.oci.ImageReference;
import dev.stagefarm.oci.MediaTypes;
import dev.stagefarm.oci.Platform;
import dev.stagefarm.oci.json.ImageConfigJson;
import dev.stagefarm.oci.json.ManifestJson;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Distribution API v2 client: the facade over one small class per endpoint. Pulls try the registry's
 * mirrors in order, then the registry itself; pushes go to the registry only. Every byte read is
 * verified against its digest before it is returned or renamed into place.
 */
public final class RegistryClient implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(RegistryClient.class);

    private final RegistryConfig config;
    private final RegistryTransport transport;
    /** The HTTP client this built itself and closes; null when the caller passed one. */
    private final HttpClient owned;
    /** A farm resolves the same few bases build after build: their configs are read once. */
    private final ConfigCache configs = new ConfigCache(256);

    public RegistryClient(RegistryConfig config, CredentialStore credentials) {
        this(
                config,
                credentials,
                HttpClient.newBuilder()
                        .version(
                                HttpClient.Version
                                        .HTTP_1_1) // registries rarely speak h2c; avoid the upgrade dance on http
                        .followRedirects(
                                HttpClient.Redirect
                                        .NEVER) // RegistryTransport follows, dropping credentials across hosts
                        .connectTimeout(Duration.ofSeconds(10))
                        .build(),
                true);
    }

    /** Over {@code http}, which the caller keeps and closes. */
    public RegistryClient(RegistryConfig config, CredentialStore credentials, HttpClient http) {
        this(config, credentials, http, false);
    }

    private RegistryClient(RegistryConfig config, CredentialStore credentials, HttpClient http, boolean owns) {
        this.config = config;
        this.transport = new RegistryTransport(http, credentials);
        this.owned = owns ? http : null;
    }

    /**
     * Stops the HTTP client this built: its selector thread waits in a system call, and a JVM
     * asked to exit waits up to 300 ms for such threads before it does.
     */
    @Override
    public void close() {
        if (owned != null) {
            owned.shutdownNow();
            try {
                owned.awaitTermination(Duration.ofSeconds(5));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Finds the manifest of {@code ref} for {@code platform} and reads its config. */
    public ResolvedImage resolve(ImageReference ref, Platform platform) throws RegistryException {
        return onPullEndpoints("pull " + ref.toFamiliarString(), ref, base -> resolveAt(base, ref, platform));
    }

    /** Downloads a blob to {@code dest} (atomically, verified); an existing {@code dest} is replaced. */
    public void fetchBlob(ImageReference repo, Descriptor d, Path dest) throws RegistryException, IOException {
        IOException[] local = new IOException[1];
        onPullEndpoints("pull blob " + d.digest() + " of " + repo.toFamiliarString(), repo, base -> {
            try {
                BlobPuller.pullToFile(transport, base, repo.repository(), d, dest);
            } catch (IOException e) {
                local[0] = e;
            }
            return null;
        });
        if (local[0] != null) {
            throw local[0];
        }
    }

    public boolean blobExists(ImageReference repo, Digest digest) throws RegistryException {
        URI base = config.registryEndpoint(repo.registry());
        try {
            return BlobChecker.exists(transport, base, repo.repository(), digest, false);
        } catch (RegistryException e) {
            throw e.during("check blob " + digest + " in " + repo.toFamiliarString());
        }
    }

    /** Uploads a blob unless the repository already holds it. */
    public void pushBlob(ImageReference repo, Digest digest, long size, BlobSource source) throws RegistryException {
        URI base = config.registryEndpoint(repo.registry());
        try {
            if (BlobChecker.exists(transport, base, repo.repository(), digest, true)) {
                return;
            }
            BlobPusher.push(transport, base, repo.repository(), digest, size, source);
        } catch (RegistryException e) {
            throw e.during("push blob " + digest + " to " + repo.toFamiliarString());
        }
    }

    /** Stores a manifest under the reference's tag (or its digest when it has no tag); returns its digest. */
    public Digest pushManifest(ImageReference ref, String mediaType, byte[] manifest) throws RegistryException {
        URI base = config.registryEndpoint(ref.registry());
        String reference = ref.tag() != null ? ref.tag() : ref.digest().toString();
        try {
            return ManifestPusher.push(transport, base, ref.repository(), reference, mediaType, manifest);
        } catch (RegistryException e) {
            throw e.during("push " + ref.toFamiliarString());
        }
    }

    private ResolvedImage resolveAt(URI base, ImageReference ref, Platform platform) throws RegistryException {
        String repo = ref.repository();
        ManifestPuller.Pulled top = ManifestPuller.pull(transport, base, repo, ref.manifestReference(), ref.digest());
        ManifestPuller.Pulled chosen = top;
        try {
            if (MediaTypes.isIndex(top.mediaType())) {
                ImageIndex index = ManifestJson.parseIndex(top.bytes(), top.mediaType());
                Descriptor d = index.manifestFor(platform)
                        .orElseThrow(() -> new RegistryException(
                                "image " + ref.toFamiliarString() + " has no manifest for " + platform + " (it has: "
                                        + index.manifests().stream()
                                                .map(m -> String.valueOf(m.platform()))
                                                .toList()
                                        + "): pick another --platform or image"));
                chosen = ManifestPuller.pull(transport, base, repo, d.digest().toString(), d.digest());
            }
            if (!MediaTypes.isManifest(chosen.mediaType())) {
                throw new RegistryException("registry " + base + " sent a " + chosen.mediaType() + " for "
                        + ref.toFamiliarString() + ", which is not an image");
            }
            ImageManifest manifest = ManifestJson.parseManifest(chosen.bytes(), chosen.mediaType());
            Digest configDigest = manifest.config().digest();
            byte[] configBytes = configs.get(base, repo, configDigest).orElse(null);
            if (configBytes == null) {
                configBytes = BlobPuller.pullSmall(transport, base, repo, manifest.config());
                configs.put(base, repo, configDigest, configBytes);
            }
            ImageConfig imageConfig = ImageConfigJson.parse(configBytes);
            if (!platform.accepts(imageConfig.platform())) {
                log.warn(
                        "{} is built for {}, not the requested {}; using it anyway, as Docker does",
                        ref.toFamiliarString(),
                        imageConfig.platform(),
                        platform);
            }
            return new ResolvedImage(
                    ref.withDigest(chosen.digest()),
                    chosen.digest(),
                    chosen.mediaType(),
                    chosen.bytes(),
                    manifest,
                    configBytes,
                    imageConfig);
        } catch (IOException e) {
            throw new RegistryException(
                    "registry " + base + " sent an unusable manifest or config for " + ref.toFamiliarString() + ": "
                            + e.getMessage(),
                    e);
        }
    }

    @FunctionalInterface
    private interface AtEndpoint<T> {
        T run(URI base) throws RegistryException;
    }

    /** Runs {@code op} on each pull endpoint until one succeeds; else one exception telling every answer. */
    private <T> T onPullEndpoints(String action, ImageReference ref, AtEndpoint<T> op) throws RegistryException {
        List<RegistryException> failures = new ArrayList<>();
        for (URI base : config.pullEndpoints(ref.registry())) {
            try {
                return op.run(base);
            } catch (RegistryException e) {
                log.debug("{} at {} failed: {}", action, base, e.getMessage());
                failures.add(e);
            }
        }
        RegistryException first = failures.getFirst();
        StringBuilder more = new StringBuilder();
        for (RegistryException e : failures.subList(1, failures.size())) {
            more.append("; then ").append(e.getMessage());
        }
        RegistryException combined = new RegistryException(
                action + ": " + first.getMessage() + more, first.httpStatus(), first.errorCode(), first);
        failures.subList(1, failures.size()).forEach(combined::addSuppressed);
        throw combined;
    }
}
