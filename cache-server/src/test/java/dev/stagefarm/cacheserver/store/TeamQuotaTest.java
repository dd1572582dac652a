package dev.stagefarm.cacheserver.store;

import static dev.stagefarm.cacheserver.TestServers.randomBytes;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.stagefarm.common.Digest;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A team that fills the cache past its quota loses its own least recently used blobs, never
 * another team's, however old theirs are.
 */
class TeamQuotaTest {

    private static final int MiB = 1 << 20;

    @TempDir
    Path dir;

    private final MutableClock clock = new MutableClock();
    private RocksStore rocks;

    @BeforeEach
    void open() throws StoreException {
        Map<String, Long> quotas = Map.of("greedy", 4L * MiB);
        rocks = RocksStore.open(
                dir, StoreOptions.DEFAULTS.withTeamQuotas(team -> quotas.getOrDefault(team, 0L)), clock);
    }

    @AfterEach
    void close() {
        rocks.close();
    }

    private Digest put(NamespaceStore store, int size, long seed) throws StoreException {
        byte[] data = randomBytes(size, seed);
        Digest digest = Digest.of(data);
        BlobWriter writer = store.openWrite(digest, size).orElseThrow();
        writer.write(0, ByteBuffer.wrap(data));
        writer.commit();
        clock.advance(Duration.ofMinutes(2));
        return digest;
    }

    @Test
    void aTeamOverItsQuotaEvictsOnlyItsOwnOldestBlobs() throws Exception {
        NamespaceStore modest = rocks.in(new Namespace("modest"));
        NamespaceStore greedy = rocks.in(new Namespace("greedy"));
        // the modest team's blobs are the oldest in the whole cache
        List<Digest> modests = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            modests.add(put(modest, MiB, 100 + i));
        }
        List<Digest> greedies = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            greedies.add(put(greedy, MiB, i));
        }

        await().atMost(Duration.ofSeconds(10)).until(() -> greedy.usage().storedBytes() <= 4L * MiB);
        assertThat(modest.usage().storedBytes()).as("the other team's bytes").isEqualTo(3L * MiB);
        for (Digest d : modests) {
            assertThat(modest.contains(d)).isTrue();
        }
        // the greedy team keeps its newest blobs (at most its quota; each pass goes down to 95% of it)
        long kept = greedy.usage().blobCount();
        assertThat(kept).isBetween(3L, 4L);
        for (int i = 0; i < greedies.size(); i++) {
            assertThat(greedy.contains(greedies.get(i))).as("blob %d of 10", i).isEqualTo(i >= 10 - kept);
        }
        assertThat(rocks.evictedBlobs()).isEqualTo(10 - kept);
    }

    @Test
    void aTeamWithoutAQuotaIsBoundOnlyByTheServer() throws Exception {
        NamespaceStore free = rocks.in(new Namespace("free"));
        for (int i = 0; i < 6; i++) {
            put(free, MiB, i);
        }
        assertThat(rocks.evictTeamsOverQuota().blobsDeleted()).isZero();
        assertThat(free.usage().storedBytes()).isEqualTo(6L * MiB);
    }
}
