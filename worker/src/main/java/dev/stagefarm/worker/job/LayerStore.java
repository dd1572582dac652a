package dev.stagefarm.worker.job;

import dev.stagefarm.cacheclient.CacheClient;
import dev.stagefarm.common.Digest;
import dev.stagefarm.common.auth.TeamChannel;
import dev.stagefarm.common.fs.FileTrees;
import dev.stagefarm.oci.Descriptor;
import dev.stagefarm.oci.ImageReference;
import dev.stagefarm.oci.MediaTypes;
import dev.stagefarm.oci.layer.LayerBlob;
import dev.stagefarm.oci.layer.LayerRecompressor;
import dev.stagefarm.oci.layer.LayerUnpacker;
import dev.stagefarm.oci.layer.LayerWriter;
import dev.stagefarm.oci.layer.UnpackMeter;
import dev.stagefarm.oci.registry.RegistryClient;
import dev.stagefarm.oci.registry.RegistryException;
import dev.stagefarm.proto.cache.ActionResult;
import dev.stagefarm.proto.cache.ArtifactResult;
import dev.stagefarm.proto.cache.Layer;
import dev.stagefarm.proto.cache.StepResult;
import dev.stagefarm.worker.baseimage.DeclaredSizes;
import dev.stagefarm.worker.baseimage.LayerLimitException;
import dev.stagefarm.worker.baseimage.LayerLimits;
import dev.stagefarm.worker.baseimage.UnpackBudget;
import dev.stagefarm.worker.disk.DiskBudget;
import dev.stagefarm.worker.disk.DiskUsage;
import dev.stagefarm.worker.snapshot.ActiveSnapshot;
import dev.stagefarm.worker.snapshot.OverlaySnapshotter;
import io.grpc.Context;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Layers and artifacts on this worker: where their blobs come from (the local store, the
 * cache-server, or the registry a base image lives in), how they become snapshots, and how a
 * committed snapshot becomes a published layer.
 */
public final class LayerStore {

    private static final Logger log = LoggerFactory.getLogger(LayerStore.class);
    /** Layer blobs fetched at once in the background, as Docker's and containerd's default of 3 downloads. */
    private static final int PARALLEL_FETCHES = 3;

    private final ContentStore blobs;
    private final CacheClient cache;
    /** The registry client of a team (by name): its own credentials over the worker's. */
    private final Function<String, RegistryClient> registries;

    private final OverlaySnapshotter snapshots;
    /** Layers and artifacts travel inside the farm as zstd-1: ~15x faster to make than gzip. */
    private final LayerWriter writer = new LayerWriter(LayerWriter.Options.zstd());
    /** Images that leave the farm get gzip, made once per layer and remembered in the cache. */
    private final LayerRecompressor toGzip = new LayerRecompressor(LayerWriter.Options.defaults());

    private final LayerUnpacker unpacker = new LayerUnpacker();
    private final Path artifacts;
    private final ConcurrentHashMap<String, Object> locks = new ConcurrentHashMap<>();
    private final ExecutorService fetches = Executors.newFixedThreadPool(
            PARALLEL_FETCHES,
            Thread.ofPlatform().name("layer-fetch-", 0).daemon().factory());

    /**
     * Room made before unpacking, per byte of a compressed layer or artifact: gzip and zstd
     * typically shrink a filesystem 2-4 times.
     */
    private static final int UNPACKED_PER_PACKED = 3;

    private final DiskBudget budget;
    private final TeamBlobs teams;
    /** How big a base image's layers may be, pulled and unpacked: a FROM image is a build author's input. */
    private final LayerLimits limits;

    private final DeclaredSizes declared;

    LayerStore(
            ContentStore blobs,
            CacheClient cache,
            RegistryClient registry,
            OverlaySnapshotter snapshots,
            Path artifacts)
            throws IOException {
        this(blobs, cache, registry, snapshots, artifacts, DiskBudget.unlimited());
    }

    LayerStore(
            ContentStore blobs,
            CacheClient cache,
            RegistryClient registry,
            OverlaySnapshotter snapshots,
            Path artifacts,
            DiskBudget budget)
            throws IOException {
        this(blobs, cache, team -> registry, snapshots, artifacts, budget, new TeamBlobs(cache), LayerLimits.DEFAULTS);
    }

    LayerStore(
            ContentStore blobs,
            CacheClient cache,
            Function<String, RegistryClient> registries,
            OverlaySnapshotter snapshots,
            Path artifacts,
            DiskBudget budget,
            TeamBlobs teams,
            LayerLimits limits)
            throws IOException {
        this.teams = teams;
        this.limits = limits;
        this.declared = new DeclaredSizes(limits);
        this.blobs = blobs;
        this.cache = cache;
        this.registries = registries;
        this.snapshots = snapshots;
        this.artifacts = Files.createDirectories(artifacts);
        this.budget = budget;
        budget.register(DiskBudget.Kind.ARTIFACT, name -> {
            Path gone = this.artifacts.resolve(name + ".evicted-" + System.nanoTime());
            Files.move(this.artifacts.resolve(name), gone, StandardCopyOption.ATOMIC_MOVE);
            return () -> FileTrees.deleteRecursively(gone);
        });
        try (java.util.stream.Stream<Path> dirs = Files.list(this.artifacts)) {
            for (Path dir : dirs.toList()) {
                if (dir.getFileName().toString().contains(".")) {
                    FileTrees.deleteRecursively(dir); // half unpacked or half evicted when a worker died
                } else {
                    budget.added(DiskBudget.Kind.ARTIFACT, dir.getFileName().toString(), DiskUsage.of(dir));
                }
            }
        }
    }

    /**
     * Layers are keyed by content, so the same layer in two images of a team is unpacked once,
     * and by team: a snapshot is found by the diffID an image config claims, which a build author
     * can forge, and a team's snapshots are only ever its own unpacks and steps. (The empty team of
     * a farm without tokens keeps the key it always had.)
     */
    static String snapshotKey(String team, Layer layer) {
        return (team.isEmpty() ? "" : "team:" + team + ":") + "layer:" + layer.getDiffId();
    }

    /** The layer's compressed blob on this worker, fetching it if needed (or the job's team may not use ours). */
    Path blob(Layer layer, AtomicLong fetched) throws IOException {
        if (fromImage(layer)) {
            declared.checkLayer(layer); // before a byte is downloaded
        }
        Digest digest = Digest.parse(layer.getDigest());
        Optional<Path> local = blobs.find(digest);
        if (local.isPresent() && teams.usable(digest)) {
            return local.get();
        }
        synchronized (locks.computeIfAbsent(layer.getDigest(), k -> new Object())) {
            local = blobs.find(digest);
            if (local.isPresent() && teams.usable(digest)) {
                return local.get();
            }
            blobs.reserve(layer.getSize());
            Path temp = blobs.tempFile("layer");
            if (!layer.getSourceRepository().isEmpty()
                    && cache.findMissing(List.of(digest)).contains(digest)) {
                try {
                    // the job's team's credentials: a private base image is pulled as that team, never as another
                    registries
                            .apply(TeamChannel.current())
                            .fetchBlob(
                                    ImageReference.parse(layer.getSourceRepository()),
                                    new Descriptor(layer.getMediaType(), digest, layer.getSize()),
                                    temp);
                } catch (RegistryException e) {
                    throw new IOException(
                            "pull layer " + digest + " from " + layer.getSourceRepository() + ": " + e.getMessage(), e);
                }
            } else {
                fetched.addAndGet(cache.download(digest, temp));
            }
            Path stored = blobs.commit(temp, digest);
            teams.allow(digest);
            return stored;
        }
    }

    /** A blob of the job's team's cache, here: ours when the team may use it, else fetched from its cache. */
    private Path cacheBlob(Digest digest, AtomicLong fetched) throws IOException {
        Optional<Path> local = blobs.find(digest);
        if (local.isPresent() && teams.usable(digest)) {
            return local.get();
        }
        Path temp = blobs.tempFile("blob");
        fetched.addAndGet(cache.download(digest, temp));
        Path stored = blobs.commit(temp, digest);
        teams.allow(digest);
        return stored;
    }

    /**
     * Starts fetching these layers' blobs in the background, {@link #PARALLEL_FETCHES} at a time,
     * so that unpacking one layer overlaps fetching the next: {@link #blob} then waits for a
     * fetch under way (same lock) or finds the blob here. The tasks run in the caller's gRPC
     * context, which carries the job's team to the cache-server. A fetch that fails is left to
     * the caller's own {@link #blob} call, which repeats it and reports the error; cancel the
     * returned futures when the blobs are no longer wanted (ones already fetching finish).
     */
    List<Future<?>> prefetch(List<Layer> layers, AtomicLong fetched) {
        return layers.stream()
                .<Future<?>>map(layer -> fetches.submit(Context.current().wrap(() -> {
                    try {
                        blob(layer, fetched);
                    } catch (IOException | RuntimeException e) {
                        log.debug(
                                "background fetch of layer {} failed; the unpack fetches it again: {}",
                                layer.getDigest(),
                                e.toString());
                    }
                })))
                .toList();
    }

    void unpackToSnapshot(Layer layer, String key, AtomicLong fetched) throws IOException {
        Path blob = blob(layer, fetched);
        synchronized (locks.computeIfAbsent(key, k -> new Object())) {
            if (snapshots.exists(key)) {
                return;
            }
            budget.makeRoom(layer.getSize() * UNPACKED_PER_PACKED);
            try (ActiveSnapshot active = snapshots.prepareDirect()) {
                LayerUnpacker.Result r = unpacker.unpack(
                        blob,
                        active.upper(),
                        LayerUnpacker.Mode.OVERLAY,
                        Digest.parse(layer.getDigest()),
                        meter(layer));
                if (!r.diffId().toString().equals(layer.getDiffId())) {
                    throw new IOException("layer " + layer.getDigest() + " unpacks to " + r.diffId()
                            + " but its image says " + layer.getDiffId() + ": refusing a corrupt or mislabelled layer");
                }
                active.commit(key);
            }
        }
    }

    /** Applies a layer onto a complete filesystem ({@code COPY --from=IMAGE}), within the base-image limits. */
    void unpackFlat(Layer layer, Path dir, AtomicLong fetched) throws IOException {
        Path blob = blob(layer, fetched);
        unpacker.unpack(blob, dir, LayerUnpacker.Mode.FLAT, Digest.parse(layer.getDigest()), meter(layer));
    }

    /**
     * Refuses at once an image whose manifest declares layers over the limits, before any is
     * fetched; layers the farm made itself (an earlier stage's steps) are not counted.
     */
    void checkDeclared(String image, List<Layer> layers) throws LayerLimitException {
        declared.checkImage(image, layers.stream().filter(LayerStore::fromImage).toList());
    }

    /** A layer of an image from a registry: a build author's input, unlike the layers steps wrote here. */
    private static boolean fromImage(Layer layer) {
        return !layer.getSourceRepository().isEmpty();
    }

    private UnpackMeter meter(Layer layer) {
        return fromImage(layer)
                ? new UnpackBudget(limits, layer.getDigest() + " of " + layer.getSourceRepository())
                : UnpackMeter.NONE;
    }

    /**
     * Turns a committed step snapshot into a layer in the cache; empty when the step changed
     * nothing. Directories overlayfs only copied up are left out (compared with {@code lower}, the
     * filesystem the step ran on); with a SOURCE_DATE_EPOCH, later mtimes are clamped to it.
     */
    Optional<Layer> publish(Path committedUpper, Path lower, Optional<Instant> sourceDateEpoch) throws IOException {
        Path temp = blobs.tempFile("new-layer");
        LayerWriter w = sourceDateEpoch
                .map(t -> new LayerWriter(LayerWriter.Options.zstd().withSourceDateEpoch(t)))
                .orElse(writer);
        LayerBlob blob = w.writeUpperDir(committedUpper, lower, temp);
        if (blob.empty()) {
            Files.deleteIfExists(temp);
            return Optional.empty();
        }
        Path stored = blobs.commit(temp, blob.digest());
        cache.upload(blob.digest(), blob.size(), stored);
        teams.allow(blob.digest());
        return Optional.of(Layer.newBuilder()
                .setDigest(blob.digest().toString())
                .setDiffId(blob.diffId().toString())
                .setSize(blob.size())
                .setMediaType(MediaTypes.OCI_LAYER_ZSTD)
                .build());
    }

    /** Packs exactly these paths (globs expanded) of a stage's filesystem as an artifact and publishes it. */
    ArtifactResult publishArtifact(Path root, List<String> paths) throws IOException, StepFailedException {
        List<String> selected = ArtifactPaths.select(root, paths);
        Path temp = blobs.tempFile("artifact");
        dev.stagefarm.oci.layer.ArtifactBlob artifact;
        try {
            artifact = writer.writeSelected(root, selected, temp);
        } catch (NoSuchFileException e) {
            Files.deleteIfExists(temp);
            throw new StepFailedException("COPY --from: " + e.getFile() + " does not exist in the stage's filesystem");
        }
        LayerBlob blob = artifact.blob();
        Path stored = blobs.commit(temp, blob.digest());
        cache.upload(blob.digest(), blob.size(), stored);
        teams.allow(blob.digest());
        return ArtifactResult.newBuilder()
                .setDigest(blob.digest().toString())
                .setSize(blob.size())
                .setContentDigest(artifact.content().toString())
                .build();
    }

    /**
     * An artifact unpacked on this worker, fetched from the cache once. Another team's unpack is
     * used only once the job's team showed it holds the artifact: in its cache, or by fetching it.
     */
    Path artifactDir(ArtifactResult artifact, AtomicLong fetched) throws IOException {
        Digest digest = Digest.parse(artifact.getDigest());
        Path dir = artifacts.resolve(digest.encoded());
        synchronized (locks.computeIfAbsent(artifact.getDigest(), k -> new Object())) {
            if (budget.use(DiskBudget.Kind.ARTIFACT, digest.encoded(), () -> Files.isDirectory(dir))) {
                if (!teams.usable(digest)) {
                    cacheBlob(digest, fetched); // fails, as on a worker without it, when the team's cache lacks it
                }
                return dir;
            }
            budget.makeRoom(artifact.getSize() * (1 + UNPACKED_PER_PACKED));
            Path blob = cacheBlob(digest, fetched);
            Path tmp = artifacts.resolve(digest.encoded() + ".tmp");
            FileTrees.deleteRecursively(tmp);
            Files.createDirectories(tmp);
            unpacker.unpack(blob, tmp, LayerUnpacker.Mode.FLAT, digest);
            Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
            budget.added(DiskBudget.Kind.ARTIFACT, digest.encoded(), DiskUsage.of(dir));
            return dir;
        }
    }

    /**
     * The gzip form of a layer, for an image that leaves the farm: layers pulled as gzip are
     * returned as they are; zstd layers are recompressed once and the result remembered in the
     * action cache under the layer's diffID, so every later image reuses the same gzip blob.
     */
    Layer gzipped(Layer layer) throws IOException {
        if (!layer.getMediaType().equals(MediaTypes.OCI_LAYER_ZSTD)) {
            return layer;
        }
        String key = "stagefarm-gzip-v1:" + layer.getDiffId();
        var known = cache.getAction(key);
        if (known.isPresent() && known.get().hasStep() && known.get().getStep().hasLayer()) {
            return known.get().getStep().getLayer();
        }
        Path zstd = blob(layer, new AtomicLong());
        Path temp = blobs.tempFile("gzip");
        LayerBlob gz = toGzip.recompress(zstd, temp);
        Path stored = blobs.commit(temp, gz.digest());
        cache.upload(gz.digest(), gz.size(), stored);
        Layer result = layer.toBuilder()
                .setDigest(gz.digest().toString())
                .setSize(gz.size())
                .setMediaType(MediaTypes.OCI_LAYER_GZIP)
                .build();
        cache.putAction(
                key,
                ActionResult.newBuilder()
                        .addBlobs(result.getDigest())
                        .setStep(StepResult.newBuilder().setLayer(result))
                        .build());
        return result;
    }

    /** Makes sure the cache holds every layer of an image, copying base layers in from their registry. */
    void ensureInCache(List<Layer> layers) throws IOException {
        List<Digest> digests =
                layers.stream().map(l -> Digest.parse(l.getDigest())).toList();
        var missing = cache.findMissing(digests);
        for (Layer l : layers) {
            Digest d = Digest.parse(l.getDigest());
            if (missing.contains(d)) {
                Path blob = blob(l, new AtomicLong());
                cache.upload(d, Files.size(blob), blob);
            }
        }
    }
}
