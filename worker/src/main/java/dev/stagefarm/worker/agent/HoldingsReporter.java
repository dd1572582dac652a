package dev.stagefarm.worker.agent;

import dev.stagefarm.proto.farm.Holding;
import dev.stagefarm.proto.farm.WorkerHoldings;
import dev.stagefarm.proto.farm.WorkerMessage;
import dev.stagefarm.worker.disk.Holdings;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Tells the coordinator what this worker holds, for placing jobs where their inputs are: the
 * full set when a session opens, then what changed, batched every {@link #PERIOD} (nothing
 * changed: nothing sent), at most {@link #PER_MESSAGE} entries a message. Everything runs on one
 * thread, so a session's full set always goes before its first change.
 */
final class HoldingsReporter implements AutoCloseable {

    static final Duration PERIOD = Duration.ofMillis(500);
    static final int PER_MESSAGE = 1000;

    private final Holdings holdings;
    private final ScheduledExecutorService thread = Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().name("holdings-report").daemon().factory());
    /** The session that had its full set, and gets the changes; null between sessions. */
    private volatile Consumer<WorkerMessage> session;

    HoldingsReporter(Holdings holdings) {
        this.holdings = holdings;
        thread.scheduleWithFixedDelay(this::flush, PERIOD.toMillis(), PERIOD.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** A session opened: it gets the full set first. */
    void connected(Consumer<WorkerMessage> to) {
        session = null;
        try {
            thread.execute(() -> {
                List<Holdings.Item> all = holdings.full();
                int i = 0;
                do {
                    List<Holdings.Item> chunk = all.subList(i, Math.min(all.size(), i + PER_MESSAGE));
                    to.accept(message(i == 0, chunk, List.of()));
                    i += PER_MESSAGE;
                } while (i < all.size());
                session = to;
            });
        } catch (RejectedExecutionException closed) {
            // the worker is stopping
        }
    }

    /** The session ended: changes wait for the next one, whose full set includes them. */
    void disconnected() {
        session = null;
    }

    private void flush() {
        Consumer<WorkerMessage> to = session;
        if (to == null) {
            return; // changes wait; the next session's full set includes them
        }
        for (Holdings.Changes c = holdings.drain(PER_MESSAGE); !c.isEmpty(); c = holdings.drain(PER_MESSAGE)) {
            to.accept(message(false, c.added(), c.evicted()));
        }
    }

    private static WorkerMessage message(boolean full, List<Holdings.Item> added, List<Holdings.Item> evicted) {
        WorkerHoldings.Builder h = WorkerHoldings.newBuilder().setFull(full);
        added.forEach(i -> h.addAdded(holding(i)));
        evicted.forEach(i -> h.addEvicted(holding(i)));
        return WorkerMessage.newBuilder().setHoldings(h).build();
    }

    private static Holding holding(Holdings.Item i) {
        return Holding.newBuilder()
                .setTeam(i.team())
                .setKey(i.key())
                .setSize(i.size())
                .build();
    }

    @Override
    public void close() {
        thread.shutdownNow();
    }
}
