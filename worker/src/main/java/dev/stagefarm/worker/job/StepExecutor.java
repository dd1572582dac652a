package dev.stagefarm.worker.job;

import com.google.protobuf.ByteString;
import dev.stagefarm.common.Digest;
import dev.stagefarm.common.fs.FileHandle;
import dev.stagefarm.common.fs.FileTrees;
import dev.stagefarm.common.fs.RootFs;
import dev.stagefarm.common.fs.RootedPaths;
import dev.stagefarm.common.linux.FileStat;
import dev.stagefarm.proto.cache.Layer;
import dev.stagefarm.proto.farm.CopyOp;
import dev.stagefarm.proto.farm.ImageSource;
import dev.stagefarm.proto.farm.Job;
import dev.stagefarm.proto.farm.MkdirOp;
import dev.stagefarm.proto.farm.RunOp;
import dev.stagefarm.proto.farm.StageSource;
import dev.stagefarm.proto.farm.Step;
import dev.stagefarm.proto.farm.UrlSource;
import dev.stagefarm.worker.baseimage.LayerLimitException;
import dev.stagefarm.worker.cachemount.SharedCacheMounts;
import dev.stagefarm.worker.exec.ContainerUser;
import dev.stagefarm.worker.exec.ExecException;
import dev.stagefarm.worker.exec.ExecResult;
import dev.stagefarm.worker.exec.ProcessSpec;
import dev.stagefarm.worker.exec.RuncExecutor;
import dev.stagefarm.worker.exec.StepOutput;
import dev.stagefarm.worker.ops.CopyException;
import dev.stagefarm.worker.ops.CopyExecutor;
import dev.stagefarm.worker.ops.FileMode;
import dev.stagefarm.worker.ops.InputLimits;
import dev.stagefarm.worker.ops.Owner;
import dev.stagefarm.worker.ops.UrlFetcher;
import dev.stagefarm.worker.snapshot.OverlaySnapshotter;
import dev.stagefarm.worker.snapshot.ReadOnlyView;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;

/** Carries out one filesystem step (RUN, COPY/ADD, WORKDIR) on a stage's mounted root filesystem. */
public final class StepExecutor {

    private final RuncExecutor runc;
    private final CopyExecutor copier;
    private final ContextMaterializer contexts;
    private final StageChains chains;
    private final OverlaySnapshotter snapshots;
    private final LayerStore layers;
    private final RunMounts mounts;
    private final UrlFetcher urls;
    private final Path scratch;

    /**
     * @param workRoot where RUN --mount=type=cache directories persist ({@code cache-mounts/}), where
     *     a RUN keeps script files and rw bind copies ({@code run-scratch/}) and where COPY stages
     *     inline files, downloads and image sources ({@code copy-sources/})
     */
    StepExecutor(
            RuncExecutor runc,
            ContextMaterializer contexts,
            StageChains chains,
            OverlaySnapshotter snapshots,
            LayerStore layers,
            Path workRoot) {
        this(runc, contexts, chains, snapshots, layers, workRoot, null, null, InputLimits.DEFAULTS);
    }

    /**
     * @param sharedCaches RUN --mount=type=cache shared by the farm; null keeps caches on this worker
     * @param agents relays RUN --mount=type=ssh to the build client's agents; null where there is none (tests)
     * @param inputs what ADD may fetch and unpack (the worker's --max-fetch-size, --allow-fetch, ...)
     */
    StepExecutor(
            RuncExecutor runc,
            ContextMaterializer contexts,
            StageChains chains,
            OverlaySnapshotter snapshots,
            LayerStore layers,
            Path workRoot,
            SharedCacheMounts sharedCaches,
            SshAgentSocket.Connector agents,
            InputLimits inputs) {
        this.runc = runc;
        this.copier = new CopyExecutor(inputs);
        this.urls = new UrlFetcher(inputs);
        this.contexts = contexts;
        this.chains = chains;
        this.snapshots = snapshots;
        this.layers = layers;
        this.mounts = agents == null
                ? new RunMounts(
                        workRoot.resolve("cache-mounts"),
                        workRoot.resolve("run-scratch"),
                        contexts,
                        chains,
                        snapshots,
                        layers,
                        sharedCaches)
                : new RunMounts(
                        workRoot.resolve("cache-mounts"),
                        workRoot.resolve("run-scratch"),
                        contexts,
                        chains,
                        snapshots,
                        layers,
                        sharedCaches,
                        agents);
        this.scratch = workRoot.resolve("copy-sources");
    }

    /** Until the worker passes its root: caches and scratch next to the runc bundles' default place. */
    StepExecutor(
            RuncExecutor runc,
            ContextMaterializer contexts,
            StageChains chains,
            OverlaySnapshotter snapshots,
            LayerStore layers) {
        this(
                runc,
                contexts,
                chains,
                snapshots,
                layers,
                Path.of(System.getProperty("java.io.tmpdir"), "stagefarm-steps"));
    }

    void execute(Job job, Step step, Path rootfs, StepOutput output, AtomicLong fetched)
            throws StepFailedException, IOException {
        String where = job.getDockerfileName() + ":" + step.getLine() + ": ";
        switch (step.getOpCase()) {
            case RUN -> run(where, job, step.getRun(), rootfs, output, fetched);
            case COPY -> copy(where, job, step.getCopy(), rootfs, fetched);
            case MKDIR -> mkdir(where, step.getMkdir(), rootfs);
            case OP_NOT_SET -> throw new StepFailedException(where + "empty step from the coordinator");
        }
    }

    /** WORKDIR: creates the missing directories, owned by the stage's USER, as BuildKit does. */
    private static void mkdir(String where, MkdirOp op, Path rootfs) throws StepFailedException, IOException {
        try (RootFs fs = RootFs.open(rootfs)) {
            if (fs.stat(op.getPath()).map(FileStat::isDirectory).orElse(false)) {
                return;
            }
            Owner owner = Owner.ROOT;
            if (!op.getUser().isEmpty()) {
                try {
                    ContainerUser user = ContainerUser.resolve(rootfs, op.getUser());
                    owner = new Owner(user.uid(), user.gid());
                } catch (ExecException e) {
                    throw new StepFailedException(where + "WORKDIR " + op.getPath() + ": " + e.getMessage(), e);
                }
            }
            fs.createDirectories(op.getPath(), 0755, owner.uid(), owner.gid());
        } catch (NotDirectoryException e) {
            throw new StepFailedException(where + "WORKDIR " + op.getPath() + ": a file is in the way");
        }
    }

    private void run(String where, Job job, RunOp op, Path rootfs, StepOutput output, AtomicLong fetched)
            throws StepFailedException, IOException {
        try (RunMounts.Prepared prepared = mounts.prepare(job, op.getMountsList(), fetched)) {
            List<String> env = new ArrayList<>(op.getEnvList());
            env.addAll(prepared.secretEnv); // only the process sees them: not the op, the key or the log
            ProcessSpec spec = new ProcessSpec(
                    op.getArgsList(),
                    env,
                    op.getCwd(),
                    op.getUser(),
                    op.getNetwork().isEmpty() ? ProcessSpec.NETWORK_DEFAULT : op.getNetwork(),
                    prepared.mounts);
            runPrepared(where, op, rootfs, spec, output);
        } catch (RunMounts.MountException e) {
            throw new StepFailedException(where + "RUN --mount: " + e.getMessage(), e);
        }
    }

    private void runPrepared(String where, RunOp op, Path rootfs, ProcessSpec spec, StepOutput output)
            throws StepFailedException, IOException {
        ExecResult result;
        try {
            // the worker's --step-timeout: a hung build must not hold a worker forever
            result = runc.run(rootfs, spec, output, runc.limits().timeout());
        } catch (ExecException e) {
            throw new StepFailedException(where + "RUN: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StepFailedException(where + "RUN: cancelled", e);
        }
        if (!result.succeeded()) {
            StringBuilder msg = new StringBuilder(where)
                    .append("RUN ")
                    .append(String.join(" ", op.getArgsList()))
                    .append(": process did not complete successfully: exit code: ")
                    .append(result.exitCode());
            List<String> tail = result.outputTail();
            if (!tail.isEmpty()) {
                msg.append("\n--- last lines of output ---");
                tail.forEach(l -> msg.append("\n").append(l));
            }
            throw new StepFailedException(msg.toString());
        }
    }

    private void copy(String where, Job job, CopyOp op, Path rootfs, AtomicLong fetched)
            throws StepFailedException, IOException {
        Optional<Owner> owner = Optional.empty();
        Optional<FileMode> chmod = Optional.empty();
        try {
            if (!op.getChown().isEmpty()) {
                ContainerUser user = ContainerUser.resolve(rootfs, op.getChown());
                // "a UID without GID will use the same numeric UID as the GID" (Dockerfile reference)
                int gid = op.getChown().matches("\\d+") ? user.uid() : user.gid();
                owner = Optional.of(new Owner(user.uid(), gid));
            }
        } catch (ExecException e) {
            throw new StepFailedException(where + "--chown=" + op.getChown() + ": " + e.getMessage(), e);
        }
        if (!op.getChmod().isEmpty()) {
            try {
                chmod = Optional.of(FileMode.of(op.getMode(), op.getChmod()));
            } catch (CopyException e) {
                throw new StepFailedException(where + e.getMessage(), e);
            }
        }
        switch (op.getSource().getKindCase()) {
            case STAGE -> {
                copyFromStage(where, job.getTeam(), op, rootfs, owner, chmod, fetched);
                return;
            }
            case INLINE, URL, IMAGE -> {
                copyFromScratch(where, op, rootfs, owner, chmod, fetched);
                return;
            }
            default -> {}
        }
        // COPY from the build context (or a --build-context directory): the materialized context is
        // owned by root, so files arrive owned by root unless --chown says otherwise, while ADD keeps
        // a local archive's own owners
        String digest = op.getSource().hasNamedContext()
                ? op.getSource().getNamedContext().getContextDigest()
                : job.getContextDigest();
        Path context = contexts.materialize(Digest.parse(digest), fetched);
        doCopy(where, op, context, rootfs, owner, chmod);
    }

    /** Sources that exist only for this step (heredoc files, a download, an image) go through a scratch dir. */
    private void copyFromScratch(
            String where, CopyOp op, Path rootfs, Optional<Owner> owner, Optional<FileMode> chmod, AtomicLong fetched)
            throws StepFailedException, IOException {
        Files.createDirectories(scratch);
        Path dir = Files.createTempDirectory(scratch, "src-");
        try {
            CopyOp.Builder effective = op.toBuilder();
            switch (op.getSource().getKindCase()) {
                case INLINE -> writeInline(op.getSource().getInline().getFilesMap(), dir);
                case URL -> {
                    UrlSource url = op.getSource().getUrl();
                    String name = urls.fetch(
                            url.getUrl(),
                            url.getChecksum().isEmpty() ? Optional.empty() : Optional.of(url.getChecksum()),
                            dir);
                    // a downloaded archive is never extracted (BuildKit extracts only local ones)
                    effective.clearSources().addSources(name).setExtractArchives(false);
                }
                case IMAGE -> {
                    ImageSource image = op.getSource().getImage();
                    layers.checkDeclared(image.getRegistryRepository(), image.getLayersList());
                    for (Layer layer : image.getLayersList()) {
                        layers.unpackFlat(layer, dir, fetched);
                    }
                }
                default ->
                    throw new StepFailedException(
                            where + "unexpected COPY source " + op.getSource().getKindCase());
            }
            // files from anywhere but a stage arrive owned by root unless --chown says otherwise
            Optional<Owner> own = op.getSource().hasImage() ? owner : Optional.of(owner.orElse(Owner.ROOT));
            doCopy(where, effective.build(), dir, rootfs, own, chmod);
        } catch (CopyException | LayerLimitException e) {
            throw new StepFailedException(where + keyword(op) + ": " + e.getMessage(), e);
        } finally {
            FileTrees.deleteRecursively(dir);
        }
    }

    /**
     * Heredoc files ({@code COPY <<EOF}), each written by name in the scratch directory's descriptor:
     * a name the Dockerfile chose cannot lead the write anywhere else.
     */
    private static void writeInline(Map<String, ByteString> files, Path dir) throws IOException {
        try (RootFs fs = RootFs.open(dir)) {
            for (var file : files.entrySet()) {
                String path = RootedPaths.clean(file.getKey());
                int slash = path.lastIndexOf('/');
                try (FileHandle parent = fs.mkdirs(slash < 0 ? "" : path.substring(0, slash), 0755)) {
                    String name = path.substring(slash + 1);
                    try (OutputStream out = parent.newOutputStream(name, 0644)) {
                        file.getValue().writeTo(out);
                    }
                    parent.chmod(name, 0644); // the umask took bits
                }
            }
        }
    }

    /** Only ADD extracts archives or fetches URLs; both come from ADD. */
    private static String keyword(CopyOp op) {
        return op.getExtractArchives() || op.getSource().hasUrl() ? "ADD" : "COPY";
    }

    private void copyFromStage(
            String where,
            String team,
            CopyOp op,
            Path rootfs,
            Optional<Owner> owner,
            Optional<FileMode> chmod,
            AtomicLong fetched)
            throws StepFailedException, IOException {
        StageSource source = op.getSource().getStage();
        Optional<List<String>> local = chains.get(team, source.getStageKey());
        if (local.isPresent() && local.get().stream().allMatch(snapshots::exists)) {
            // the stage ran here: copy straight from its snapshots, nothing crosses the network
            try (ReadOnlyView view = snapshots.mountReadOnly(local.get())) {
                doCopy(where, op, view.path(), rootfs, owner, chmod);
            }
            return;
        }
        if (!source.hasArtifact()) {
            throw new StepFailedException(where + "COPY --from: stage " + source.getStageIndex()
                    + " published no artifact for these paths and did not run on this worker");
        }
        Path dir = layers.artifactDir(source.getArtifact(), fetched);
        doCopy(where, op, dir, rootfs, owner, chmod);
    }

    private void doCopy(
            String where, CopyOp op, Path sourceRoot, Path rootfs, Optional<Owner> owner, Optional<FileMode> chmod)
            throws StepFailedException, IOException {
        try {
            copier.copy(
                    new CopyExecutor.Request(
                            sourceRoot,
                            op.getSourcesList(),
                            op.getDest(),
                            op.getCwd(),
                            owner,
                            chmod,
                            op.getExtractArchives(),
                            op.getExcludesList(),
                            op.getParents()),
                    rootfs);
        } catch (CopyException e) {
            throw new StepFailedException(where + keyword(op) + ": " + e.getMessage(), e);
        }
    }
}
