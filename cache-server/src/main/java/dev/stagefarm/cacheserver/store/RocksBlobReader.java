package dev.stagefarm.cacheserver.store;

import dev.stagefarm.common.Digest;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import org.rocksdb.ReadOptions;

/**
 * Streams a range of a blob from a RocksDB snapshot. Each chunk of a {@linkplain BlobMeta#sealed()
 * sealed} blob is checked against its CRC32C before it is handed out, so only the range's chunks
 * are read. A blob from before seals existed is hashed whole instead: chunks before the range are
 * hashed and skipped, and the range's last chunk is handed out only once the sha256 matched.
 */
final class RocksBlobReader implements BlobReader {

    private final ChunkReads reads;
    private final BlobId id;
    private final Digest digest;
    private final BlobMeta meta;
    private final long from;
    private final long to;
    private final ReadOptions readOptions;
    private final MessageDigest sha256;
    /** Set by {@link #reusingBuffer()}: every chunk is read into this one array. */
    private byte[] scratch;
    /** Set by {@link #reusingDirectBuffer()}: every chunk is read into this one direct buffer, by this key. */
    private ByteBuffer directScratch;

    private ByteBuffer directKey;
    private long nextChunk;
    private boolean finished;
    private boolean closed;

    RocksBlobReader(ChunkReads reads, BlobId id, BlobMeta meta, long from, long to, ReadOptions readOptions) {
        this.reads = reads;
        this.id = id;
        this.digest = id.digest();
        this.meta = meta;
        this.from = from;
        this.to = to;
        this.readOptions = readOptions;
        this.sha256 = meta.sealed() ? null : Digest.newSha256();
        // An unsealed blob can only be verified whole, so its hashing starts at chunk 0.
        this.nextChunk = meta.sealed() ? from / meta.chunkSize() : 0;
    }

    @Override
    public long blobSize() {
        return meta.size();
    }

    /**
     * Only a sealed blob's reader reuses a buffer: an old blob's reader hashes the chunks after
     * the range before it hands out the range's last piece, which would overwrite that piece.
     */
    @Override
    public BlobReader reusingBuffer() {
        if (scratch == null && meta.sealed()) {
            scratch = new byte[ChunkReads.scratchFor(meta)];
        }
        return this;
    }

    @Override
    public BlobReader reusingDirectBuffer() {
        if (directScratch == null && meta.sealed()) {
            directScratch = ByteBuffer.allocateDirect(ChunkReads.scratchFor(meta));
            directKey = ByteBuffer.allocateDirect(Keys.chunk(id, 0).length);
        }
        return this;
    }

    @Override
    public ByteBuffer next() throws StoreException {
        if (finished || from >= to) {
            finished = true;
            return null;
        }
        while (nextChunk < meta.chunkCount()) {
            long index = nextChunk++;
            ByteBuffer chunk = readChunk(index);
            long chunkStart = index * meta.chunkSize();
            long start = Math.max(from, chunkStart);
            long end = Math.min(to, chunkStart + chunk.remaining());
            if (start >= end) {
                continue;
            }
            if (end == to) {
                if (!meta.sealed()) {
                    verifyRest();
                }
                finished = true;
            }
            return chunk.slice((int) (start - chunkStart), (int) (end - start));
        }
        throw new IllegalStateException("range [" + from + ", " + to + ") lies outside " + digest);
    }

    private ByteBuffer readChunk(long index) throws StoreException {
        ByteBuffer chunk = directScratch != null
                ? reads.readChunk(readOptions, id, meta, index, directKey, directScratch)
                : reads.readChunk(readOptions, id, meta, index, scratch);
        if (sha256 != null) {
            sha256.update(chunk.duplicate());
        }
        return chunk;
    }

    /** Hashes the chunks after the range and checks the digest of the whole (unsealed) blob. */
    private void verifyRest() throws StoreException {
        while (nextChunk < meta.chunkCount()) {
            readChunk(nextChunk++);
        }
        Digest actual = Digest.fromBytes(sha256.digest());
        if (!actual.equals(digest)) {
            throw reads.quarantine(id, "its bytes hash to " + actual);
        }
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            reads.release(readOptions);
        }
    }
}
