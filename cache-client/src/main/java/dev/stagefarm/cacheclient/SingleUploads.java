package dev.stagefarm.cacheclient;

import dev.stagefarm.common.Digest;
import dev.stagefarm.common.auth.TeamChannel;
import dev.stagefarm.proto.cache.ContentStoreGrpc;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * One blob at a time, from a file or from memory ({@link CacheClient#upload}): a small one written
 * at once in a batch call, a larger one streamed when the cache lacks it. One upload of a digest
 * at a time per team, so two jobs that publish the same blob send it once.
 */
final class SingleUploads {

    /**
     * A blob this small is written at once, in one BatchUpdateBlobs call, without asking
     * FindMissing first: the server keeps the copy it has, and sending the bytes costs about what
     * the extra round trip would (64 KiB is half a millisecond at a gigabit). A stage's end
     * writes two such blobs, its layer and its artifact, on the path its build waits on.
     */
    static final int DIRECT_WRITE_BYTES = 64 << 10;

    /** FindMissing for one digest. */
    interface MissingCheck {
        boolean isMissing(Digest digest) throws IOException;
    }

    private final UploadsInFlight inFlight = new UploadsInFlight();
    private final ContentStoreGrpc.ContentStoreStub async;
    private final ContentStoreGrpc.ContentStoreBlockingStub blocking;
    private final BatchTransfers batches;
    private final String target;
    private final MissingCheck missing;

    SingleUploads(
            ContentStoreGrpc.ContentStoreStub async,
            ContentStoreGrpc.ContentStoreBlockingStub blocking,
            BatchTransfers batches,
            String target,
            MissingCheck missing) {
        this.async = async;
        this.blocking = blocking;
        this.batches = batches;
        this.target = target;
        this.missing = missing;
    }

    void upload(Digest digest, long size, Path file) throws IOException {
        try (UploadsInFlight.Turn turn = inFlight.await(TeamChannel.current(), digest)) {
            if (size < DIRECT_WRITE_BYTES) {
                byte[] data = Files.readAllBytes(file);
                if (data.length != size) {
                    throw new IOException(file + " is " + (data.length < size ? "shorter" : "longer") + " than the "
                            + size + " bytes being uploaded; did it change during the upload?");
                }
                writeDirectly(digest, data, file.toString());
                return;
            }
            if (!missing.isMissing(digest)) {
                return;
            }
            try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
                new BlobUpload(async, blocking, digest, UploadContent.of(channel, size, file), target).run();
            }
        }
    }

    Digest upload(byte[] data) throws IOException {
        Digest digest = Digest.of(data);
        try (UploadsInFlight.Turn turn = inFlight.await(TeamChannel.current(), digest)) {
            if (data.length < DIRECT_WRITE_BYTES) {
                writeDirectly(digest, data, null);
            } else if (missing.isMissing(digest)) {
                new BlobUpload(async, blocking, digest, UploadContent.of(data), target).run();
            }
        }
        return digest;
    }

    /**
     * One small blob in one batch call; {@code name} (a path, or null) goes into error messages.
     * The server checks the bytes against the digest and refuses a mismatch.
     */
    private void writeDirectly(Digest digest, byte[] data, String name) throws IOException {
        BatchTransfers.Uploader batch = batches.new Uploader();
        batch.add(digest, data, name);
        batch.flush();
    }
}
