package dev.stagefarm.coordinator.schedule;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/** One piece of work in the {@link Scheduler}: queued or running, wanted by one or more jobs. */
final class Work {
    final JobTicket first;
    /** The id it runs under on its worker: its first job's, or an adopted run's (see {@link Scheduler#adopt}). */
    String wireId;

    final Set<String> members = new LinkedHashSet<>();
    final long sequence;
    final Instant queuedAt;
    final List<String> lostOn = new ArrayList<>();
    Slots worker;
    /** When it first let a free slot go to wait for a better-placed worker; null if never. */
    Instant deferredSince;
    /** Until when it waits for that worker. */
    Instant deferUntil;

    Work(JobTicket first, long sequence, Instant queuedAt) {
        this.first = first;
        this.wireId = first.jobId();
        this.sequence = sequence;
        this.queuedAt = queuedAt;
        members.add(first.jobId());
    }
}
