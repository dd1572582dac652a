package dev.stagefarm.cacheserver.store;

import static dev.stagefarm.cacheserver.TestServers.randomBytes;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.stagefarm.common.Digest;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Size accounting, least-recently-used eviction under --max-size, and prune by size and by age. */
class StoreBudgetTest {

    private static final int MiB = 1 << 20;

    @TempDir
    Path dir;

    private final MutableClock clock = new MutableClock();
    private RocksStore rocks;
    private NamespaceStore store;

    @AfterEach
    void close() {
        if (rocks != null) {
            rocks.close();
        }
    }

    private void open(long maxBytes) throws StoreException {
        if (rocks != null) {
            rocks.close();
        }
        rocks = RocksStore.open(dir, StoreOptions.DEFAULTS.withMaxBytes(maxBytes), clock);
        store = rocks.in(Namespace.DEFAULT);
    }

    /** Writes a blob through the streaming writer, then lets a minute pass. */
    private Digest put(int size, long seed) throws StoreException {
        byte[] data = randomBytes(size, seed);
        Digest digest = Digest.of(data);
        BlobWriter writer = store.openWrite(digest, size).orElseThrow();
        writer.write(0, ByteBuffer.wrap(data));
        writer.commit();
        clock.advance(Duration.ofMinutes(2));
        return digest;
    }

    private void read(Digest digest) throws StoreException {
        try (BlobReader reader = store.openRead(digest, 0, 0)) {
            while (reader.next() != null) {
                // drain: the read is what counts as a use
            }
        }
        clock.advance(Duration.ofMinutes(2));
    }

    @Test
    void usageCountsBlobsAndBytesAndSurvivesARestart() throws Exception {
        open(0);
        put(3 * MiB + 7, 1);
        Digest small = put(100, 2);
        assertThat(store.putSmall(Digest.of(randomBytes(10, 3)), randomBytes(10, 3)))
                .isTrue();
        assertThat(store.putSmall(Digest.of(randomBytes(10, 3)), randomBytes(10, 3)))
                .as("second time")
                .isFalse();
        store.putAction("k1", new byte[] {1});
        store.putAction("k1", new byte[] {2});
        store.putAction("k2", new byte[] {3});

        Usage usage = store.usage();
        assertThat(usage.blobCount()).isEqualTo(3);
        assertThat(usage.storedBytes()).isEqualTo(3L * MiB + 7 + 100 + 10);
        assertThat(usage.actionEntries()).isEqualTo(2);

        store.delete(small);
        open(0);
        assertThat(store.usage().blobCount()).isEqualTo(2);
        assertThat(store.usage().storedBytes()).isEqualTo(3L * MiB + 7 + 10);
        assertThat(store.usage().actionEntries()).isEqualTo(2);
    }

    @Test
    void overTheBudgetTheLeastRecentlyUsedBlobGoesAndARecentlyReadOneStays() throws Exception {
        open(4 * MiB + MiB / 2);
        Digest a = put(MiB, 10);
        Digest b = put(MiB, 11);
        Digest c = put(MiB, 12);
        Digest d = put(MiB, 13);
        read(a); // a is now more recent than b, c and d
        Digest e = put(MiB, 14); // 5 MiB > 4.5 MiB

        rocks.evictIfOverBudget();
        Set<Digest> missing = store.missing(List.of(a, b, c, d, e));
        assertThat(missing).containsExactly(b);
        assertThat(store.usage().storedBytes()).isEqualTo(4L * MiB);
        assertThat(store.usage().evictedBlobs()).isEqualTo(1);
        assertThat(store.usage().evictedBytes()).isEqualTo(MiB);
    }

    @Test
    void aFindMissingHitCountsAsAUse() throws Exception {
        open(2 * MiB + MiB / 2);
        Digest a = put(MiB, 20);
        Digest b = put(MiB, 21);
        assertThat(store.missing(List.of(a))).isEmpty();
        clock.advance(Duration.ofMinutes(2));
        put(MiB, 22);

        rocks.evictIfOverBudget();
        assertThat(store.contains(a)).isTrue();
        assertThat(store.contains(b)).isFalse();
    }

    @Test
    void theBudgetIsKeptWhileServingWithoutAnyoneAsking() throws Exception {
        open(8 * MiB);
        List<Digest> all = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            all.add(put(MiB, 100 + i));
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> store.usage().storedBytes() <= 8 * MiB);
        assertThat(store.usage().storedBytes()).isLessThanOrEqualTo(8L * MiB);
        // The newest blobs are the ones kept.
        assertThat(store.contains(all.get(19))).isTrue();
        assertThat(store.contains(all.get(0))).isFalse();
    }

    @Test
    void aBlobLargerThanTheWholeBudgetIsRefused() throws Exception {
        open(MiB);
        byte[] data = randomBytes(MiB + 1, 30);
        assertThatThrownBy(() -> store.openWrite(Digest.of(data), data.length))
                .isInstanceOf(BlobTooLargeException.class)
                .hasMessageContaining("--max-size");
        assertThatThrownBy(() -> store.putSmall(Digest.of(data), data)).isInstanceOf(BlobTooLargeException.class);
    }

    @Test
    void pruneToAKeepSizeRemovesTheOldestFirst() throws Exception {
        open(0);
        Digest a = put(MiB, 40);
        Digest b = put(MiB, 41);
        Digest c = put(MiB, 42);
        read(a);

        PruneResult result = store.prune(2 * MiB, Duration.ZERO);
        assertThat(result.blobsDeleted()).isEqualTo(1);
        assertThat(result.bytesFreed()).isEqualTo(MiB);
        assertThat(result.storedBytes()).isEqualTo(2L * MiB);
        assertThat(store.missing(List.of(a, b, c))).containsExactly(b);
    }

    @Test
    void pruneByAgeRemovesOnlyBlobsUnusedForThatLong() throws Exception {
        open(0);
        Digest old = put(100, 50);
        clock.advance(Duration.ofHours(30));
        Digest usedRecently = put(100, 51);
        Digest oldButRead = put(100, 52);
        clock.advance(Duration.ofHours(30));
        read(oldButRead);
        clock.advance(Duration.ofHours(1));

        PruneResult result = store.prune(0, Duration.ofHours(24));
        assertThat(result.blobsDeleted()).isEqualTo(2);
        assertThat(store.missing(List.of(old, usedRecently, oldButRead))).containsExactlyInAnyOrder(old, usedRecently);
        assertThat(store.usage().blobCount()).isEqualTo(1);
    }

    @Test
    void pruneByAgeAndSizeStopsAtTheSizeAmongOldBlobs() throws Exception {
        open(0);
        Digest first = put(MiB, 60);
        Digest second = put(MiB, 61);
        clock.advance(Duration.ofDays(2));
        Digest fresh = put(MiB, 62);

        // Only the two old blobs are candidates, and deleting one reaches 2 MiB.
        PruneResult result = store.prune(2 * MiB, Duration.ofHours(24));
        assertThat(result.blobsDeleted()).isEqualTo(1);
        // contains(), unlike a FindMissing hit, is not a use.
        assertThat(store.contains(first)).isFalse();
        assertThat(store.contains(second)).isTrue();
        // Nothing is old enough any more: a tighter size does not touch the fresh blob.
        assertThat(store.prune(1, Duration.ofHours(24)).blobsDeleted()).isEqualTo(1);
        assertThat(store.contains(fresh)).isTrue();
    }
}
