package dev.stagefarm.cacheserver.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.stagefarm.cacheserver.store.RocksDatabase.Family;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rocksdb.ReadOptions;

/** The one owner of the native handles: how its failures read, and what stays safe after close. */
class RocksDatabaseTest {

    @TempDir
    Path dir;

    @Test
    void aSecondServerOnTheSameDataDirectoryIsRefusedWithASentenceNamingIt() throws Exception {
        try (RocksDatabase first = RocksDatabase.open(dir, StoreOptions.DEFAULTS)) {
            assertThatThrownBy(() -> RocksDatabase.open(dir, StoreOptions.DEFAULTS))
                    .isInstanceOf(StorageFailureException.class)
                    .hasMessageStartingWith("the cache's storage failed while opening " + dir)
                    .hasMessageContaining("see the cache-server log");
            assertThat(first.get(Family.META, new byte[] {1}, "reading ", "a row"))
                    .isNull();
        }
        // The failed open left nothing behind that keeps the directory locked.
        try (RocksDatabase again = RocksDatabase.open(dir, StoreOptions.DEFAULTS)) {
            assertThat(again.isClosed()).isFalse();
        }
    }

    @Test
    void aBatchIsWrittenWholeAndACursorWalksItsFamilyInKeyOrder() throws Exception {
        try (RocksDatabase db = RocksDatabase.open(dir, StoreOptions.DEFAULTS)) {
            try (RocksBatch batch = db.batch("writing ", "rows")) {
                batch.put(Family.ACTIONS, bytes("b"), bytes("2"));
                batch.put(Family.ACTIONS, bytes("a"), bytes("1"));
                batch.put(Family.META, bytes("a"), bytes("other family"));
                assertThat(db.get(Family.ACTIONS, bytes("a"), "reading ", "a")).isNull();
                batch.write();
            }
            StringBuilder walked = new StringBuilder();
            try (RocksCursor it = db.cursor(Family.ACTIONS, "walking ", "actions")) {
                for (it.seekToFirst(); it.isValid(); it.next()) {
                    walked.append(new String(it.key(), StandardCharsets.UTF_8))
                            .append('=')
                            .append(new String(it.value(), StandardCharsets.UTF_8))
                            .append(' ');
                }
                it.check();
            }
            assertThat(walked.toString()).isEqualTo("a=1 b=2 ");
        }
    }

    @Test
    void aReadStillOpenWhenTheStoreClosesIsReleasedWithoutTouchingTheFreedDatabase() throws Exception {
        RocksDatabase db = RocksDatabase.open(dir, StoreOptions.DEFAULTS);
        ReadOptions read = db.snapshotReads();
        db.close();
        db.release(read);
        assertThat(db.isClosed()).isTrue();
        db.close(); // a second close is harmless
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
