package dev.stagefarm.cacheserver.store;

import dev.stagefarm.cacheserver.store.RocksDatabase.Family;
import dev.stagefarm.common.Digest;
import java.nio.ByteBuffer;
import java.time.Clock;
import java.util.Arrays;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDB;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads of stored chunks, each checked before any of its bytes leave: present, of the expected
 * length and, for a sealed blob, matching its CRC32C. A chunk that fails makes its blob corrupt,
 * and the blob is removed ({@link #quarantine}) so the next FindMissing asks for it again.
 */
final class ChunkReads {

    private static final Logger log = LoggerFactory.getLogger(ChunkReads.class);

    private final RocksDatabase db;
    private final BlobRows rows;
    private final AccessTimes accessTimes;
    private final Clock clock;

    ChunkReads(RocksDatabase db, BlobRows rows, AccessTimes accessTimes, Clock clock) {
        this.db = db;
        this.rows = rows;
        this.accessTimes = accessTimes;
        this.clock = clock;
    }

    /** A reader of {@code limit} bytes (0: to the end) of a blob from {@code offset}, on a snapshot. */
    BlobReader open(BlobId id, long offset, long limit) throws StoreException {
        Digest digest = id.digest();
        if (offset < 0 || limit < 0) {
            throw new IllegalArgumentException("offset and limit must not be negative");
        }
        BlobMeta m = rows.loadMeta(id).orElseThrow(() -> new BlobNotFoundException(digest));
        accessTimes.accessed(id, m.lastAccessMillis(), clock.millis());
        if (offset > m.size()) {
            throw new InvalidRangeException(digest, offset, m.size());
        }
        long end = limit == 0 ? m.size() : Math.min(m.size(), offset + limit);
        return new RocksBlobReader(this, id, m, offset, end, db.snapshotReads());
    }

    void release(ReadOptions readOptions) {
        db.release(readOptions);
    }

    /**
     * Chunk {@code index} of a stored blob, checked. With {@code scratch} (at least {@link
     * #scratchFor} bytes) the chunk is read into it rather than into a new array, and the buffer
     * returned is a view of it.
     */
    ByteBuffer readChunk(ReadOptions readOptions, BlobId digest, BlobMeta blob, long index, byte[] scratch)
            throws StoreException {
        byte[] data;
        int stored;
        if (scratch == null) {
            data = db.get(Family.CHUNKS, readOptions, Keys.chunk(digest, index), "reading a chunk of ", digest);
            stored = data == null ? RocksDB.NOT_FOUND : data.length;
        } else {
            data = scratch;
            stored = db.get(
                    Family.CHUNKS, readOptions, Keys.chunk(digest, index), scratch, "reading a chunk of ", digest);
        }
        return checked(digest, blob, index, stored, data == null ? null : ByteBuffer.wrap(data));
    }

    /**
     * As {@link #readChunk(ReadOptions, BlobId, BlobMeta, long, byte[])}, into direct buffers:
     * {@code key} (room for a chunk key) and {@code scratch} (at least {@link #scratchFor} bytes).
     * RocksDB copies the value straight into {@code scratch}, and a socket channel writes it
     * without the JDK's copy into a temporary direct buffer.
     */
    ByteBuffer readChunk(
            ReadOptions readOptions, BlobId digest, BlobMeta blob, long index, ByteBuffer key, ByteBuffer scratch)
            throws StoreException {
        key.clear().put(Keys.chunk(digest, index)).flip();
        scratch.clear();
        int stored = db.get(Family.CHUNKS, readOptions, key, scratch, "reading a chunk of ", digest);
        return checked(digest, blob, index, stored, scratch);
    }

    /**
     * The chunk's bytes in {@code buffer}, where {@code stored} bytes were read (all of the value,
     * when it fit), once they prove to be the chunk written: present, of the expected length and,
     * for a sealed blob, matching its CRC32C. Otherwise the blob is corrupt, and removed.
     */
    private ByteBuffer checked(BlobId digest, BlobMeta blob, long index, int stored, ByteBuffer buffer)
            throws StoreException {
        if (stored == RocksDB.NOT_FOUND) {
            throw quarantine(digest, "chunk " + index + " is missing");
        }
        int expected = blob.chunkLength(index);
        if (!blob.sealed()) {
            if (stored != expected) {
                throw quarantine(digest, "chunk " + index + " has " + stored + " bytes, expected " + expected);
            }
            return buffer.slice(0, stored);
        }
        // A longer value than the buffer holds fails here too: it cannot be the chunk written.
        ByteBuffer chunk = stored <= buffer.capacity() ? ChunkSeal.open(buffer, stored, expected) : null;
        if (chunk == null) {
            throw quarantine(
                    digest,
                    "chunk " + index + " does not match its checksum (" + stored + " bytes stored for " + expected
                            + ")");
        }
        return chunk;
    }

    /** The scratch array {@link #readChunk(ReadOptions, BlobId, BlobMeta, long, byte[])} needs for {@code blob}. */
    static int scratchFor(BlobMeta blob) {
        return (int) Math.min(blob.chunkSize(), blob.size()) + (blob.sealed() ? ChunkSeal.TRAILER : 0);
    }

    /** The bytes of an unfinished upload's chunk; null when it is missing or does not match its checksum. */
    byte[] readUploadChunk(BlobId digest, long index, int expectedLength) throws StoreException {
        byte[] data = db.get(Family.CHUNKS, Keys.chunk(digest, index), "reading a chunk of the upload of ", digest);
        ByteBuffer chunk = data == null ? null : ChunkSeal.open(ByteBuffer.wrap(data), data.length, expectedLength);
        return chunk == null ? null : Arrays.copyOf(data, expectedLength);
    }

    /** Removes a blob that failed verification and returns the exception to throw. */
    BlobCorruptException quarantine(BlobId id, String what) throws StoreException {
        log.error("cache-server: blob {} is corrupt ({}); removing it", id, what);
        rows.delete(id, -1);
        return new BlobCorruptException(id.digest(), what);
    }
}
