package dev.stagefarm.cacheserver.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.cacheserver.TestServers;
import dev.stagefarm.common.Digest;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.DBOptions;
import org.rocksdb.RocksDB;

/** A store written before namespaces opens with its contents in the default namespace. */
class StoreFormatTest {

    @TempDir
    Path dir;

    @Test
    void aStoreFromBeforeNamespacesIsMovedIntoTheDefaultNamespace() throws Exception {
        byte[] data = TestServers.randomBytes((3 << 20) / 2, 5); // two chunks
        Digest digest = Digest.of(data);
        writeLegacyStore(data, digest, "step-1", "result".getBytes());

        try (RocksStore rocks = RocksStore.open(dir, Clock.systemUTC())) {
            NamespaceStore store = rocks.in(Namespace.DEFAULT);
            assertThat(store.contains(digest)).isTrue();
            assertThat(readAll(store.openRead(digest, 0, 0))).isEqualTo(data);
            assertThat(store.getAction("step-1")).contains("result".getBytes());
            assertThat(store.usage().blobCount()).isEqualTo(1);
            assertThat(store.usage().storedBytes()).isEqualTo(data.length);
            NamespaceStore team = rocks.in(new Namespace("team-a"));
            assertThat(team.missing(List.of(digest))).isEqualTo(Set.of(digest));
            assertThat(team.getAction("step-1")).isEmpty();
            assertThat(store.prune(0, Duration.ZERO).blobsDeleted())
                    .as("the LRU index moved too")
                    .isEqualTo(1);
        }
        try (RocksStore rocks = RocksStore.open(dir, Clock.systemUTC())) {
            NamespaceStore reopened = rocks.in(Namespace.DEFAULT);
            assertThat(reopened.getAction("step-1"))
                    .as("opening again moves nothing twice")
                    .contains("result".getBytes());
            assertThat(reopened.usage().blobCount()).isZero();
        }
    }

    private static byte[] readAll(BlobReader reader) throws Exception {
        try (reader) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            for (ByteBuffer b = reader.next(); b != null; b = reader.next()) {
                byte[] bytes = new byte[b.remaining()];
                b.get(bytes);
                out.write(bytes);
            }
            return out.toByteArray();
        }
    }

    /** Rows as the store wrote them before namespaces: digest-keyed, no prefix, no version row. */
    private void writeLegacyStore(byte[] data, Digest digest, String actionKey, byte[] action) throws Exception {
        List<ColumnFamilyDescriptor> descriptors = new ArrayList<>();
        descriptors.add(new ColumnFamilyDescriptor(RocksDB.DEFAULT_COLUMN_FAMILY));
        for (String name : List.of(
                RocksDatabase.CHUNKS,
                RocksDatabase.META,
                RocksDatabase.ACTIONS,
                RocksDatabase.MOUNTS,
                RocksDatabase.UPLOADS,
                RocksDatabase.LRU)) {
            descriptors.add(new ColumnFamilyDescriptor(name.getBytes()));
        }
        List<ColumnFamilyHandle> cfs = new ArrayList<>();
        byte[] raw = HexFormat.of().parseHex(digest.hex());
        long now = System.currentTimeMillis();
        try (DBOptions options = new DBOptions().setCreateIfMissing(true).setCreateMissingColumnFamilies(true);
                RocksDB db = RocksDB.open(options, dir.toString(), descriptors, cfs)) {
            try {
                for (int i = 0; i * RocksStore.CHUNK_SIZE < data.length; i++) {
                    byte[] chunk = Arrays.copyOfRange(
                            data, i * RocksStore.CHUNK_SIZE, Math.min(data.length, (i + 1) * RocksStore.CHUNK_SIZE));
                    db.put(
                            cfs.get(1),
                            ByteBuffer.allocate(40).put(raw).putLong(i).array(),
                            chunk);
                }
                // a store from before namespaces also predates chunk checksums: version 1, unsealed chunks
                db.put(
                        cfs.get(2),
                        raw,
                        new BlobMeta(BlobMeta.UNSEALED, data.length, RocksStore.CHUNK_SIZE, now, now).encode());
                db.put(cfs.get(3), actionKey.getBytes(), action);
                db.put(
                        cfs.get(6),
                        ByteBuffer.allocate(40)
                                .order(ByteOrder.BIG_ENDIAN)
                                .putLong(now)
                                .put(raw)
                                .array(),
                        ByteBuffer.allocate(8).putLong(data.length).array());
            } finally {
                cfs.forEach(ColumnFamilyHandle::close);
            }
        }
    }
}
