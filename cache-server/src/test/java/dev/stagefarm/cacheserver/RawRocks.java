package dev.stagefarm.cacheserver;

import dev.stagefarm.common.Digest;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.DBOptions;
import org.rocksdb.Options;
import org.rocksdb.RocksDB;

/** Opens a closed store's database directly, bypassing RocksStore, to damage it like a bad disk would. */
final class RawRocks {

    private RawRocks() {}

    static void flipByte(Path dir, Digest digest, long chunk, int offset) throws Exception {
        List<byte[]> names;
        try (Options options = new Options()) {
            names = RocksDB.listColumnFamilies(options, dir.toString());
        }
        List<ColumnFamilyDescriptor> descriptors = names.stream().map(ColumnFamilyDescriptor::new).toList();
        List<ColumnFamilyHandle> handles = new ArrayList<>();
        try (DBOptions options = new DBOptions();
             RocksDB db = RocksDB.open(options, dir.toString(), descriptors, handles)) {
            try {
                ColumnFamilyHandle chunks = handles.get(indexOf(names, RocksStore.CHUNKS));
                byte[] key = Keys.chunk(new BlobId(Namespace.DEFAULT, digest), chunk);
                byte[] value = db.get(chunks, key);
                value[offset] ^= 0x5a;
                db.put(chunks, key, value);
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
