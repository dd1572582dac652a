package dev.stagefarm.worker.job;

import dev.stagefarm.cacheclient.CacheClient;
import dev.stagefarm.common.auth.TeamChannel;
import dev.stagefarm.proto.cache.ActionResult;
import dev.stagefarm.proto.cache.ArtifactResult;
import dev.stagefarm.proto.cache.Layer;
import dev.stagefarm.proto.cache.StepResult;
import dev.stagefarm.proto.farm.ArtifactRequest;
import dev.stagefarm.proto.farm.Job;
import dev.stagefarm.proto.farm.JobEvent;
import dev.stagefarm.proto.farm.JobResult;
import dev.stagefarm.proto.farm.Step;
import dev.stagefarm.proto.farm.StepEvent;
import dev.stagefarm.worker.agent.WorkerAgent;
import dev.stagefarm.worker.baseimage.LayerLimitException;
import dev.stagefarm.worker.disk.DiskBudget;
import dev.stagefarm.worker.exec.OutputChunks;
import dev.stagefarm.worker.snapshot.ActiveSnapshot;
import dev.stagefarm.worker.snapshot.OverlaySnapshotter;
import dev.stagefarm.worker.snapshot.ReadOnlyView;
import io.grpc.Context;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one stage job: lays out the base, replays cached steps (lazily: a layer is only fetched
 * and unpacked when a later step has to run on top of it), runs the rest, and publishes each
 * new layer, the artifacts later stages copy, and the final image to the cache-server.
 */
public final class JobRunner implements WorkerAgent.JobHandler {

    private static final Logger log = LoggerFactory.getLogger(JobRunner.class);

    private final String workerName;
    private final OverlaySnapshotter snapshots;
    private final CacheClient cache;
    private final LayerStore layers;
    private final StageChains chains;
    private final StepExecutor steps;
    private final ImageAssembler images;

    private final WorkerMetrics metrics;
    private final DiskBudget disk;

    JobRunner(
            String workerName,
            OverlaySnapshotter snapshots,
            CacheClient cache,
            LayerStore layers,
            StageChains chains,
            StepExecutor steps,
            ImageAssembler images,
            WorkerMetrics metrics,
            DiskBudget disk) {
        this.metrics = metrics;
        this.disk = disk;
        this.workerName = workerName;
        this.snapshots = snapshots;
        this.cache = cache;
        this.layers = layers;
        this.chains = chains;
        this.steps = steps;
        this.images = images;
    }

    @Override
    public JobResult run(Job job, Consumer<JobEvent> events, Consumer<JobResult> early) {
        // The one place a job's team is set: every cache call the job makes, through whichever
        // component, carries it (the worker's cache channel reads it, see WorkerNode).
        // What the job uses stays on disk until it ends; then the budget evicts what it must.
        try (DiskBudget.Lease lease = disk.lease()) {
            return lease.call(() -> TeamChannel.callAs(job.getTeam(), () -> runInTeam(job, events, early)));
        } catch (Exception e) {
            throw new IllegalStateException("job " + job.getJobId() + " failed unexpectedly", e);
        }
    }

    private JobResult runInTeam(Job job, Consumer<JobEvent> events, Consumer<JobResult> early) {
        Instant started = Instant.now();
        AtomicLong fetched = new AtomicLong();
        JobResult.Builder result = JobResult.newBuilder()
                .setJobId(job.getJobId())
                .setStageKey(job.getStageKey())
                .setStartedAt(started.toString());
        AtomicBoolean reported = new AtomicBoolean();
        // No stage of the build takes this stage's layers (only its artifacts are copied): the
        // result goes out as soon as the artifacts are published, and the last step's layer is
        // packed and stored after it, off the path of the build that waits for the result.
        Optional<Consumer<List<ArtifactResult>>> artifactsReady = job.getLayersUnneeded() && !job.hasImage()
                ? Optional.of(artifacts -> {
                    reported.set(true);
                    early.accept(result.clone()
                            .addAllArtifacts(artifacts)
                            .setOk(true)
                            .setLayersPending(true)
                            .setFetchedBytes(fetched.get())
                            .setFinishedAt(Instant.now().toString())
                            .build());
                })
                : Optional.empty();
        try {
            Chain chain = new Chain(job, fetched);
            List<Layer> imageLayers = new ArrayList<>(job.getBase().getLayersList());
            Set<Integer> stepsWithLayer = new HashSet<>();
            String from = "[" + job.getStageName() + " 1/" + (job.getStepsCount() + 1) + "] FROM " + describeBase(job);
            boolean needsFilesystem =
                    job.getExportsCount() > 0 || job.getStepsList().stream().anyMatch(s -> !s.getIsCached());
            long t0 = System.nanoTime();
            if (needsFilesystem) {
                // pull and unpack the base now, so progress shows the time where it is spent
                event(events, job, 0, from, StepEvent.Status.STARTED, 0);
                new Transfer(events, job, 0, "layers", fetched).end(chain.materialize());
            }
            event(events, job, 0, from, StepEvent.Status.DONE, (System.nanoTime() - t0) / 1_000_000);
            Optional<List<ArtifactResult>> exported = Optional.empty();
            for (int i = 0; i < job.getStepsCount(); i++) {
                Step step = job.getSteps(i);
                Optional<Layer> layer;
                if (step.getIsCached()) {
                    layer = cachedStep(job, chain, step, i, events);
                } else {
                    // the last step's filesystem is the stage's: its artifacts are taken there and then
                    boolean last = i == job.getStepsCount() - 1;
                    RanStep ran = runStep(
                            job,
                            chain,
                            step,
                            i,
                            events,
                            fetched,
                            last ? job.getExportsList() : List.of(),
                            last ? artifactsReady : Optional.empty());
                    layer = ran.layer();
                    exported = ran.artifacts();
                }
                layer.ifPresent(imageLayers::add);
                if (layer.isPresent()) {
                    stepsWithLayer.add(i);
                }
            }
            Optional<List<String>> local = chain.materializedKeys();
            if (local.isPresent()) {
                chains.put(job.getTeam(), job.getStageKey(), local.get());
            }
            if (exported.isPresent()) {
                result.addAllArtifacts(exported.get());
            } else {
                for (ArtifactRequest export : job.getExportsList()) {
                    result.addArtifacts(exportArtifact(chain, export));
                }
            }
            if (job.hasImage()) {
                result.setImage(images.assemble(job.getImage(), imageLayers, stepsWithLayer, sourceDateEpoch(job)));
            }
            result.addAllLayers(imageLayers).setOk(true);
            metrics.jobsOk.increment();
        } catch (StepFailedException e) {
            metrics.jobsFailed.increment();
            result.setOk(false).setError(e.getMessage());
        } catch (IOException | RuntimeException e) {
            if (reported.get()) {
                // the build has its result; what is lost is the cache entry of the stage's last step
                log.warn(
                        "job {}: the last step's layer was not stored, so later builds run that step again: {}",
                        job.getJobId(),
                        e.toString());
                return result.setOk(false)
                        .setError("storing the last step's layer failed: " + e)
                        .build();
            }
            metrics.jobsFailed.increment();
            log.error("job {} failed", job.getJobId(), e);
            result.setOk(false).setError("stage " + job.getStageName() + " failed on worker " + workerName + ": " + e);
        }
        metrics.fetchedBytes.increment(fetched.get());
        return result.setFetchedBytes(fetched.get())
                .setFinishedAt(Instant.now().toString())
                .build();
    }

    private static Optional<Instant> sourceDateEpoch(Job job) {
        return job.hasSourceDateEpoch()
                ? Optional.of(Instant.ofEpochSecond(job.getSourceDateEpoch()))
                : Optional.empty();
    }

    private static String describeBase(Job job) {
        if (!job.getBase().getDescription().isEmpty()) {
            return job.getBase().getDescription();
        }
        if (!job.getBase().getStageKey().isEmpty()) {
            return "earlier stage";
        }
        if (job.getBase().getLayersCount() == 0) {
            return "scratch";
        }
        return job.getBase().getRegistryRepository();
    }

    private Optional<Layer> cachedStep(Job job, Chain chain, Step step, int i, Consumer<JobEvent> events) {
        Optional<Layer> layer =
                step.getCached().hasLayer() ? Optional.of(step.getCached().getLayer()) : Optional.empty();
        layer.ifPresent(chain::add);
        metrics.stepsCached.increment();
        event(events, job, i + 1, step.getDescription(), StepEvent.Status.CACHED, 0);
        return layer;
    }

    /**
     * A step that ran: its layer (none when it changed nothing), and the stage's artifacts when
     * the step was asked to export them.
     */
    private record RanStep(Optional<Layer> layer, Optional<List<ArtifactResult>> artifacts) {}

    /**
     * Runs a step in a snapshot of its own and publishes what it changed. With {@code exports},
     * the step is the stage's last: the artifacts later stages copy are packed from the step's
     * view while its layer is packed and uploaded, instead of after it from a second mount, so a
     * stage's end (what a wide graph's last stage waits for) costs the longer of the two. With
     * {@code artifactsReady} as well, nothing waits for the layer: the artifacts are packed
     * first and handed to it, and the layer is published after.
     */
    private RanStep runStep(
            Job job,
            Chain chain,
            Step step,
            int i,
            Consumer<JobEvent> events,
            AtomicLong fetched,
            List<ArtifactRequest> exports,
            Optional<Consumer<List<ArtifactResult>>> artifactsReady)
            throws StepFailedException, IOException {
        long t0 = System.nanoTime();
        var phases = new StepPhases("job " + job.getJobId() + " step " + (i + 1));
        event(events, job, i + 1, step.getDescription(), StepEvent.Status.STARTED, 0);
        List<String> lowers = new Transfer(events, job, i + 1, "layers", fetched).end(chain.materialize());
        prefetchArtifact(job, step, i + 1, events, fetched);
        phases.ended("layers");
        Optional<Layer> layer;
        Optional<List<ArtifactResult>> artifacts = Optional.empty();
        try (ActiveSnapshot active = snapshots.prepare(lowers)) {
            phases.ended("snapshot");
            // closed, so all its output is sent, before the step's end is
            try (OutputChunks output = OutputChunks.start(new StepLog(events, job, i + 1))) {
                steps.execute(job, step, active.merged(), output, fetched);
                phases.ended("run");
            } catch (StepFailedException e) {
                event(events, job, i + 1, step.getDescription(), StepEvent.Status.FAILED, 0);
                throw e;
            }
            // The process is gone (runc waited for every process of its pid namespace), so neither
            // the upper directory nor the merged view changes any more: both are read in place
            // before the commit unmounts the view.
            if (artifactsReady.isPresent()) {
                artifacts = Optional.of(exportFrom(active.merged(), exports));
                phases.ended("exports");
                stepDone(job, step, i, events, t0);
                artifactsReady.get().accept(artifacts.get());
                phases.ended("reported");
                layer = publishLayer(job, step, active, lowers, phases);
            } else {
                // a platform thread, as the job's own: packing is file system calls, not waiting
                try (ExecutorService beside = Executors.newThreadPerTaskExecutor(Thread.ofPlatform()
                        .name("exports-" + job.getJobId())
                        .daemon(true)
                        .factory())) {
                    Future<List<ArtifactResult>> exported = exports.isEmpty()
                            ? null
                            : beside.submit(Context.current().wrap(() -> exportFrom(active.merged(), exports)));
                    layer = publishLayer(job, step, active, lowers, phases);
                    // the step is done; packing the stage's artifacts is the stage's, not the step's
                    stepDone(job, step, i, events, t0);
                    if (exported != null) {
                        artifacts = Optional.of(await(exported));
                        phases.ended("exports");
                    }
                }
            }
            // Snapshots are found by content (the layer's diffID), never by step key: a step that
            // ran although its key was known (--no-cache, a non-deterministic RUN) must not be
            // handed the old snapshot, and a cached step must get exactly its cached layer.
            String runKey = "run:" + job.getJobId() + ":" + i;
            active.commit(runKey);
            phases.ended("commit");
            if (layer.isPresent()) {
                snapshots.alias(runKey, LayerStore.snapshotKey(job.getTeam(), layer.get()));
            }
        }
        layer.ifPresent(chain::add);
        phases.log();
        return new RanStep(layer, artifacts);
    }

    /** Packs the step's layer from its snapshot, uploads it and stores the step's result under its key. */
    private Optional<Layer> publishLayer(
            Job job, Step step, ActiveSnapshot active, List<String> lowers, StepPhases phases) throws IOException {
        Optional<Layer> layer;
        try (ReadOnlyView below = snapshots.mountReadOnly(lowers)) {
            layer = layers.publish(active.upper(), below.path(), sourceDateEpoch(job));
        }
        phases.ended("publish");
        StepResult.Builder stepResult = StepResult.newBuilder();
        layer.ifPresent(stepResult::setLayer);
        ActionResult.Builder action = ActionResult.newBuilder().setStep(stepResult);
        layer.ifPresent(l -> action.addBlobs(l.getDigest()));
        cache.putAction(step.getKey(), action.build());
        phases.ended("action");
        return layer;
    }

    private void stepDone(Job job, Step step, int i, Consumer<JobEvent> events, long t0) {
        metrics.stepsRun.increment();
        metrics.stepDuration.record(System.nanoTime() - t0, TimeUnit.NANOSECONDS);
        event(events, job, i + 1, step.getDescription(), StepEvent.Status.DONE, (System.nanoTime() - t0) / 1_000_000);
    }

    /** The result of work done beside this thread, with its own exceptions. */
    private static <T> T await(Future<T> work) throws IOException, StepFailedException {
        try {
            return work.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while the stage's artifacts were packed");
        } catch (ExecutionException e) {
            switch (e.getCause()) {
                case IOException io -> throw io;
                case StepFailedException failed -> throw failed;
                case RuntimeException runtime -> throw runtime;
                case Error error -> throw error;
                default -> throw new IllegalStateException(e.getCause());
            }
        }
    }

    /**
     * A COPY --from a stage that did not run here fetches that stage's artifact first, on its
     * own, so progress and traces show the transfer apart from the copy (the copy then finds
     * it on this worker).
     */
    private void prefetchArtifact(Job job, Step step, int index, Consumer<JobEvent> events, AtomicLong fetched)
            throws IOException {
        if (!step.hasCopy() || !step.getCopy().getSource().hasStage()) {
            return;
        }
        var source = step.getCopy().getSource().getStage();
        Optional<List<String>> local = chains.get(job.getTeam(), source.getStageKey());
        if (source.hasArtifact() && !(local.isPresent() && local.get().stream().allMatch(snapshots::exists))) {
            Transfer t = new Transfer(events, job, index, "artifact", fetched);
            layers.artifactDir(source.getArtifact(), fetched);
            t.end(null);
        }
    }

    /** Bytes fetched from the cache between its start and {@link #end}: one event when any were. */
    private final class Transfer {
        private final Consumer<JobEvent> events;
        private final Job job;
        private final int step;
        private final String what;
        private final AtomicLong fetched;
        private final long before;
        private final long t0 = System.nanoTime();

        Transfer(Consumer<JobEvent> events, Job job, int step, String what, AtomicLong fetched) {
            this.events = events;
            this.job = job;
            this.step = step;
            this.what = what;
            this.fetched = fetched;
            this.before = fetched.get();
        }

        <T> T end(T value) {
            long bytes = fetched.get() - before;
            if (bytes > 0) {
                events.accept(JobEvent.newBuilder()
                        .setJobId(job.getJobId())
                        .setTransfer(dev.stagefarm.proto.farm.TransferEvent.newBuilder()
                                .setStageIndex(job.getStageIndex())
                                .setStepIndex(step)
                                .setWorker(workerName)
                                .setWhat(what)
                                .setBytes(bytes)
                                .setMillis((System.nanoTime() - t0) / 1_000_000))
                        .build());
            }
            return value;
        }
    }

    /** An artifact of a stage none of whose steps ran here: packed from a view of its chain. */
    private ArtifactResult exportArtifact(Chain chain, ArtifactRequest export) throws IOException, StepFailedException {
        List<String> lowers = chain.materialize();
        try (ReadOnlyView view = snapshots.mountReadOnly(lowers)) {
            return exportFrom(view.path(), List.of(export)).getFirst();
        }
    }

    /** Packs and publishes each artifact from the stage's filesystem at {@code root}, in order. */
    private List<ArtifactResult> exportFrom(Path root, List<ArtifactRequest> exports)
            throws IOException, StepFailedException {
        List<ArtifactResult> out = new ArrayList<>();
        for (ArtifactRequest export : exports) {
            out.add(exportOne(root, export));
        }
        return out;
    }

    private ArtifactResult exportOne(Path root, ArtifactRequest export) throws IOException, StepFailedException {
        var phases = new StepPhases("export " + export.getPathsList());
        ArtifactResult artifact = layers.publishArtifact(root, export.getPathsList());
        phases.ended("publish");
        cache.putAction(
                export.getKey(),
                ActionResult.newBuilder()
                        .addBlobs(artifact.getDigest())
                        .setArtifact(artifact)
                        .build());
        phases.ended("action");
        phases.log();
        return artifact;
    }

    private void event(
            Consumer<JobEvent> events, Job job, int step, String description, StepEvent.Status status, long millis) {
        events.accept(JobEvent.newBuilder()
                .setJobId(job.getJobId())
                .setStep(StepEvent.newBuilder()
                        .setStageIndex(job.getStageIndex())
                        .setStageName(job.getStageName())
                        .setStepIndex(step)
                        .setDescription(description)
                        .setStatus(status)
                        .setWorker(workerName)
                        .setMillis(millis))
                .build());
    }

    /**
     * The snapshots under the stage's next step, lowest first. Entries are only unpacked when
     * something has to run on top of them.
     */
    private final class Chain {
        private record Entry(String key, Layer layer) {}

        private final List<Entry> entries = new ArrayList<>();
        private final AtomicLong fetched;
        private final String team;
        private final String base;

        Chain(Job job, AtomicLong fetched) throws IOException {
            this.fetched = fetched;
            this.team = job.getTeam();
            this.base = describeBase(job);
            Optional<List<String>> local = chains.get(team, job.getBase().getStageKey());
            if (local.isPresent() && local.get().stream().allMatch(snapshots::exists)) {
                local.get().forEach(k -> entries.add(new Entry(k, null)));
            } else {
                for (Layer l : job.getBase().getLayersList()) {
                    entries.add(new Entry(LayerStore.snapshotKey(team, l), l));
                }
            }
        }

        /** A layer on top of the chain, found locally by its content or unpacked when needed. */
        void add(Layer layer) {
            entries.add(new Entry(LayerStore.snapshotKey(team, layer), layer));
        }

        List<String> materialize() throws IOException, StepFailedException {
            try {
                return unpacked();
            } catch (LayerLimitException e) {
                // the base image is over this worker's limits: the build author's to fix, not a worker fault
                throw new StepFailedException("FROM " + base + ": " + e.getMessage(), e);
            }
        }

        private List<String> unpacked() throws IOException {
            List<Layer> toUnpack = entries.stream()
                    .filter(e -> e.layer() != null && !snapshots.exists(e.key()))
                    .map(Entry::layer)
                    .toList();
            if (!toUnpack.isEmpty()) {
                layers.checkDeclared(
                        base,
                        entries.stream()
                                .map(Entry::layer)
                                .filter(l -> l != null)
                                .toList());
            }
            // layers unpack one after another; the ones after the first download meanwhile
            List<Future<?>> background =
                    toUnpack.size() > 1 ? layers.prefetch(toUnpack.subList(1, toUnpack.size()), fetched) : List.of();
            try {
                List<String> keys = new ArrayList<>();
                for (Entry e : entries) {
                    if (!snapshots.exists(e.key())) {
                        if (e.layer() == null) {
                            throw new IOException("snapshot " + e.key() + " vanished while in use");
                        }
                        layers.unpackToSnapshot(e.layer(), e.key(), fetched);
                    }
                    keys.add(e.key());
                }
                return keys;
            } finally {
                background.forEach(f -> f.cancel(false));
            }
        }

        /** The chain, when every snapshot of it is on this worker. */
        Optional<List<String>> materializedKeys() {
            List<String> keys = entries.stream().map(Entry::key).toList();
            return keys.stream().allMatch(snapshots::exists) ? Optional.of(keys) : Optional.empty();
        }
    }
}
