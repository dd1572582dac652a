package dev.stagefarm.cacheserver.store;

import static dev.stagefarm.cacheserver.TestServers.randomBytes;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.stagefarm.common.Digest;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RocksStoreTest {

    private static final int CHUNK = RocksStore.CHUNK_SIZE;

    @TempDir
    Path dir;

    private RocksStore rocks;
    private NamespaceStore store;

    @BeforeEach
    void open() throws Exception {
        reopen();
    }

    private void reopen() throws StoreException {
        rocks = RocksStore.open(dir, Clock.systemUTC());
        store = rocks.in(Namespace.DEFAULT);
    }

    @AfterEach
    void close() {
        rocks.close();
    }

    @Test
    void aNewerWriterTakesOverAndTheOldOneIsToldSo() throws Exception {
        byte[] data = randomBytes(2 * CHUNK + 10, 20);
        Digest digest = Digest.of(data);
        BlobWriter first = store.openWrite(digest, data.length).orElseThrow();
        first.write(0, ByteBuffer.wrap(data, 0, CHUNK + 5));
        assertThat(first.committedSize()).isEqualTo(CHUNK);

        BlobWriter second = store.openWrite(digest, data.length).orElseThrow();
        assertThat(second.position()).isEqualTo(CHUNK);
        assertThatThrownBy(() -> first.write(CHUNK + 5, ByteBuffer.wrap(data, CHUNK + 5, 5)))
                .isInstanceOf(UploadSupersededException.class);

        // Overlapping bytes the store already holds are skipped, not stored twice.
        second.write(CHUNK / 2, ByteBuffer.wrap(data, CHUNK / 2, data.length - CHUNK / 2));
        assertThat(second.commit()).isEqualTo(data.length);
        assertThat(readAll(digest, 0, 0)).isEqualTo(data);
        assertThat(store.openWrite(digest, data.length)).isEmpty();
    }

    @Test
    void aMismatchedCommitLeavesNeitherBlobNorUpload() throws Exception {
        byte[] data = randomBytes(CHUNK + 1, 21);
        Digest wrong = Digest.of(new byte[] {1});
        BlobWriter writer = store.openWrite(wrong, data.length).orElseThrow();
        writer.write(0, ByteBuffer.wrap(data));
        assertThatThrownBy(writer::commit).isInstanceOf(DigestMismatchException.class);
        assertThat(store.contains(wrong)).isFalse();
        assertThat(store.queryWrite(wrong)).isEqualTo(new BlobStore.WriteStatus(0, false));
    }

    @Test
    void aFinishBeforeTheDeclaredSizeIsRefusedAndCanBeContinued() throws Exception {
        byte[] data = randomBytes(100, 22);
        Digest digest = Digest.of(data);
        BlobWriter writer = store.openWrite(digest, data.length).orElseThrow();
        writer.write(0, ByteBuffer.wrap(data, 0, 60));
        assertThatThrownBy(writer::commit)
                .isInstanceOf(InvalidWriteException.class)
                .hasMessageContaining("60");
        writer.write(60, ByteBuffer.wrap(data, 60, 40));
        writer.commit();
        assertThat(readAll(digest, 0, 0)).isEqualTo(data);
    }

    @Test
    void rangesOnAndAcrossChunkBoundariesReadExactly() throws Exception {
        byte[] data = randomBytes(3 * CHUNK, 23);
        Digest digest = stored(data);

        long[][] ranges = {{0, CHUNK}, {CHUNK, CHUNK}, {CHUNK - 1, 2}, {2L * CHUNK, 0}, {5, 1}, {3L * CHUNK - 1, 0}};
        for (long[] r : ranges) {
            long end = r[1] == 0 ? data.length : r[0] + r[1];
            assertThat(readAll(digest, r[0], r[1]))
                    .as("range %d+%d", r[0], r[1])
                    .isEqualTo(Arrays.copyOfRange(data, (int) r[0], (int) end));
        }
    }

    @Test
    void deleteRemovesTheBlob() throws Exception {
        byte[] data = randomBytes(10, 24);
        Digest digest = stored(data);
        assertThat(store.delete(digest)).isTrue();
        assertThat(store.delete(digest)).isFalse();
        assertThatThrownBy(() -> store.openRead(digest, 0, 0)).isInstanceOf(BlobNotFoundException.class);
    }

    @Test
    void findingNothingMissingAmongNoDigestsIsAnEmptyAnswer() throws Exception {
        assertThat(store.missing(List.of())).isEmpty();
    }

    @Test
    void aReaderReusingItsBufferReadsTheSameBytesAndStillCatchesACorruptChunk() throws Exception {
        byte[] data = randomBytes(3 * CHUNK + 17, 25);
        Digest digest = stored(data);
        assertThat(readAllReusing(digest, 0, 0)).isEqualTo(data);
        assertThat(readAllReusing(digest, CHUNK - 3, CHUNK + 6))
                .isEqualTo(Arrays.copyOfRange(data, CHUNK - 3, 2 * CHUNK + 3));

        rocks.close();
        RawRocks.flipByte(dir, digest, 2, 5);
        reopen();
        assertThatThrownBy(() -> readAllReusing(digest, 0, 0))
                .isInstanceOf(BlobCorruptException.class)
                .hasMessageContaining("chunk 2");
        assertThat(store.missing(List.of(digest))).containsExactly(digest);
    }

    @Test
    void aReusingReaderOfAnOldUnsealedBlobHandsOutItsRangeIntact() throws Exception {
        byte[] data = randomBytes(3 * CHUNK + 5, 26);
        Digest digest = stored(data);
        rocks.close();
        RawRocks.unseal(dir, digest);
        reopen();
        // The range ends in chunk 1: chunks 2 and 3 are read after it, to check the whole blob's sha256.
        assertThat(readAllReusing(digest, 10, CHUNK + 20)).isEqualTo(Arrays.copyOfRange(data, 10, CHUNK + 30));
    }

    /** As a reader that is done with each piece before asking for the next, like the read pump. */
    /** Writes {@code data} as one committed blob; returns its digest. */
    private Digest stored(byte[] data) throws StoreException {
        Digest digest = Digest.of(data);
        BlobWriter writer = store.openWrite(digest, data.length).orElseThrow();
        writer.write(0, ByteBuffer.wrap(data));
        writer.commit();
        return digest;
    }

    private byte[] readAllReusing(Digest digest, long offset, long limit) throws StoreException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (BlobReader reader = store.openRead(digest, offset, limit).reusingBuffer()) {
            for (ByteBuffer piece; (piece = reader.next()) != null; ) {
                byte[] bytes = new byte[piece.remaining()];
                piece.get(bytes);
                out.writeBytes(bytes);
            }
        }
        return out.toByteArray();
    }

    private byte[] readAll(Digest digest, long offset, long limit) throws StoreException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (BlobReader reader = store.openRead(digest, offset, limit)) {
            for (ByteBuffer piece; (piece = reader.next()) != null; ) {
                byte[] bytes = new byte[piece.remaining()];
                piece.get(bytes);
                out.writeBytes(bytes);
            }
        }
        return out.toByteArray();
    }
}
