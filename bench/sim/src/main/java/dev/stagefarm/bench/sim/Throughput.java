package dev.stagefarm.bench.sim;

import dev.stagefarm.coordinator.schedule.JobTicket;
import dev.stagefarm.coordinator.schedule.Scheduler;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.List;

/**
 * How fast the scheduler places jobs on a big farm: {@code workers} workers of 2 slots and
 * {@code jobs} jobs queued at once (from 10 teams, builds of 32 jobs), then every slot that frees
 * taken at once, until every job has been placed. Placement only: the jobs take no simulated time,
 * so this is the coordinator's own limit, not the farm's.
 */
final class Throughput {

    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    /** One measured round: jobs placed per second of wall time and of this thread's CPU time. */
    record Round(int workers, int jobs, long placed, double jobsPerWallSecond, double jobsPerCpuSecond) {}

    private Throughput() {}

    static Round round(int workers, int jobs) {
        SimClock clock = new SimClock();
        Scheduler scheduler = new Scheduler(clock);
        for (int i = 1; i <= workers; i++) {
            String name = "w%04d".formatted(i);
            scheduler.addWorker(name, name, 2);
        }
        int perBuild = 32;
        for (int i = 0; i < jobs; i++) {
            int build = i / perBuild;
            String team = "team-" + (build % 10);
            String jobId = "b" + build + "#" + (i % perBuild);
            // locality as a worker's name hashed: every candidate worker is asked, as in a real farm
            scheduler.submit(new JobTicket(
                    jobId,
                    team,
                    "b" + build,
                    team + "/" + jobId,
                    SimClock.at(build * 1_000_000L),
                    1 + (i % 6),
                    worker -> (worker.hashCode() ^ jobId.hashCode()) & 0xffff));
        }
        Deque<Scheduler.Placement> running = new ArrayDeque<>();
        long placed = 0;
        long wall = System.nanoTime();
        long cpu = THREADS.getCurrentThreadCpuTime();
        while (placed < jobs) {
            List<Scheduler.Placement> now = scheduler.place();
            placed += now.size();
            running.addAll(now);
            Scheduler.Placement done = running.poll();
            if (done == null) {
                throw new IllegalStateException(
                        "nothing placed and nothing running with " + (jobs - placed) + " queued");
            }
            scheduler.finish(done.wireId(), done.workerId());
        }
        cpu = THREADS.getCurrentThreadCpuTime() - cpu;
        wall = System.nanoTime() - wall;
        return new Round(workers, jobs, placed, placed * 1e9 / wall, placed * 1e9 / cpu);
    }

    /** The median of {@code rounds} rounds, after two unmeasured rounds that warm the JIT up. */
    static Round measure(int workers, int jobs, int rounds) {
        round(workers, jobs);
        round(workers, jobs);
        List<Round> all = new ArrayList<>();
        for (int i = 0; i < rounds; i++) {
            all.add(round(workers, jobs));
        }
        all.sort(Comparator.comparingDouble(Round::jobsPerWallSecond));
        return all.get(all.size() / 2);
    }
}
