package dev.stagefarm.worker.job;

import com.google.protobuf.ByteString;
import dev.stagefarm.cacheclient.CacheException;
import dev.stagefarm.common.Digest;
import dev.stagefarm.common.fs.FileTrees;
import dev.stagefarm.common.fs.RootFs;
import dev.stagefarm.proto.farm.BindMount;
import dev.stagefarm.proto.farm.CacheMount;
import dev.stagefarm.proto.farm.Job;
import dev.stagefarm.proto.farm.RunMount;
import dev.stagefarm.proto.farm.SecretMount;
import dev.stagefarm.proto.farm.SshMount;
import dev.stagefarm.proto.farm.StageSource;
import dev.stagefarm.worker.cachemount.SharedCacheMounts;
import dev.stagefarm.worker.exec.ProcessSpec.ExtraMount;
import dev.stagefarm.worker.snapshot.OverlaySnapshotter;
import dev.stagefarm.worker.snapshot.ReadOnlyView;
import io.grpc.Status;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.stream.Stream;

/**
 * Prepares a RUN's {@code --mount}s on this worker: tmpfs, binds of the context or of a stage,
 * caches that persist under the worker's root, secrets from the job, and heredoc scripts. What
 * it prepares lives outside the rootfs, so none of it can reach the step's layer.
 */
final class RunMounts {

    /** Secrets go to memory when the host has a tmpfs at /dev/shm, never to the worker's disk. */
    private static final Path SHM = Path.of("/dev/shm");

    private final Path cacheRoot;
    private final Path scratchRoot;
    private final ContextMaterializer contexts;
    private final StageChains chains;
    private final OverlaySnapshotter snapshots;
    private final LayerStore layers;
    private final Map<String, ReentrantLock> cacheLocks = new ConcurrentHashMap<>();
    /** Cache mounts shared by the farm through the cache-server; null: only on this worker. */
    private final SharedCacheMounts shared;

    private final SshAgentSocket.Connector agents;

    /**
     * @param cacheRoot where cache mounts persist
     * @param scratchRoot where a RUN's script files and copies for rw binds live while it runs
     */
    RunMounts(
            Path cacheRoot,
            Path scratchRoot,
            ContextMaterializer contexts,
            StageChains chains,
            OverlaySnapshotter snapshots,
            LayerStore layers) {
        this(cacheRoot, scratchRoot, contexts, chains, snapshots, layers, null);
    }

    /** @param shared cache mounts shared by the farm; null keeps them on this worker only */
    RunMounts(
            Path cacheRoot,
            Path scratchRoot,
            ContextMaterializer contexts,
            StageChains chains,
            OverlaySnapshotter snapshots,
            LayerStore layers,
            SharedCacheMounts shared) {
        this(cacheRoot, scratchRoot, contexts, chains, snapshots, layers, shared, NO_AGENTS);
    }

    /** A worker without a coordinator to relay through (tests): ssh mounts cannot be served. */
    private static final SshAgentSocket.Connector NO_AGENTS = answers -> {
        throw new IllegalStateException("this worker has no coordinator to reach ssh agents through");
    };

    /**
     * @param shared cache mounts shared by the farm; null keeps them on this worker only
     * @param agents opens a relay to the build client's ssh agent, for {@code RUN --mount=type=ssh}
     */
    RunMounts(
            Path cacheRoot,
            Path scratchRoot,
            ContextMaterializer contexts,
            StageChains chains,
            OverlaySnapshotter snapshots,
            LayerStore layers,
            SharedCacheMounts shared,
            SshAgentSocket.Connector agents) {
        this.shared = shared;
        this.agents = agents;
        this.cacheRoot = cacheRoot;
        this.scratchRoot = scratchRoot;
        this.contexts = contexts;
        this.chains = chains;
        this.snapshots = snapshots;
        this.layers = layers;
    }

    /** The mounts of one RUN and what to undo after it. Closing never throws. */
    static final class Prepared implements AutoCloseable {
        final List<ExtraMount> mounts = new ArrayList<>();
        /** KEY=value entries of env= secrets: never logged, never keyed. */
        final List<String> secretEnv = new ArrayList<>();

        private final List<AutoCloseable> undo = new ArrayList<>();
        private final Path scratchRoot;
        private Path scratch;
        private Path secrets;

        Prepared(Path scratchRoot) {
            this.scratchRoot = scratchRoot;
        }

        /** A private directory on the worker's disk for this RUN. */
        Path scratch() throws IOException {
            if (scratch == null) {
                scratch = privateDir(Files.createDirectories(scratchRoot));
            }
            return scratch;
        }

        /** A private directory in memory, for secrets: they never rest on a disk. */
        Path secrets() throws IOException {
            if (secrets == null) {
                if (!Files.isDirectory(SHM)
                        || !Files.isWritable(SHM)
                        || !Files.getFileStore(SHM).type().equals("tmpfs")) {
                    throw new IOException("/dev/shm is not a writable tmpfs: the worker keeps secrets and ssh"
                            + " sockets only in memory; mount a tmpfs on /dev/shm");
                }
                secrets = privateDir(SHM);
            }
            return secrets;
        }

        private Path privateDir(Path base) throws IOException {
            Path dir = Files.createTempDirectory(
                    base,
                    "sf-run-",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            undo.add(() -> FileTrees.deleteRecursively(dir));
            return dir;
        }

        @Override
        public void close() {
            for (AutoCloseable u : undo.reversed()) {
                try {
                    u.close();
                } catch (Exception e) {
                    // a leftover temp dir or mount must not mask the RUN's own outcome
                }
            }
        }
    }

    Prepared prepare(Job job, List<RunMount> specs, AtomicLong fetched) throws IOException, MountException {
        Prepared p = new Prepared(scratchRoot);
        try {
            for (RunMount m : specs) {
                switch (m.getKindCase()) {
                    case TMPFS -> {
                        List<String> opts = new ArrayList<>(List.of("nosuid", "nodev", "mode=1777"));
                        if (m.getTmpfs().getSizeBytes() > 0) {
                            opts.add("size=" + m.getTmpfs().getSizeBytes());
                        }
                        p.mounts.add(new ExtraMount(m.getTarget(), "tmpfs", "tmpfs", opts));
                    }
                    case FILE -> {
                        Path f = Files.createTempFile(p.scratch(), "file-", "");
                        Files.write(f, m.getFile().getContent().toByteArray());
                        Files.setAttribute(
                                f,
                                "unix:mode",
                                m.getFile().getMode() == 0 ? 0644 : m.getFile().getMode());
                        p.mounts.add(new ExtraMount(m.getTarget(), "bind", f.toString(), List.of("rbind", "ro")));
                    }
                    case CACHE -> {
                        Path dir = shared != null
                                ? sharedCache(job, m.getTarget(), m.getCache(), p)
                                : cache(job.getTeam(), m.getTarget(), m.getCache(), p);
                        if (m.getCache().hasSeed()) {
                            seed(job, m.getCache(), dir, p, fetched);
                        }
                    }
                    case SECRET -> secret(job, m.getTarget(), m.getSecret(), p);
                    case SSH -> ssh(job, m.getTarget(), m.getSsh(), p);
                    case BIND -> bind(job, m.getTarget(), m.getBind(), p, fetched);
                    case KIND_NOT_SET -> throw new MountException("empty mount for " + m.getTarget());
                }
            }
            return p;
        } catch (IOException | MountException | RuntimeException e) {
            p.close();
            throw e;
        }
    }

    /** A cache mount kept on this worker, one per team and id: a team never sees another's cache. */
    private Path cache(String team, String target, CacheMount c, Prepared p) throws IOException {
        // the empty team (a farm without tokens) keeps the directory it always had
        String owned = team.isEmpty() ? c.getId() : team + "\0" + c.getId();
        String name = Digest.of(owned.getBytes(StandardCharsets.UTF_8)).encoded();
        ReentrantLock lock = cacheLocks.computeIfAbsent(name, k -> new ReentrantLock());
        Path dir = cacheRoot.resolve(name);
        switch (c.getSharing()) {
            case "locked" -> {
                lock.lock(); // one RUN at a time on this worker uses the cache
                p.undo.add(lock::unlock);
            }
            case "private" -> {
                if (lock.tryLock()) {
                    p.undo.add(lock::unlock);
                } else {
                    // in use: this RUN gets a cache of its own, as BuildKit creates a new instance
                    dir = cacheRoot.resolve(name + "-" + Long.toHexString(System.nanoTime()));
                    Path own = dir;
                    p.undo.add(() -> FileTrees.deleteRecursively(own));
                }
            }
            default -> {} // shared: concurrent RUNs see one directory
        }
        synchronized (this) {
            if (!Files.isDirectory(dir)) {
                Files.createDirectories(cacheRoot);
                Path tmp = Files.createTempDirectory(cacheRoot, "new-");
                Files.setAttribute(tmp, "unix:uid", c.getUid());
                Files.setAttribute(tmp, "unix:gid", c.getGid());
                Files.setAttribute(tmp, "unix:mode", c.getMode() == 0 ? 0755 : c.getMode());
                try {
                    Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
                } catch (FileAlreadyExistsException | DirectoryNotEmptyException e) {
                    Files.deleteIfExists(tmp); // another worker in this root made it first: use theirs
                }
            }
        }
        p.mounts.add(new ExtraMount(target, "bind", dir.toString(), List.of("rbind", "rw")));
        return dir;
    }

    /**
     * BuildKit's {@code from=}/{@code source=} on a cache mount: a cache that is still empty
     * starts with those files (and publishes them, when shared, with the step's other changes).
     * A cache some step already filled keeps its content.
     */
    private void seed(Job job, CacheMount c, Path dir, Prepared p, AtomicLong fetched)
            throws IOException, MountException {
        synchronized (this) { // two steps starting on one empty cache seed it once
            try (Stream<Path> entries = Files.list(dir)) {
                if (entries.findAny().isPresent()) {
                    return;
                }
            }
            Path source = sourcePath(job, c.getSeed(), p, fetched);
            if (!Files.isDirectory(source)) {
                throw new MountException(
                        "cache " + c.getId() + ": from= source \"" + c.getSeed().getPath() + "\" is not a directory");
            }
            try (Stream<Path> walk = Files.walk(source)) {
                for (Path from : walk.skip(1).toList()) {
                    Files.copy(
                            from,
                            dir.resolve(source.relativize(from).toString()),
                            StandardCopyOption.COPY_ATTRIBUTES,
                            LinkOption.NOFOLLOW_LINKS);
                }
            }
        }
    }

    /** A cache mount the whole farm shares: published to the cache-server when the RUN ends. */
    private Path sharedCache(Job job, String target, CacheMount c, Prepared p) throws IOException, MountException {
        SharedCacheMounts.Session session;
        try {
            session = shared.open(
                    job.getTeam(),
                    c.getId(),
                    c.getSharing(),
                    new SharedCacheMounts.RootOptions(c.getUid(), c.getGid(), c.getMode()));
        } catch (CacheException e) {
            if (e.code() != Status.Code.UNIMPLEMENTED) {
                throw new MountException("cache " + c.getId() + ": " + e.getMessage());
            }
            // a cache-server from before shared mounts: keep the cache on this worker, as then
            return cache(job.getTeam(), target, c, p);
        } catch (IOException e) {
            throw new MountException("cache " + c.getId() + ": " + e.getMessage());
        }
        p.undo.add(session); // after the RUN: publish its changes, then end the use (and a lease)
        p.mounts.add(new ExtraMount(target, "bind", session.dir().toString(), List.of("rbind", "rw")));
        return session.dir();
    }

    private static void secret(Job job, String target, SecretMount s, Prepared p) throws IOException, MountException {
        ByteString value = job.getSecretsMap().get(s.getId());
        if (value == null) {
            if (s.getRequired()) {
                throw new MountException("secret " + s.getId() + " is required but was not given:"
                        + " pass it with --secret id=" + s.getId() + ",src=FILE (or env=VARIABLE)");
            }
            return; // BuildKit skips an optional secret that is not there
        }
        if (!s.getEnv().isEmpty()) {
            p.secretEnv.add(s.getEnv() + "=" + value.toStringUtf8());
        }
        if (!target.isEmpty()) {
            Path f = Files.createTempFile(p.secrets(), "secret-", "");
            Files.write(f, value.toByteArray());
            Files.setAttribute(f, "unix:uid", s.getUid());
            Files.setAttribute(f, "unix:gid", s.getGid());
            Files.setAttribute(f, "unix:mode", s.getMode() == 0 ? 0400 : s.getMode());
            p.mounts.add(
                    new ExtraMount(target, "bind", f.toString(), List.of("rbind", "ro", "nosuid", "nodev", "noexec")));
        }
    }

    private void ssh(Job job, String target, SshMount s, Prepared p) throws IOException, MountException {
        if (!job.getSshIdsList().contains(s.getId())) {
            if (s.getRequired()) {
                throw new MountException("ssh agent \"" + s.getId()
                        + "\" is required but the build does not forward it:" + " build with --ssh "
                        + (s.getId().equals("default") ? "default" : s.getId() + "=SOCKET_OR_KEY"));
            }
            return; // BuildKit leaves out an optional agent the client does not forward
        }
        Path socket = p.secrets().resolve("ssh-" + p.mounts.size() + ".sock");
        SshAgentSocket agent = SshAgentSocket.open(
                socket,
                s.getUid(),
                s.getGid(),
                s.getMode() == 0 ? 0600 : s.getMode(),
                agents,
                job.getAgentSessionId(),
                s.getId());
        p.undo.add(agent);
        p.mounts.add(
                new ExtraMount(target, "bind", socket.toString(), List.of("rbind", "rw", "nosuid", "nodev", "noexec")));
    }

    private void bind(Job job, String target, BindMount b, Prepared p, AtomicLong fetched)
            throws IOException, MountException {
        Path source = sourcePath(job, b, p, fetched);
        if (b.getReadWrite()) {
            // writes are allowed but thrown away: the RUN works on a copy
            Path copy = p.scratch().resolve("bind-" + p.mounts.size());
            copyTree(source, copy);
            source = copy;
        }
        p.mounts.add(
                new ExtraMount(target, "bind", source.toString(), List.of("rbind", b.getReadWrite() ? "rw" : "ro")));
    }

    /** Where {@code b}'s files are on this worker: a stage's snapshot or artifact, or the context. */
    private Path sourcePath(Job job, BindMount b, Prepared p, AtomicLong fetched) throws IOException, MountException {
        Path root;
        if (b.getSource().hasStage()) {
            StageSource source = b.getSource().getStage();
            Optional<List<String>> local = chains.get(job.getTeam(), source.getStageKey());
            if (local.isPresent() && local.get().stream().allMatch(snapshots::exists)) {
                ReadOnlyView view = snapshots.mountReadOnly(local.get());
                p.undo.add(view);
                root = view.path();
            } else if (source.hasArtifact()) {
                root = layers.artifactDir(source.getArtifact(), fetched);
            } else {
                throw new MountException("--mount from stage " + source.getStageIndex()
                        + ": the stage published no artifact for " + b.getPath() + " and did not run on this worker");
            }
        } else {
            root = contexts.materialize(Digest.parse(job.getContextDigest()), fetched);
        }
        // resolved by the kernel inside the source's root: a link to "/" there is that root's "/"
        try (RootFs fs = RootFs.open(root)) {
            return fs.hostPath(b.getPath());
        } catch (NoSuchFileException e) {
            throw new MountException("--mount source \"" + b.getPath() + "\" not found");
        }
    }

    private static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> walk = Files.walk(from)) {
            for (Path p : walk.toList()) {
                Path dest = to.resolve(from.relativize(p).toString());
                Files.copy(p, dest, StandardCopyOption.COPY_ATTRIBUTES, LinkOption.NOFOLLOW_LINKS);
            }
        }
    }

    /** A mount that cannot be prepared: the message says which and why. */
    static final class MountException extends Exception {
        MountException(String message) {
            super(message);
        }
    }
}
