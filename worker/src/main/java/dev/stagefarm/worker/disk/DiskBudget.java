package dev.stagefarm.worker.disk;

import dev.stagefarm.cacheclient.Units;
import dev.stagefarm.common.auth.TeamChannel;
import io.grpc.Context;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The worker's {@code --max-local-size}: snapshots, blobs, artifacts and contexts on its disk,
 * evicted least recently used first so that they stay under the budget, from the team that holds
 * the most bytes first ({@link LruPolicy}): one team's builds cannot push every other team's
 * snapshots off a shared worker. What a running job
 * uses is pinned by its {@link Lease} until the job ends, so the budget is exceeded by at most
 * what the jobs in flight hold. Evicting only makes an entry unreachable (under the lock, fast)
 * and then deletes its files (outside the lock); whoever needed it fetches it again from the
 * cache-server, as a worker that never had it would.
 */
public final class DiskBudget {

    private static final Logger log = LoggerFactory.getLogger(DiskBudget.class);

    /** The lease of the job running in the current gRPC context, if any. */
    private static final Context.Key<Lease> LEASE = Context.key("stagefarm-disk-lease");

    /** What the budget holds. */
    public enum Kind {
        SNAPSHOT,
        BLOB,
        ARTIFACT,
        CONTEXT
    }

    /**
     * Removes one entry of a kind: {@link #unlink} makes it unreachable to lookups at once (it
     * runs under the budget's lock) and returns what deletes its bytes afterwards.
     */
    public interface Remover {
        Deletion unlink(String name) throws IOException;
    }

    /** The slow part of an eviction, run outside the lock. */
    public interface Deletion {
        void run() throws IOException;
    }

    private final long budget;
    private final LruPolicy lru = new LruPolicy();
    private final Holdings holdings = new Holdings();
    private final Map<Kind, Remover> removers = new EnumMap<>(Kind.class);
    private final Counter evicted;
    private final MeterRegistry meters;
    private final String worker;
    private final Set<String> teamsMetered = new HashSet<>();

    /**
     * @param budget bytes; 0 or less counts usage but never evicts
     * @param meters where {@code stagefarm_worker_disk_used_bytes}, {@code _budget_bytes} and
     *     {@code _evicted_bytes_total} go
     */
    public DiskBudget(long budget, MeterRegistry meters) {
        this(budget, meters, "");
    }

    /**
     * @param worker the worker's name, a tag on the metrics: an embedded farm runs several
     *     workers on one registry, where a second untagged gauge would be ignored
     */
    public DiskBudget(long budget, MeterRegistry meters, String worker) {
        this.budget = Math.max(0, budget);
        this.meters = meters;
        this.worker = worker;
        Gauge.builder("stagefarm.worker.disk.used", this, DiskBudget::used)
                .tag("worker", worker)
                .baseUnit("bytes")
                .description("the worker's snapshots, blobs, artifacts and contexts on its disk")
                .register(meters);
        Gauge.builder("stagefarm.worker.disk.budget", this, DiskBudget::budget)
                .tag("worker", worker)
                .baseUnit("bytes")
                .description("the worker's --max-local-size (0: none)")
                .register(meters);
        this.evicted = Counter.builder("stagefarm.worker.disk.evicted")
                .tag("worker", worker)
                .baseUnit("bytes")
                .description("bytes evicted to stay under --max-local-size")
                .register(meters);
    }

    /** No budget, no metrics: for tests and tools that build job parts directly. */
    public static DiskBudget unlimited() {
        return new DiskBudget(0, new io.micrometer.core.instrument.simple.SimpleMeterRegistry());
    }

    public void register(Kind kind, Remover remover) {
        synchronized (this) {
            removers.put(kind, remover);
        }
    }

    public long budget() {
        return budget;
    }

    /** What this disk holds for which team, for the coordinator's locality index. */
    public Holdings holdings() {
        return holdings;
    }

    public synchronized long used() {
        return lru.used();
    }

    /**
     * Looks up an entry for the current job: pins it to the job's lease (outside a job, only
     * marks it used) and then asks {@code present} whether it is there, under the lock, so no
     * eviction falls between the check and the pin.
     */
    public synchronized boolean use(Kind kind, String name, BooleanSupplier present) {
        return use(kind, name, null, present);
    }

    /**
     * As {@link #use(Kind, String, BooleanSupplier)}, for an entry found under {@code key} (a
     * snapshot's key), which it is then reported under too.
     */
    public synchronized boolean use(Kind kind, String name, String key, BooleanSupplier present) {
        String id = id(kind, name);
        Lease lease = LEASE.get();
        if (lease != null) {
            lease.pin(id);
        }
        lru.touch(id);
        boolean there = present.getAsBoolean();
        if (there && lru.contains(id)) {
            holdings.held(id, keys(kind, name, key), -1, TeamChannel.ofJob().orElse(null));
        }
        return there;
    }

    /** A new entry of {@code bytes}, pinned for the current job; then evicts others if over budget. */
    public void added(Kind kind, String name, long bytes) {
        added(kind, name, bytes, null);
    }

    /** As {@link #added(Kind, String, long)}, for an entry found by {@code key} (a snapshot's key). */
    public void added(Kind kind, String name, long bytes, String key) {
        synchronized (this) {
            String id = id(kind, name);
            Lease lease = LEASE.get();
            if (lease != null) {
                lease.pin(id);
            }
            String team = TeamChannel.ofJob().orElse("");
            lru.add(id, bytes, team);
            meterTeam(team);
            holdings.held(id, keys(kind, name, key), bytes, TeamChannel.ofJob().orElse(null));
        }
        makeRoom(0);
    }

    /** A team's share of the disk, from its first entry on (at zero once it holds nothing). */
    private void meterTeam(String team) {
        if (teamsMetered.add(team)) {
            Gauge.builder("stagefarm.worker.disk.team.used", this, b -> b.usedBy(team))
                    .tag("worker", worker)
                    .tag("team", team.isEmpty() ? "(none)" : team)
                    .baseUnit("bytes")
                    .description("the bytes a team's entries take on the worker's disk; the team holding the"
                            + " most is evicted from first")
                    .register(meters);
        }
    }

    private synchronized long usedBy(String team) {
        return lru.usedByTeam().getOrDefault(team, 0L);
    }

    /** An entry is now also found by {@code key} (a snapshot's alias). */
    public synchronized void alsoKnownAs(Kind kind, String name, String key) {
        String id = id(kind, name);
        if (lru.contains(id)) {
            holdings.held(id, keys(kind, name, key), -1, TeamChannel.ofJob().orElse(null));
        }
    }

    /**
     * The keys the coordinator knows an entry by: blobs and artifacts by digest, contexts by
     * theirs, snapshots only when they hold one layer (key {@code layer:<diffID>}), which is how
     * jobs name their inputs; a step's own snapshot keys mean nothing outside this worker.
     */
    private static List<String> keys(Kind kind, String name, String key) {
        return switch (kind) {
            case BLOB, ARTIFACT -> List.of("sha256:" + name);
            case CONTEXT -> List.of("context:sha256:" + name);
            case SNAPSHOT -> key != null && key.startsWith("layer:") ? List.of("snapshot:" + key) : List.of();
        };
    }

    /** Evicts until {@code incoming} more bytes fit, as far as unpinned entries allow. */
    public void makeRoom(long incoming) {
        if (budget == 0) {
            return;
        }
        List<Deletion> deletions = new ArrayList<>();
        long freed = 0;
        synchronized (this) {
            for (LruPolicy.Victim v : lru.evict(budget, incoming)) {
                int colon = v.id().indexOf(':');
                Kind kind = Kind.valueOf(v.id().substring(0, colon));
                String name = v.id().substring(colon + 1);
                try {
                    deletions.add(removers.get(kind).unlink(name));
                    holdings.evicted(v.id());
                    freed += v.bytes();
                    log.info(
                            "evicted {} {} ({}, team {}) to stay under --max-local-size {}",
                            kind.name().toLowerCase(java.util.Locale.ROOT),
                            name,
                            Units.formatSize(v.bytes()),
                            v.team().isEmpty() ? "(none)" : v.team(),
                            Units.formatSize(budget));
                } catch (IOException | RuntimeException e) {
                    log.warn("could not evict {}: {}", v.id(), e.toString());
                }
            }
        }
        evicted.increment(freed);
        for (Deletion d : deletions) {
            try {
                d.run();
            } catch (IOException e) {
                log.warn("could not delete an evicted entry: {}", e.toString());
            }
        }
    }

    /** Pins what the calling job uses until it closes the lease; run the job in {@link Lease#call}. */
    public Lease lease() {
        return new Lease();
    }

    private static String id(Kind kind, String name) {
        return kind.name() + ":" + name;
    }

    /** One job's pins: taken as it looks entries up or creates them, released when it ends. */
    public final class Lease implements AutoCloseable {
        private final Set<String> pinned = new HashSet<>();
        private boolean closed;

        /** Runs {@code work} so that what it uses, on this thread or in tasks that carry its gRPC context, is pinned. */
        public <T> T call(Callable<T> work) throws Exception {
            return Context.current().withValue(LEASE, this).call(work);
        }

        /** Called under the budget's lock. */
        private void pin(String id) {
            if (!closed && pinned.add(id)) {
                lru.pin(id);
            }
        }

        /** Unpins everything and evicts what the job's end lets go. */
        @Override
        public void close() {
            synchronized (DiskBudget.this) {
                if (closed) {
                    return;
                }
                closed = true;
                pinned.forEach(lru::unpin);
                pinned.clear();
            }
            makeRoom(0);
        }
    }
}
