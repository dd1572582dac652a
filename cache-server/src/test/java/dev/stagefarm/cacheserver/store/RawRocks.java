package dev.stagefarm.cacheserver.store;

import dev.stagefarm.common.Digest;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.DBOptions;
import org.rocksdb.Options;
import org.rocksdb.RocksDB;

/** Opens a closed store's database directly, bypassing RocksStore, to damage it like a bad disk would. */
public final class RawRocks {

    private RawRocks() {}

    /** Flips a byte of a chunk's bytes (not of its checksum) and writes the chunk back, as a bad disk would. */
    public static void flipByte(Path dir, Digest digest, long chunk, int offset) throws Exception {
        edit(dir, (db, names, handles) -> {
            ColumnFamilyHandle chunks = handles.get(indexOf(names, RocksDatabase.CHUNKS));
            byte[] key = Keys.chunk(new BlobId(Namespace.DEFAULT, digest), chunk);
            byte[] value = db.get(chunks, key);
            value[offset] ^= 0x5a;
            db.put(chunks, key, value);
        });
    }

    /**
     * Rewrites a stored blob as a store from before chunk checksums kept it: chunks without their
     * CRC32C trailer, {@code blob_meta} version 1.
     */
    public static void unseal(Path dir, Digest digest) throws Exception {
        edit(dir, (db, names, handles) -> {
            ColumnFamilyHandle chunks = handles.get(indexOf(names, RocksDatabase.CHUNKS));
            ColumnFamilyHandle meta = handles.get(indexOf(names, RocksDatabase.META));
            BlobId id = new BlobId(Namespace.DEFAULT, digest);
            byte[] metaKey = Keys.blob(id);
            BlobMeta blob = BlobMeta.decode(db.get(meta, metaKey));
            for (long i = 0; i < blob.chunkCount(); i++) {
                byte[] key = Keys.chunk(id, i);
                byte[] value = db.get(chunks, key);
                db.put(chunks, key, Arrays.copyOf(value, value.length - ChunkSeal.TRAILER));
            }
            db.put(
                    meta,
                    metaKey,
                    new BlobMeta(
                                    BlobMeta.UNSEALED,
                                    blob.size(),
                                    blob.chunkSize(),
                                    blob.createdMillis(),
                                    blob.lastAccessMillis())
                            .encode());
        });
    }

    private interface Edit {
        void apply(RocksDB db, List<byte[]> names, List<ColumnFamilyHandle> handles) throws Exception;
    }

    private static void edit(Path dir, Edit edit) throws Exception {
        List<byte[]> names;
        try (Options options = new Options()) {
            names = RocksDB.listColumnFamilies(options, dir.toString());
        }
        List<ColumnFamilyDescriptor> descriptors =
                names.stream().map(ColumnFamilyDescriptor::new).toList();
        List<ColumnFamilyHandle> handles = new ArrayList<>();
        try (DBOptions options = new DBOptions();
                RocksDB db = RocksDB.open(options, dir.toString(), descriptors, handles)) {
            try {
                edit.apply(db, names, handles);
            } finally {
                handles.forEach(ColumnFamilyHandle::close);
            }
        }
    }

    private static int indexOf(List<byte[]> names, String name) {
        for (int i = 0; i < names.size(); i++) {
            if (new String(names.get(i)).equals(name)) {
                return i;
            }
        }
        throw new IllegalArgumentException("no column family " + name);
    }
}
