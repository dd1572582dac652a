package dev.stagefarm.worker.job;

import dev.stagefarm.cacheclient.CacheClient;
import dev.stagefarm.common.Digest;
import dev.stagefarm.proto.farm.CopyOp;
import dev.stagefarm.proto.farm.Job;
import dev.stagefarm.proto.farm.RunOp;
import dev.stagefarm.proto.farm.StageSource;
import dev.stagefarm.proto.farm.Step;
import dev.stagefarm.worker.exec.ContainerUser;
import dev.stagefarm.worker.exec.ExecException;
import dev.stagefarm.worker.exec.ExecResult;
import dev.stagefarm.worker.exec.ProcessSpec;
import dev.stagefarm.worker.exec.RuncExecutor;
import dev.stagefarm.worker.ops.CopyException;
import dev.stagefarm.worker.ops.CopyExecutor;
import dev.stagefarm.worker.ops.Owner;
import dev.stagefarm.worker.fs.RootPath;
import dev.stagefarm.worker.snapshot.OverlaySnapshotter;
import dev.stagefarm.worker.snapshot.ReadOnlyView;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/** Carries out one filesystem step (RUN, COPY/ADD, WORKDIR) on a stage's mounted root filesystem. */
public final class StepExecutor {

    /** A RUN that takes longer than this is killed: a hung build must not hold a worker forever. */
    private static final java.time.Duration RUN_TIMEOUT = java.time.Duration.ofHours(2);

    private final RuncExecutor runc;
    private final CopyExecutor copier = new CopyExecutor();
    private final ContextMaterializer contexts;
    private final StageChains chains;
    private final OverlaySnapshotter snapshots;
    private final LayerStore layers;

    StepExecutor(RuncExecutor runc, ContextMaterializer contexts, StageChains chains, OverlaySnapshotter snapshots,
                 LayerStore layers) {
        this.runc = runc;
        this.contexts = contexts;
        this.chains = chains;
        this.snapshots = snapshots;
        this.layers = layers;
    }

    void execute(Job job, Step step, Path rootfs, Consumer<String> output, AtomicLong fetched)
        throws StepFailedException, IOException {
        String where = job.getDockerfileName() + ":" + step.getLine() + ": ";
        switch (step.getOpCase()) {
            case RUN -> run(where, step, step.getRun(), rootfs, output);
            case COPY -> copy(where, job, step.getCopy(), rootfs, fetched);
            case MKDIR -> {
                Path dir = RootPath.resolve(rootfs, step.getMkdir().getPath());
                Files.createDirectories(dir);
            }
            case OP_NOT_SET -> throw new StepFailedException(where + "empty step from the coordinator");
        }
    }

    private void run(String where, Step step, RunOp op, Path rootfs, Consumer<String> output)
        throws StepFailedException, IOException {
        ProcessSpec spec = new ProcessSpec(op.getArgsList(), op.getEnvList(), op.getCwd(), op.getUser(),
            op.getNetwork().isEmpty() ? ProcessSpec.NETWORK_DEFAULT : op.getNetwork());
        ExecResult result;
        try {
            result = runc.run(rootfs, spec, output, RUN_TIMEOUT);
        } catch (ExecException e) {
            throw new StepFailedException(where + "RUN: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StepFailedException(where + "RUN: cancelled", e);
        }
        if (!result.succeeded()) {
            StringBuilder msg = new StringBuilder(where).append("RUN ").append(String.join(" ", op.getArgsList()))
                .append(": process did not complete successfully: exit code: ").append(result.exitCode());
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
        Optional<Integer> chmod = Optional.empty();
        try {
            if (!op.getChown().isEmpty()) {
                ContainerUser user = ContainerUser.resolve(rootfs, op.getChown());
                owner = Optional.of(new Owner(user.uid(), user.gid()));
            }
        } catch (ExecException e) {
            throw new StepFailedException(where + "--chown=" + op.getChown() + ": " + e.getMessage(), e);
        }
        if (!op.getChmod().isEmpty()) {
            if (!op.getChmod().matches("[0-7]{3,4}")) {
                throw new StepFailedException(where + "--chmod=" + op.getChmod()
                    + ": only octal modes such as 0755 are supported yet");
            }
            chmod = Optional.of(Integer.parseInt(op.getChmod(), 8));
        }
        if (op.getSource().hasStage()) {
            copyFromStage(where, op, rootfs, owner, chmod, fetched);
            return;
        }
        // COPY from the build context: files arrive owned by root unless --chown says otherwise
        Path context = contexts.materialize(Digest.parse(job.getContextDigest()), fetched);
        doCopy(where, op, context, rootfs, Optional.of(owner.orElse(Owner.ROOT)), chmod);
    }

    private void copyFromStage(String where, CopyOp op, Path rootfs, Optional<Owner> owner, Optional<Integer> chmod,
                               AtomicLong fetched) throws StepFailedException, IOException {
        StageSource source = op.getSource().getStage();
        Optional<List<String>> local = chains.get(source.getStageKey());
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

    private void doCopy(String where, CopyOp op, Path sourceRoot, Path rootfs, Optional<Owner> owner,
                        Optional<Integer> chmod) throws StepFailedException, IOException {
        try {
            copier.copy(new CopyExecutor.Request(sourceRoot, op.getSourcesList(), op.getDest(), op.getCwd(), owner,
                chmod, op.getExtractArchives()), rootfs);
        } catch (CopyException e) {
            throw new StepFailedException(where + (op.getExtractArchives() ? "ADD" : "COPY") + ": " + e.getMessage(), e);
        }
    }
}
