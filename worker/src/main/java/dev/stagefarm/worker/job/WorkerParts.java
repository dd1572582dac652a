package dev.stagefarm.worker.job;

import dev.stagefarm.cacheclient.CacheClient;
import dev.stagefarm.oci.registry.TeamRegistries;
import dev.stagefarm.proto.farm.CoordinatorGrpc;
import dev.stagefarm.worker.baseimage.LayerLimits;
import dev.stagefarm.worker.cachemount.SharedCacheMounts;
import dev.stagefarm.worker.disk.DiskBudget;
import dev.stagefarm.worker.exec.RuncExecutor;
import dev.stagefarm.worker.ops.InputLimits;
import dev.stagefarm.worker.snapshot.OverlaySnapshotter;
import io.grpc.Channel;
import java.io.IOException;
import java.nio.file.Path;

/** Wires a worker's job machinery under its root directory. */
public final class WorkerParts {

    private WorkerParts() {}

    /**
     * @param coordinator the channel to the coordinator, through which ssh mounts reach the client's agents
     * @param disk the worker's --max-local-size: snapshots, blobs, artifacts and contexts count against it
     * @param inputs what ADD may fetch and unpack
     * @param baseImages how big a base image's layers may be, pulled and unpacked
     */
    public static JobRunner jobRunner(
            String name,
            Path root,
            OverlaySnapshotter snapshots,
            RuncExecutor runc,
            CacheClient cache,
            TeamRegistries registries,
            WorkerMetrics metrics,
            Channel coordinator,
            DiskBudget disk,
            InputLimits inputs,
            LayerLimits baseImages)
            throws IOException {
        snapshots.trackIn(disk);
        ContentStore blobs = new ContentStore(root.resolve("content"), disk);
        TeamBlobs teams = new TeamBlobs(cache);
        LayerStore layers = new LayerStore(
                blobs, cache, registries::forTeam, snapshots, root.resolve("artifacts"), disk, teams, baseImages);
        ContextMaterializer contexts = new ContextMaterializer(root.resolve("contexts"), cache, blobs, disk, teams);
        StageChains chains = new StageChains(root.resolve("stages"));
        SharedCacheMounts sharedCaches = new SharedCacheMounts(
                root.resolve("cache-mounts"), cache, metrics.mounts, SharedCacheMounts.MAX_FILE_BYTES);
        CoordinatorGrpc.CoordinatorStub relay = CoordinatorGrpc.newStub(coordinator);
        StepExecutor steps = new StepExecutor(
                runc, contexts, chains, snapshots, layers, root, sharedCaches, relay::connectAgent, inputs);
        return new JobRunner(
                name, snapshots, cache, layers, chains, steps, new ImageAssembler(cache, layers), metrics, disk);
    }
}
