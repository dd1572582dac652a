package dev.stagefarm.cacheserver;

import dev.stagefarm.common.Digest;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import org.rocksdb.ReadOptions;

/**
 * Streams a range of a blob from a RocksDB snapshot while hashing the whole blob. Chunks
 * before the range are hashed and skipped; after the range's last chunk is read, the rest
 * of the blob is hashed and compared before that chunk is handed out.
 */
final class RocksBlobReader implements BlobReader {

    private final RocksStore store;
    private final BlobId id;
    private final Digest digest;
    private final BlobMeta meta;
    private final long from;
    private final long to;
    private final ReadOptions readOptions;
    private final MessageDigest sha256 = Digest.newSha256();
    private long nextChunk;
    private boolean finished;
    private boolean closed;

    RocksBlobReader(RocksStore store, BlobId id, BlobMeta meta, long from, long to, ReadOptions readOptions) {
        this.store = store;
        this.id = id;
        this.digest = id.digest();
        this.meta = meta;
        this.from = from;
        this.to = to;
        this.readOptions = readOptions;
        // Start hashing at chunk 0 even for a ranged read: only the whole blob can be verified.
        this.nextChunk = 0;
    }

    @Override
    public long blobSize() {
        return meta.size();
    }

    @Override
    public ByteBuffer next() throws StoreException {
        if (finished || from >= to) {
            finished = true;
            return null;
        }
        while (nextChunk < meta.chunkCount()) {
            long index = nextChunk++;
            byte[] chunk = store.readChunk(readOptions, id, index, meta.chunkLength(index));
            sha256.update(chunk);
            long chunkStart = index * meta.chunkSize();
            long start = Math.max(from, chunkStart);
            long end = Math.min(to, chunkStart + chunk.length);
            if (start >= end) {
                continue;
            }
            if (end == to) {
                verifyRest();
                finished = true;
            }
            return ByteBuffer.wrap(chunk, (int) (start - chunkStart), (int) (end - start)).slice();
        }
        throw new IllegalStateException("range [" + from + ", " + to + ") lies outside " + digest);
    }

    /** Hashes the chunks after the range and checks the digest of the whole blob. */
    private void verifyRest() throws StoreException {
        while (nextChunk < meta.chunkCount()) {
            long index = nextChunk++;
            sha256.update(store.readChunk(readOptions, id, index, meta.chunkLength(index)));
        }
        Digest actual = Digest.fromBytes(sha256.digest());
        if (!actual.equals(digest)) {
            throw store.quarantine(id, "its bytes hash to " + actual);
        }
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            store.releaseSnapshot(readOptions);
        }
    }
}
