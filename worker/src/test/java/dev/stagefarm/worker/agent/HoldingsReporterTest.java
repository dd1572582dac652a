package dev.stagefarm.worker.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.proto.farm.Holding;
import dev.stagefarm.proto.farm.WorkerHoldings;
import dev.stagefarm.proto.farm.WorkerMessage;
import dev.stagefarm.worker.disk.Holdings;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** What a session with the coordinator is told of the worker's disk: the full set first, then batched changes. */
class HoldingsReporterTest {

    private final Holdings holdings = new Holdings();

    private static WorkerHoldings next(BlockingQueue<WorkerMessage> sent) throws InterruptedException {
        WorkerMessage m = sent.poll(5, TimeUnit.SECONDS);
        assertThat(m).as("a holdings message").isNotNull();
        return m.getHoldings();
    }

    private static List<String> keys(List<Holding> hs) {
        return hs.stream().map(h -> h.getTeam() + "/" + h.getKey()).toList();
    }

    @Test
    void aSessionGetsTheFullSetThenChangesInBatchesAndANewSessionTheFullSetAgain() throws Exception {
        holdings.held("BLOB:go", List.of("sha256:go"), 300, "a");
        try (HoldingsReporter reporter = new HoldingsReporter(holdings)) {
            BlockingQueue<WorkerMessage> first = new LinkedBlockingQueue<>();
            reporter.connected(first::add);
            WorkerHoldings full = next(first);
            assertThat(full.getFull()).isTrue();
            assertThat(keys(full.getAddedList())).containsExactly("a/sha256:go");

            for (int i = 0; i < 1500; i++) {
                holdings.held("BLOB:" + i, List.of("sha256:" + i), 1, "b");
            }
            holdings.evicted("BLOB:go");
            int added = 0;
            List<String> evicted = new java.util.ArrayList<>();
            while (added < 1500 || evicted.isEmpty()) {
                WorkerHoldings batch = next(first);
                assertThat(batch.getFull()).isFalse();
                assertThat(batch.getAddedCount() + batch.getEvictedCount())
                        .as("at most 1,000 entries a message")
                        .isLessThanOrEqualTo(1000);
                added += batch.getAddedCount();
                evicted.addAll(keys(batch.getEvictedList()));
            }
            assertThat(added).isEqualTo(1500);
            assertThat(evicted).containsExactly("a/sha256:go");
            assertThat(first.poll(1200, TimeUnit.MILLISECONDS))
                    .as("nothing changed: nothing sent")
                    .isNull();

            reporter.disconnected();
            holdings.held("BLOB:late", List.of("sha256:late"), 1, "b");
            BlockingQueue<WorkerMessage> second = new LinkedBlockingQueue<>();
            reporter.connected(second::add);
            WorkerHoldings again = next(second);
            assertThat(again.getFull()).isTrue();
            assertThat(again.getAddedCount()).isEqualTo(1000);
            assertThat(next(second).getFull()).as("the rest of the full set").isFalse();
            assertThat(first).as("the old session hears nothing more").isEmpty();
        }
    }
}
