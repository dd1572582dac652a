package dev.stagefarm.bench.sim;

import dev.stagefarm.coordinator.schedule.JobTicket;
import dev.stagefarm.coordinator.schedule.Scheduler;
import dev.stagefarm.coordinator.schedule.StageTimings;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.time.Duration;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.function.Supplier;

/**
 * A farm in a discrete-event simulation: the coordinator's real {@link Scheduler} on a
 * {@link SimClock}, workers that are only slots and a record of the bytes they hold, and builds
 * whose stages cost what they cost on a real farm ({@link Recorded}).
 *
 * <p>It drives the scheduler as {@code JobDispatcher} and {@code BuildRun} do: a stage's job is
 * submitted when the stages it depends on are done, with the build's submit time, the stage's
 * critical path from {@code CriticalPaths} (weighted by what earlier builds of the graph recorded
 * in {@code StageTimings}, each stage one step) and, as locality, the bytes of its inputs a worker
 * already holds; after every submit or finish the queue places what it can, and a placed job
 * runs for its recorded work plus the time to fetch the input bytes its worker lacks. Workers
 * start with the base images (a farm that has run before); what they fetch or produce they keep.
 */
final class Simulation {

    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    private final SimClock clock = new SimClock();
    private final Scheduler scheduler = new Scheduler(clock);
    /** What each finished stage took, as the coordinator records it: later builds of a graph order by it. */
    private final StageTimings timings = new StageTimings(clock);

    private final double fetchBytesPerNano;
    private final PriorityQueue<Event> events =
            new PriorityQueue<>(Comparator.comparingLong(Event::at).thenComparingLong(Event::seq));
    private final Map<String, Set<String>> held = new HashMap<>();
    private final Map<String, Running> builds = new LinkedHashMap<>();
    private final Map<String, JobRef> jobs = new HashMap<>();
    private final Map<String, Long> queuedAt = new HashMap<>();
    private final Map<String, Long> startedAt = new HashMap<>();
    private final Map<String, SimResult.Job> ended = new LinkedHashMap<>();
    private final Map<String, Integer> runsPerWork = new LinkedHashMap<>();
    private long seq;
    private long placements;
    private long cpuNanos;
    private long fetchedBytes;

    private sealed interface Event {
        long at();

        long seq();
    }

    private record Submit(long at, long seq, BuildSpec build) implements Event {}

    private record Done(long at, long seq, String wireId, String worker) implements Event {}

    private record JobRef(Running build, int stage) {}

    /** A build in flight. */
    private static final class Running {
        final BuildSpec spec;
        final int[] waitingFor;
        final Map<Integer, Long> chain;
        final List<List<Integer>> dependents;
        int done;
        long end = -1;

        Running(BuildSpec spec, Map<Integer, Long> chain) {
            this.spec = spec;
            this.chain = chain;
            this.dependents = spec.graph().dependents();
            this.waitingFor = new int[spec.graph().size()];
            for (Stage s : spec.graph().stages()) {
                waitingFor[s.index()] = s.deps().size();
            }
        }
    }

    /**
     * @param workers how many workers, named {@code w0001}…
     * @param slots each worker's slots (the worker's {@code --slots}, 2 by default)
     */
    Simulation(int workers, int slots, double fetchBytesPerSecond) {
        this.fetchBytesPerNano = fetchBytesPerSecond / 1e9;
        for (int i = 1; i <= workers; i++) {
            String name = "w%04d".formatted(i);
            scheduler.addWorker(name, name, slots);
            held.put(name, new HashSet<>());
        }
    }

    SimResult run(List<BuildSpec> specs) {
        for (BuildSpec b : specs) {
            events.add(new Submit(b.submitNanos(), seq++, b));
        }
        while (!events.isEmpty()) {
            Event e = events.poll();
            clock.advanceTo(e.at());
            switch (e) {
                case Submit s -> start(s.build());
                case Done d -> finish(d.wireId(), d.worker());
            }
            place();
        }
        Map<String, SimResult.Build> out = new LinkedHashMap<>();
        builds.forEach((id, b) -> {
            if (b.end < 0) {
                throw new IllegalStateException("build " + id + " never finished: " + b.done + " of "
                        + b.spec.graph().size() + " stages done");
            }
            out.put(id, new SimResult.Build(b.spec.team(), b.spec.submitNanos(), b.end));
        });
        return new SimResult(Map.copyOf(ended), out, Map.copyOf(runsPerWork), placements, cpuNanos, fetchedBytes);
    }

    private void start(BuildSpec spec) {
        if (builds.containsKey(spec.id())) {
            throw new IllegalArgumentException("build " + spec.id() + " submitted twice");
        }
        Running b = new Running(
                spec, spec.graph().criticalPaths(i -> timings.weightMillis(spec.team(), stepName(spec, i))));
        builds.put(spec.id(), b);
        for (int root : spec.graph().roots()) {
            submit(b, root);
        }
    }

    private void submit(Running b, int stage) {
        String jobId = b.spec.id() + "#" + stage;
        jobs.put(jobId, new JobRef(b, stage));
        queuedAt.put(jobId, clock.nanos());
        JobTicket ticket = new JobTicket(
                jobId,
                b.spec.team(),
                b.spec.id(),
                outputKey(b.spec, stage),
                SimClock.at(b.spec.submitNanos()),
                b.chain.getOrDefault(stage, StageTimings.UNKNOWN_STEP.toMillis()),
                worker -> localBytes(b.spec, stage, worker));
        timed(() -> scheduler.submit(ticket));
    }

    private void place() {
        for (Scheduler.Placement p : timed(scheduler::place)) {
            placements++;
            runsPerWork.merge(p.wireId(), 1, Integer::sum);
            JobRef ref = jobs.get(p.wireId());
            Stage stage = ref.build.spec.graph().stage(ref.stage);
            long missing = 0;
            for (int d : stage.deps()) {
                if (held.get(p.workerId()).add(outputKey(ref.build.spec, d))) {
                    missing += ref.build.spec.graph().stage(d).outBytes();
                }
            }
            fetchedBytes += missing;
            long runNanos = stage.workMillis() * 1_000_000 + Math.round(missing / fetchBytesPerNano);
            for (String job : p.jobs()) {
                startedAt.put(job, clock.nanos());
            }
            events.add(new Done(clock.nanos() + runNanos, seq++, p.wireId(), p.workerId()));
        }
    }

    private void finish(String wireId, String worker) {
        Optional<Scheduler.Finished> finished = timed(() -> scheduler.finish(wireId, worker));
        if (finished.isEmpty()) {
            throw new IllegalStateException("the scheduler did not know run " + wireId + " on " + worker);
        }
        for (String job : finished.get().jobs()) {
            JobRef ref = jobs.get(job);
            held.get(worker).add(outputKey(ref.build.spec, ref.stage));
            timings.record(
                    ref.build.spec.team(),
                    stepName(ref.build.spec, ref.stage),
                    Duration.ofMillis(ref.build.spec.graph().stage(ref.stage).workMillis()));
            if (ended.put(
                            job,
                            new SimResult.Job(
                                    ref.build.spec.id(),
                                    ref.stage,
                                    queuedAt.get(job),
                                    // a job that joined identical work already running waited for nothing
                                    startedAt.getOrDefault(job, queuedAt.get(job)),
                                    clock.nanos(),
                                    worker))
                    != null) {
                throw new IllegalStateException("job " + job + " finished twice");
            }
            Running b = ref.build;
            b.done++;
            if (b.done == b.spec.graph().size()) {
                b.end = clock.nanos();
            }
            for (int next : b.dependents.get(ref.stage)) {
                if (--b.waitingFor[next] == 0) {
                    submit(b, next);
                }
            }
        }
    }

    /** A stage as {@link StageTimings} knows it: its Dockerfile's text (the graph), whatever the sources. */
    private static String stepName(BuildSpec b, int stage) {
        return b.graph().name() + "#" + stage;
    }

    /** What a stage produces, as the locality index would name it: the team's content, not the build. */
    private static String outputKey(BuildSpec b, int stage) {
        return b.team() + "/" + b.content() + "#" + stage;
    }

    private long localBytes(BuildSpec b, int stage, String worker) {
        Set<String> has = held.get(worker);
        long bytes = 0;
        for (int d : b.graph().stage(stage).deps()) {
            if (has.contains(outputKey(b, d))) {
                bytes += b.graph().stage(d).outBytes();
            }
        }
        return bytes;
    }

    /**
     * Runs a scheduler call and counts this thread's CPU time in it: the coordinator's cost. The
     * cost of reading the thread's CPU clock itself (a system call) is taken off.
     */
    private <T> T timed(Supplier<T> call) {
        long before = THREADS.getCurrentThreadCpuTime();
        T result = call.get();
        cpuNanos += Math.max(0, THREADS.getCurrentThreadCpuTime() - before - CLOCK_COST);
        return result;
    }

    /** The CPU time one pair of clock reads takes, measured once. */
    private static final long CLOCK_COST = clockCost();

    private static long clockCost() {
        long best = Long.MAX_VALUE;
        for (int round = 0; round < 5; round++) {
            int n = 20_000;
            long start = THREADS.getCurrentThreadCpuTime();
            for (int i = 0; i < n; i++) {
                THREADS.getCurrentThreadCpuTime();
            }
            best = Math.min(best, (THREADS.getCurrentThreadCpuTime() - start) / n);
        }
        return best;
    }
}
