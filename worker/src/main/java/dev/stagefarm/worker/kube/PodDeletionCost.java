package dev.stagefarm.worker.kube;

import java.io.IOException;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.IntSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps {@code controller.kubernetes.io/pod-deletion-cost} on the worker's own pod current, so a
 * ReplicaSet scaling in removes idle, empty workers first and busy ones last (the drain keeps
 * scale-in safe either way; the cost keeps it cheap). At most one PATCH per interval, and none
 * when the cost has not changed: Kubernetes asks that the annotation not be updated often.
 */
public final class PodDeletionCost implements AutoCloseable {

    public static final String ANNOTATION = "controller.kubernetes.io/pod-deletion-cost";
    /** The default interval between two checks, so between two PATCHes. */
    public static final Duration INTERVAL = Duration.ofSeconds(10);

    private static final Logger log = LoggerFactory.getLogger(PodDeletionCost.class);
    private static final long GIB = 1L << 30;
    /** One running job outweighs any amount of cached bytes. */
    private static final int PER_JOB = 1_000_000;

    private final PodPatcher patcher;
    private final IntSupplier cost;
    private final Duration interval;
    private final String worker;
    private final ScheduledExecutorService ticks;
    private Integer patched;
    private String lastError;

    /**
     * @param cost the cost now, usually {@link #of}(running jobs, local bytes)
     * @param interval the least time between two PATCHes
     */
    public PodDeletionCost(PodPatcher patcher, IntSupplier cost, Duration interval, String worker) {
        this.patcher = patcher;
        this.cost = cost;
        this.interval = interval;
        this.worker = worker;
        this.ticks = Executors.newSingleThreadScheduledExecutor(
                Thread.ofPlatform().daemon().name("pod-deletion-cost").factory());
    }

    /**
     * The cost of removing a worker: each running job counts a million, each GiB (begun) of
     * snapshots and blobs it keeps one, up to 999,999. An idle worker with an empty disk costs 0,
     * the least, and goes first.
     */
    public static int of(int runningJobs, long localBytes) {
        long cached = Math.min(Math.ceilDiv(Math.max(localBytes, 0), GIB), PER_JOB - 1);
        return (int) Math.min((long) Math.max(runningJobs, 0) * PER_JOB + cached, Integer.MAX_VALUE);
    }

    /**
     * Started for this worker's pod when it runs in one ({@link InCluster#detect}); empty on a
     * machine, and, with a warning saying what the manifest lacks, in a pod that cannot patch itself.
     */
    public static Optional<PodDeletionCost> inThisPod(String worker, IntSupplier cost) {
        try {
            Optional<InCluster> pod = InCluster.detect(System.getenv(), InCluster.SERVICE_ACCOUNT);
            if (pod.isEmpty()) {
                return Optional.empty();
            }
            return Optional.of(new PodDeletionCost(new PodPatcher(pod.get()), cost, INTERVAL, worker).start());
        } catch (InCluster.Incomplete | IOException e) {
            log.warn("worker {}: not setting pod-deletion-cost on its pod: {}", worker, e.getMessage());
            return Optional.empty();
        }
    }

    /** Checks now, then every interval. */
    public PodDeletionCost start() {
        ticks.scheduleWithFixedDelay(this::updateQuietly, 0, interval.toMillis(), TimeUnit.MILLISECONDS);
        return this;
    }

    /**
     * Patches the pod when the cost differs from the last one it holds; a failed PATCH is retried
     * at the next check.
     *
     * @return whether it patched
     */
    synchronized boolean update() throws IOException, InterruptedException {
        int now = cost.getAsInt();
        if (Objects.equals(patched, now)) {
            return false;
        }
        patcher.annotate(ANNOTATION, Integer.toString(now));
        if (patched == null || lastError != null) {
            log.info("worker {}: pod-deletion-cost {} set on its pod", worker, now);
        }
        patched = now;
        lastError = null;
        return true;
    }

    private void updateQuietly() {
        try {
            update();
        } catch (IOException e) {
            // once per distinct error, not every interval
            if (!Objects.equals(lastError, e.getMessage())) {
                lastError = e.getMessage();
                log.warn(
                        "worker {}: cannot set pod-deletion-cost, scale-in may remove it before idle" + " workers: {}",
                        worker,
                        e.getMessage());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            log.warn("worker {}: pod-deletion-cost not updated", worker, e);
        }
    }

    @Override
    public void close() {
        ticks.shutdownNow();
        patcher.close();
    }
}
