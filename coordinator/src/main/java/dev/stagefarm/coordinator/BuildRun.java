package dev.stagefarm.coordinator;

import com.google.protobuf.ByteString;
import dev.stagefarm.common.Digest;
import dev.stagefarm.coordinator.plan.BaseImageResolver;
import dev.stagefarm.coordinator.plan.CacheKey;
import dev.stagefarm.coordinator.plan.ContextIndex;
import dev.stagefarm.coordinator.plan.ImageConfigEditor;
import dev.stagefarm.coordinator.plan.ImageSources;
import dev.stagefarm.coordinator.plan.OncePerBuildResolver;
import dev.stagefarm.coordinator.plan.StageBase;
import dev.stagefarm.coordinator.plan.StagePlan;
import dev.stagefarm.coordinator.plan.StagePlanner;
import dev.stagefarm.coordinator.schedule.JobDispatcher;
import dev.stagefarm.coordinator.schedule.JobInputs;
import dev.stagefarm.coordinator.schedule.JobTicket;
import dev.stagefarm.coordinator.schedule.StageTimings;
import dev.stagefarm.coordinator.schedule.WorkKeys;
import dev.stagefarm.dockerfile.Dockerfile;
import dev.stagefarm.dockerfile.DockerfileException;
import dev.stagefarm.dockerfile.InvalidValueException;
import dev.stagefarm.dockerfile.ShellWords;
import dev.stagefarm.dockerfile.Stage;
import dev.stagefarm.dockerfile.StageGraph;
import dev.stagefarm.proto.cache.ActionResult;
import dev.stagefarm.proto.cache.ArtifactResult;
import dev.stagefarm.proto.cache.ImageResult;
import dev.stagefarm.proto.cache.Layer;
import dev.stagefarm.proto.farm.ArtifactRequest;
import dev.stagefarm.proto.farm.BaseImage;
import dev.stagefarm.proto.farm.BuildError;
import dev.stagefarm.proto.farm.BuildEvent;
import dev.stagefarm.proto.farm.BuildRequest;
import dev.stagefarm.proto.farm.BuildResult;
import dev.stagefarm.proto.farm.History;
import dev.stagefarm.proto.farm.ImageSource;
import dev.stagefarm.proto.farm.ImageSpec;
import dev.stagefarm.proto.farm.Job;
import dev.stagefarm.proto.farm.JobResult;
import dev.stagefarm.proto.farm.StageReport;
import dev.stagefarm.proto.farm.StageSource;
import dev.stagefarm.proto.farm.Step;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One build: stages run as soon as the stages they depend on are done, each planned when its
 * inputs are known, answered from the cache when every result is there, dispatched otherwise.
 */
final class BuildRun {

    private static final Logger log = LoggerFactory.getLogger(BuildRun.class);

    /** Other builds' runs of a stage's steps it waits for before it runs them itself (each ends by then). */
    private static final int OTHER_RUN_WAITS = 3;

    private final String buildId;
    /** The submitter's team: every job of this build carries it to its worker. */
    private final String team;

    private final BuildRequest request;
    private final Dockerfile dockerfile;
    private final StageGraph graph;
    private final ContextIndex context;
    private final Map<String, String> globals;
    private final StageLookups cache;
    private final OncePerBuildResolver bases;
    private final JobDispatcher dispatcher;
    private final StageRuns runs;
    private final BuildEvents events;
    private final FarmMetrics metrics;
    private final Map<Integer, CompletableFuture<StageOutcome>> outcomes = new ConcurrentHashMap<>();
    /** The build's jobs handed to the dispatcher; guards {@link #cancelled} too. */
    private final List<String> jobs = new ArrayList<>();
    /** Completes when the build is cancelled: a stage waiting for another build's run stops waiting. */
    private final CompletableFuture<Void> whenCancelled = new CompletableFuture<>();
    /** Why the build ends early, once it does: no job is dispatched after. */
    private String cancelled;
    /** When the build was submitted: the queue serves a team's earlier builds first. */
    private final Instant submitted = Instant.now();
    /** Per stage, the longest chain of work left to the target (ms): the queue runs long chains first. */
    private final Map<Integer, Long> criticalPath;
    /** Where the steps this build runs record how long they took. */
    private final BuildTimings timings;

    BuildRun(
            String buildId,
            String team,
            BuildRequest request,
            Dockerfile dockerfile,
            StageGraph graph,
            ContextIndex context,
            Map<String, String> globals,
            StageLookups.ActionLookup cache,
            OncePerBuildResolver bases,
            JobDispatcher dispatcher,
            StageRuns runs,
            BuildTimings timings,
            BuildEvents events,
            FarmMetrics metrics) {
        this.metrics = metrics;
        this.buildId = buildId;
        this.team = team;
        this.request = request;
        this.dockerfile = dockerfile;
        this.graph = graph;
        this.context = context;
        this.globals = globals;
        this.cache = new StageLookups(cache);
        this.bases = bases;
        this.dispatcher = dispatcher;
        this.runs = runs;
        this.events = events;
        this.timings = timings;
        this.criticalPath = timings.criticalPaths(graph);
    }

    /**
     * Runs every stage the target needs; the last event says how it ended. The first stage that
     * fails ends the build at once: its error goes out and the other stages' jobs are cancelled.
     */
    void execute() {
        List<Integer> order = graph.reachable();
        int target = order.getLast();
        CompletableFuture<StageOutcome> firstFailure = new CompletableFuture<>();
        events.onCancel(this::cancel); // its client went away, or `builds cancel`
        try (ExecutorService stages = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int index : order) {
                CompletableFuture<StageOutcome> stage =
                        CompletableFuture.supplyAsync(() -> runStage(index, index == target), stages);
                stage.whenComplete((done, failed) -> {
                    if (failed != null) {
                        firstFailure.completeExceptionally(failed);
                    }
                });
                outcomes.put(index, stage);
            }
            try {
                CompletableFuture.anyOf(outcomes.get(target), firstFailure).join();
                StageOutcome last = outcomes.get(target).join();
                var result = BuildResult.newBuilder();
                last.image().ifPresent(result::setImage);
                for (int index : order) {
                    result.addStages(outcomes.get(index).join().report());
                }
                events.send(BuildEvent.newBuilder().setResult(result).build());
                metrics.buildsSucceeded.increment();
            } catch (CompletionException e) {
                Throwable cause = e.getCause() instanceof StageFailed f ? f : e.getCause();
                String message = cause.getMessage() == null ? cause.toString() : cause.getMessage();
                cancel("build failed: " + message);
                metrics.buildsFailed.increment();
                events.send(BuildEvent.newBuilder()
                        .setError(BuildError.newBuilder().setMessage(message))
                        .build());
            }
        }
    }

    /** Ends the build's queued and running jobs; stages not yet dispatched are not. */
    void cancel(String why) {
        List<String> ids;
        synchronized (jobs) {
            if (cancelled != null) {
                return;
            }
            cancelled = why;
            ids = List.copyOf(jobs);
        }
        whenCancelled.complete(null);
        dispatcher.cancel(ids, why);
    }

    /** A stage that cannot finish; its message is what the user reads. */
    static final class StageFailed extends RuntimeException {
        StageFailed(String message) {
            super(message, null, false, false);
        }
    }

    private StageOutcome runStage(int index, boolean isTarget) {
        Stage stage = dockerfile.stages().get(index);
        // the registry answers while the inputs run: a wide graph's last stage finds its base resolved
        baseImageName(stage).ifPresent(bases::prefetch);
        for (int dep : graph.dependencies(index)) {
            outcomes.get(dep).join(); // a failed dependency fails this stage with its own message
        }
        Instant started = Instant.now();
        try {
            StageBase base = base(stage);
            StagePlan plan = new StagePlanner(new Inputs(index)).plan(stage, base);
            Optional<Integer> refused = Entitlements.refusedHostStep(request, plan.steps(), dispatcher.pool());
            if (refused.isPresent()) {
                throw new StageFailed(dockerfile.fileName() + ":" + refused.get() + ": " + Entitlements.HOST_REFUSED);
            }
            List<ArtifactRequest> exports = exports(index, plan.stageKey());
            Optional<ImageSpec> image =
                    isTarget && request.getWantImage() ? Optional.of(imageSpec(plan)) : Optional.empty();
            for (int waits = 0; ; waits++) {
                StageLookups.Answers found = noCache(stage)
                        ? StageLookups.Answers.NONE
                        : cache.lookUp(StageLookups.keysOf(plan, exports, image));
                Optional<StageOutcome> cached = fromCache(index, stage, plan, exports, image, started, found);
                if (cached.isPresent()) {
                    metrics.stagesCached.increment();
                    events.stageFinished(cached.get().report());
                    return cached.get();
                }
                boolean mayWait = waits < OTHER_RUN_WAITS && !noCache(stage);
                Optional<StageOutcome> ran = dispatch(index, stage, plan, exports, image, started, found, mayWait);
                if (ran.isPresent()) {
                    events.stageFinished(ran.get().report());
                    metrics.stageDuration.record(Duration.between(started, Instant.now()));
                    return ran.get();
                }
            }
        } catch (DockerfileException e) {
            throw new StageFailed(e.getMessage());
        } catch (BaseImageResolver.BaseImageException e) {
            throw new StageFailed(dockerfile.fileName() + ":" + stage.line() + ": FROM: " + e.getMessage());
        } catch (IOException e) {
            throw new StageFailed("stage " + stage.displayName() + ": cache-server unreachable: " + e.getMessage());
        }
    }

    private StageBase base(Stage stage) throws DockerfileException, BaseImageResolver.BaseImageException {
        Optional<Integer> baseStage = graph.baseStage(stage.index());
        if (baseStage.isPresent()) {
            StageOutcome from = outcomes.get(baseStage.get()).join();
            return new StageBase(
                    from.stageKey(),
                    BaseImage.newBuilder()
                            .addAllLayers(from.layers())
                            .setStageKey(from.stageKey())
                            .build(),
                    from.config(),
                    from.history(),
                    "stage " + dockerfile.stages().get(baseStage.get()).displayName(),
                    baseStage.get(),
                    Optional.of(from.args()));
        }
        String image = expandedBaseImage(stage);
        if (image.isEmpty()) {
            throw new DockerfileException(
                    dockerfile.fileName(),
                    stage.line(),
                    Optional.of("FROM"),
                    "base name (" + stage.baseImage() + ") should not be blank");
        }
        if (image.equals("scratch")) {
            return new StageBase(
                    CacheKey.of("scratch").build(),
                    BaseImage.getDefaultInstance(),
                    ImageConfigEditor.scratch(),
                    List.of(),
                    "scratch",
                    -1);
        }
        return bases.resolve(image);
    }

    private String expandedBaseImage(Stage stage) throws DockerfileException {
        try {
            return ShellWords.expand(stage.baseImage(), StagePlanner.globalLookup(globals), dockerfile.escape());
        } catch (InvalidValueException e) {
            throw new DockerfileException(dockerfile.fileName(), stage.line(), Optional.of("FROM"), e.getMessage());
        }
    }

    /** The registry image a stage starts from, if it starts from one; errors are left to {@link #base}. */
    private Optional<String> baseImageName(Stage stage) {
        if (graph.baseStage(stage.index()).isPresent()) {
            return Optional.empty();
        }
        try {
            String image = expandedBaseImage(stage);
            return image.isEmpty() || image.equals("scratch") ? Optional.empty() : Optional.of(image);
        } catch (DockerfileException e) {
            return Optional.empty();
        }
    }

    /**
     * One artifact per consuming COPY: exactly the paths it takes from this stage, expanded in the
     * consuming stage's scope, as its planner will ask for them ({@link Inputs#stageSource}).
     */
    private List<ArtifactRequest> exports(int index, String stageKey) {
        Map<String, ArtifactRequest> out = new LinkedHashMap<>();
        for (List<String> paths : graph.copySourcesFrom(index)) {
            out.putIfAbsent(
                    artifactId(paths),
                    ArtifactRequest.newBuilder()
                            .addAllPaths(paths)
                            // v2: an artifact holds the targets of symlinks named as sources too;
                            // v3: it carries its content digest, which later keys use
                            .setKey(CacheKey.of("artifact-v3")
                                    .add(stageKey)
                                    .add(paths)
                                    .build())
                            .build());
        }
        return List.copyOf(out.values());
    }

    static String artifactId(List<String> paths) {
        return String.join("\n", paths);
    }

    private ImageSpec imageSpec(StagePlan plan) {
        // --label K=V lands on the result image only, as with buildx
        ImageConfigEditor labelled = plan.config().copy();
        new TreeMap<>(request.getLabelsMap()).forEach(labelled::putLabel);
        byte[] config = labelled.toJsonWithoutLayers();
        CacheKey key = CacheKey.of("image")
                .add("oci-manifest")
                .add(plan.stageKey())
                .add(Digest.of(config).toString());
        for (History h : plan.history()) {
            key.add(h.getCreatedBy()).add(h.getEmptyLayer()).add(Integer.toString(h.getStepIndex()));
        }
        return ImageSpec.newBuilder()
                .setConfigJson(ByteString.copyFrom(config))
                .addAllHistory(plan.history())
                .setKey(key.build())
                .build();
    }

    /** The stage's result when the cache holds every piece of it: no worker is involved. */
    private Optional<StageOutcome> fromCache(
            int index,
            Stage stage,
            StagePlan plan,
            List<ArtifactRequest> exports,
            Optional<ImageSpec> image,
            Instant started,
            StageLookups.Answers found) {
        if (noCache(stage)) {
            return Optional.empty();
        }
        Optional<List<Layer>> layers = found.layers(plan);
        if (layers.isEmpty()) {
            return Optional.empty();
        }
        Map<String, ArtifactResult> artifacts = new LinkedHashMap<>();
        for (ArtifactRequest export : exports) {
            Optional<ActionResult> hit = found.get(export.getKey());
            if (hit.isEmpty() || !hit.get().hasArtifact()) {
                return Optional.empty();
            }
            artifacts.put(artifactId(export.getPathsList()), hit.get().getArtifact());
        }
        Optional<ImageResult> imageResult = Optional.empty();
        if (image.isPresent()) {
            Optional<ActionResult> hit = found.get(image.get().getKey());
            if (hit.isEmpty() || !hit.get().hasImage()) {
                return Optional.empty();
            }
            imageResult = Optional.of(hit.get().getImage());
        }
        String from = "[" + stage.displayName() + " 1/" + (plan.steps().size() + 1) + "] FROM ";
        events.stepCached(index, stage, 0, from + plan.base().description());
        for (int i = 0; i < plan.steps().size(); i++) {
            events.stepCached(index, stage, i + 1, plan.steps().get(i).getDescription());
        }
        String now = Instant.now().toString();
        StageReport report = StageReport.newBuilder()
                .setName(stage.displayName())
                .setIndex(index)
                .setCached(true)
                .setStartedAt(started.toString())
                .setFinishedAt(now)
                .build();
        return Optional.of(new StageOutcome(
                index,
                plan.stageKey(),
                layers.get(),
                plan.config(),
                plan.args(),
                plan.history(),
                artifacts,
                imageResult,
                "",
                report));
    }

    /**
     * Runs the stage on a worker. Empty, when {@code mayWait}, after another build's run of the
     * same steps (other work: {@link StageRuns}) has ended: the stage is looked up again.
     */
    private Optional<StageOutcome> dispatch(
            int index,
            Stage stage,
            StagePlan plan,
            List<ArtifactRequest> exports,
            Optional<ImageSpec> image,
            Instant started,
            StageLookups.Answers found,
            boolean mayWait) {
        Job.Builder job = Job.newBuilder()
                .setJobId(buildId + "-" + index)
                .setBuildId(buildId)
                .setTeam(team)
                .setStageIndex(index)
                .setStageName(stage.displayName())
                .setBase(plan.base().image().toBuilder()
                        .setDescription(plan.base().description()))
                .setContextDigest(request.getContextDigest())
                .addAllExports(exports)
                .setDockerfileName(dockerfile.fileName())
                .setStageKey(plan.stageKey())
                .setLayersUnneeded(image.isEmpty() && !graph.isBuiltOrMountedFrom(index));
        for (Step step : plan.steps()) {
            job.addSteps(noCache(stage) ? step : found.markCached(step));
        }
        JobSecrets.attach(job, request);
        image.ifPresent(job::setImage);
        plan.sourceDateEpoch().ifPresent(t -> job.setSourceDateEpoch(t.getEpochSecond()));
        Job built = job.build();
        String workKey = WorkKeys.of(team, built);
        JobTicket ticket = new JobTicket(
                built.getJobId(),
                team,
                buildId,
                workKey,
                submitted,
                criticalPath.getOrDefault(index, StageTimings.UNKNOWN_STEP.toMillis()),
                worker -> localBytes(plan, worker),
                Entitlements.needed(built),
                JobInputs.of(built));
        var mine = new StageRuns.Run(workKey, new CompletableFuture<>());
        Optional<StageRuns.Run> other = runs.claim(built, mine);
        if (other.isPresent() && mayWait) {
            log.info("build {}: stage {} waits for another build's run of its steps", buildId, stage.displayName());
            other.get().awaitWatching(step -> events.otherRunStep(index, stage.displayName(), step), whenCancelled);
            return Optional.empty();
        }
        CompletableFuture<JobDispatcher.Dispatched> pending;
        var queueMillis = new AtomicLong();
        try {
            metrics.stagesDispatched.increment();
            events.stageQueued(index, stage.displayName(), plan.steps().size() + 1);
            synchronized (jobs) {
                if (cancelled != null) {
                    throw new StageFailed(cancelled);
                }
                jobs.add(built.getJobId());
                pending = dispatcher.submit(built, ticket, request.getResubmission() > 1, event -> {
                    if (event.hasQueue()) {
                        queueMillis.set(event.getQueue().getWaitedMillis());
                    }
                    timings.record(index, plan.steps(), event);
                    events.forward(event);
                    mine.reported(event);
                });
            }
        } catch (RuntimeException e) {
            mine.end().complete(null); // nobody waits for a run that never started
            throw e;
        }
        pending.whenComplete((d, e) -> mine.end().complete(null));
        JobDispatcher.Dispatched done = pending.join();
        JobResult result = done.result();
        if (!result.getOk()) {
            throw new StageFailed(result.getError());
        }
        Map<String, ArtifactResult> artifacts = new LinkedHashMap<>();
        for (int i = 0; i < exports.size() && i < result.getArtifactsCount(); i++) {
            artifacts.put(artifactId(exports.get(i).getPathsList()), result.getArtifacts(i));
        }
        StageReport report = StageReport.newBuilder()
                .setName(stage.displayName())
                .setIndex(index)
                .setWorker(done.worker())
                .setCached(false)
                .setStartedAt(result.getStartedAt().isEmpty() ? started.toString() : result.getStartedAt())
                .setFinishedAt(result.getFinishedAt().isEmpty() ? Instant.now().toString() : result.getFinishedAt())
                .setFetchedBytes(result.getFetchedBytes())
                .setQueueMillis(queueMillis.get())
                .build();
        return Optional.of(new StageOutcome(
                index,
                plan.stageKey(),
                result.getLayersList(),
                plan.config(),
                plan.args(),
                plan.history(),
                artifacts,
                result.hasImage() ? Optional.of(result.getImage()) : Optional.empty(),
                done.worker(),
                report));
    }

    /** --no-cache, or --no-cache-filter naming this stage (by name or index). */
    private boolean noCache(Stage stage) {
        return request.getNoCache()
                || request.getNoCacheStagesList().stream()
                        .anyMatch(s ->
                                s.equalsIgnoreCase(stage.displayName()) || s.equals(Integer.toString(stage.index())));
    }

    /** Bytes of a stage's inputs that a worker already holds: the final stage goes where they are. */
    private long localBytes(StagePlan plan, String worker) {
        long bytes = 0;
        if (plan.base().sourceStage() >= 0) {
            StageOutcome base = outcomes.get(plan.base().sourceStage()).join();
            if (worker.equals(base.worker())) {
                bytes += base.layerBytes();
            }
        }
        for (int source : plan.sourceStages()) {
            StageOutcome from = outcomes.get(source).join();
            if (worker.equals(from.worker())) {
                bytes += from.artifacts().values().stream()
                        .mapToLong(ArtifactResult::getSize)
                        .sum();
            }
        }
        return bytes;
    }

    /** What the planner of one stage sees of the build. */
    private final class Inputs implements StagePlanner.Inputs {
        private final int stage;

        Inputs(int stage) {
            this.stage = stage;
        }

        @Override
        public String fileName() {
            return dockerfile.fileName();
        }

        @Override
        public char escape() {
            return dockerfile.escape();
        }

        @Override
        public Optional<String> buildArg(String name) {
            return Optional.ofNullable(request.getBuildArgsMap().get(name));
        }

        @Override
        public Map<String, String> globalArgs() {
            return globals;
        }

        @Override
        public ContextIndex context() {
            return context;
        }

        @Override
        public OptionalInt stageIndex(String ref) {
            return graph.stageReference(ref, stage);
        }

        @Override
        public Optional<ImageSource> image(String ref) throws InvalidValueException {
            try {
                return Optional.of(ImageSources.resolve(bases, ref));
            } catch (BaseImageResolver.BaseImageException e) {
                throw new InvalidValueException("--from=" + ref + ": " + e.getMessage());
            }
        }

        @Override
        public StageSource stageSource(int source, List<String> sources) {
            StageOutcome from = outcomes.get(source).join();
            ArtifactResult artifact = from.artifacts().get(artifactId(sources));
            StageSource.Builder s =
                    StageSource.newBuilder().setStageIndex(source).setStageKey(from.stageKey());
            if (artifact != null) {
                s.setArtifact(artifact);
            }
            return s.build();
        }
    }
}
