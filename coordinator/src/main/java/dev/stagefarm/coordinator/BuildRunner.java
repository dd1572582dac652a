package dev.stagefarm.coordinator;

import dev.stagefarm.cacheclient.BlobTooLargeException;
import dev.stagefarm.cacheclient.CacheClient;
import dev.stagefarm.cacheclient.Units;
import dev.stagefarm.common.Digest;
import dev.stagefarm.coordinator.builds.BuildBook;
import dev.stagefarm.coordinator.builds.BuildRecord;
import dev.stagefarm.coordinator.plan.BaseImageResolver;
import dev.stagefarm.coordinator.plan.ContextIndex;
import dev.stagefarm.coordinator.plan.NamedContexts;
import dev.stagefarm.coordinator.plan.OncePerBuildResolver;
import dev.stagefarm.coordinator.schedule.JobDispatcher;
import dev.stagefarm.coordinator.schedule.PendingStores;
import dev.stagefarm.coordinator.schedule.StageTimings;
import dev.stagefarm.dockerfile.Dockerfile;
import dev.stagefarm.dockerfile.DockerfileException;
import dev.stagefarm.dockerfile.DockerfileParser;
import dev.stagefarm.dockerfile.StageGraph;
import dev.stagefarm.proto.farm.BuildError;
import dev.stagefarm.proto.farm.BuildEvent;
import dev.stagefarm.proto.farm.BuildRequest;
import dev.stagefarm.proto.farm.ContextManifest;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Turns a build request into a {@link BuildRun}: parse, stage graph, context, global ARGs. */
final class BuildRunner {

    private static final Logger log = LoggerFactory.getLogger(BuildRunner.class);

    private final CacheClient cache;
    /** Resolves FROM images for a team: with that team's registry credentials, never another's. */
    private final java.util.function.Function<String, BaseImageResolver> bases;

    private final JobDispatcher dispatcher;
    /** Runs of stages under way, shared by every build: a build waits for another's run of its steps. */
    private final StageRuns runs = new StageRuns();
    /** How long each team's steps took, for every build's critical paths. */
    private final StageTimings timings;

    private final FarmMetrics metrics;
    private final BuildBook book;
    /**
     * The most of a context's manifest (its file list, ~130 bytes a file) the coordinator holds in
     * memory for one build: a client names it and chooses its size.
     */
    static final int MAX_CONTEXT_MANIFEST_BYTES = 64 << 20;

    private static final Set<String> SUPPORTED_PLATFORMS = Set.of("linux/amd64", "linux/x86_64");

    BuildRunner(
            CacheClient cache,
            java.util.function.Function<String, BaseImageResolver> bases,
            JobDispatcher dispatcher,
            StageTimings timings,
            FarmMetrics metrics,
            BuildBook book) {
        this.timings = timings;
        this.metrics = metrics;
        this.book = book;
        this.cache = cache;
        this.bases = bases;
        this.dispatcher = dispatcher;
    }

    /** Runs a build of {@code team}: its cache reads and its jobs stay in that team's namespace. */
    void run(BuildRequest request, String team, BuildEvents events) {
        var inProgress = metrics.buildsInProgress(team);
        inProgress.incrementAndGet();
        String buildId = UUID.randomUUID().toString().substring(0, 8);
        String fileName = request.getDockerfileName().isEmpty() ? "Dockerfile" : request.getDockerfileName();
        BuildRecord record = book.open(buildId, team, fileName, request.getTarget());
        events.record(record);
        try {
            runCounted(request, team, events, buildId, fileName, record);
        } finally {
            inProgress.decrementAndGet();
            record.endIfOpen();
        }
    }

    /**
     * The action cache as a build's planning reads it: a step whose job reported before storing it
     * (PendingStores) is looked up once it is stored, so a build right after finds it cached.
     */
    private StageLookups.ActionLookup lookups(CacheClient cache, String team) {
        return keys -> {
            try {
                dispatcher.pendingStores().awaitStored(team, keys, PendingStores.MAX_WAIT);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted while steps of an earlier build were being stored");
            }
            return cache.getActions(keys);
        };
    }

    private void runCounted(
            BuildRequest request,
            String team,
            BuildEvents events,
            String buildId,
            String fileName,
            BuildRecord record) {
        CacheClient cache = this.cache.forTeam(team);
        if (!request.getPlatform().isEmpty() && !SUPPORTED_PLATFORMS.contains(request.getPlatform())) {
            fail(
                    events,
                    "--platform " + request.getPlatform() + " is not supported: this farm builds linux/amd64 only");
            metrics.buildsFailed.increment();
            return;
        }
        try {
            Optional<String> target =
                    request.getTarget().isEmpty() ? Optional.empty() : Optional.of(request.getTarget());
            NamedContexts named = NamedContexts.of(
                    request.getNamedContextsList(),
                    digest -> ContextManifest.parseFrom(
                            cache.readBytes(Digest.parse(digest), MAX_CONTEXT_MANIFEST_BYTES)));
            Dockerfile df = named.replaceStages(DockerfileParser.parse(request.getDockerfile(), fileName), target);
            // the graph resolves FROM and --from with the build args, as the stages are built
            StageGraph graph = StageGraph.build(df, target, request.getBuildArgsMap());
            ContextManifest manifest = ContextManifest.parseFrom(
                    cache.readBytes(Digest.parse(request.getContextDigest()), MAX_CONTEXT_MANIFEST_BYTES));
            log.info(
                    "build {}: {} stages, {} to build",
                    buildId,
                    df.stages().size(),
                    graph.reachable().size());
            record.stagesPlanned(graph.reachable().size());
            new BuildRun(
                            buildId,
                            team,
                            request,
                            df,
                            graph,
                            new ContextIndex(manifest, named),
                            graph.globalArgs(),
                            lookups(cache, team),
                            new OncePerBuildResolver(
                                    named.resolver(bases.apply(team)),
                                    task -> Thread.ofVirtual()
                                            .name("resolve-" + buildId)
                                            .start(task)),
                            dispatcher,
                            runs,
                            new BuildTimings(timings, team, df),
                            events,
                            metrics)
                    .execute();
            return;
        } catch (DockerfileException e) {
            fail(events, e.getMessage());
        } catch (BlobTooLargeException e) {
            fail(
                    events,
                    "the build context's file list " + e.digest() + " is larger than "
                            + Units.formatSize(e.limit())
                            + " (about half a million files), more than a build may send: leave files out with a"
                            + " .dockerignore");
        } catch (IOException e) {
            fail(events, "could not read the build context from the cache-server: " + e.getMessage());
        }
        metrics.buildsFailed.increment();
    }

    private static void fail(BuildEvents events, String message) {
        events.send(BuildEvent.newBuilder()
                .setError(BuildError.newBuilder().setMessage(message))
                .build());
    }
}
