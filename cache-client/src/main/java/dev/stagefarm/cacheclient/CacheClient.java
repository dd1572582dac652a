package dev.stagefarm.cacheclient;

import dev.stagefarm.common.BlobSource;
import dev.stagefarm.common.Digest;
import dev.stagefarm.proto.cache.ActionCacheGrpc;
import dev.stagefarm.proto.cache.ActionResult;
import dev.stagefarm.proto.cache.ContentStoreGrpc;
import dev.stagefarm.proto.cache.FindMissingRequest;
import dev.stagefarm.proto.cache.GetActionResultRequest;
import dev.stagefarm.proto.cache.ReadRequest;
import dev.stagefarm.proto.cache.ReadResponse;
import dev.stagefarm.proto.cache.UpdateActionResultRequest;
import io.grpc.Channel;
import io.grpc.Context;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * The cache-server's client: blobs by digest (find, upload, download, stream) and action
 * results by cache key. Every blob it returns has been checked against its digest. Failures
 * are IOExceptions: {@link java.nio.file.NoSuchFileException} for a blob the cache lacks,
 * {@link BlobIntegrityException} for bytes that do not match, {@link CacheException} otherwise.
 */
public final class CacheClient implements BlobSource, AutoCloseable {

    /** Digests per FindMissing call; the server refuses more. */
    static final int FIND_MISSING_BATCH = 10_000;
    private static final long UNARY_DEADLINE_SECONDS = 60;

    private final ManagedChannel owned;
    private final String target;
    private final ContentStoreGrpc.ContentStoreStub contentAsync;
    private final ContentStoreGrpc.ContentStoreBlockingStub content;
    private final ActionCacheGrpc.ActionCacheBlockingStub actions;

    /** A client over a channel the caller owns and closes (tests pass an in-process channel). */
    public CacheClient(Channel channel) {
        this(channel, null);
    }

    private CacheClient(Channel channel, ManagedChannel owned) {
        this.owned = owned;
        this.target = channel.authority();
        this.contentAsync = ContentStoreGrpc.newStub(channel);
        this.content = ContentStoreGrpc.newBlockingStub(channel);
        this.actions = ActionCacheGrpc.newBlockingStub(channel);
    }

    /** Connects in plaintext to a cache-server at {@code host:port}; {@link #close()} closes the channel. */
    public static CacheClient connect(String hostPort) {
        // HOST:PORT, or inprocess:NAME inside the embedded farm (see GrpcChannels)
        ManagedChannel channel = dev.stagefarm.common.server.GrpcChannels.open(hostPort);
        return new CacheClient(channel, channel);
    }

    /** The subset of {@code digests} the cache lacks. */
    public Set<Digest> findMissing(Collection<Digest> digests) throws IOException {
        List<Digest> all = new ArrayList<>(new LinkedHashSet<>(digests));
        Set<Digest> missing = new LinkedHashSet<>();
        for (int from = 0; from < all.size(); from += FIND_MISSING_BATCH) {
            FindMissingRequest.Builder request = FindMissingRequest.newBuilder();
            all.subList(from, Math.min(all.size(), from + FIND_MISSING_BATCH))
                    .forEach(d -> request.addDigests(d.toString()));
            try {
                content.withDeadlineAfter(UNARY_DEADLINE_SECONDS, TimeUnit.SECONDS)
                        .findMissing(request.build())
                        .getMissingList()
                        .forEach(d -> missing.add(Digest.parse(d)));
            } catch (StatusRuntimeException e) {
                throw CacheErrors.translate(e, "looking up " + request.getDigestsCount() + " blobs", null, target);
            }
        }
        return missing;
    }

    /** Uploads {@code size} bytes of {@code file} as {@code digest}, unless the cache holds it already. */
    public void upload(Digest digest, long size, Path file) throws IOException {
        if (!isMissing(digest)) {
            return;
        }
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            new BlobUpload(contentAsync, content, digest, UploadContent.of(channel, size, file), target).run();
        }
    }

    /** Uploads {@code data} unless the cache holds it already; returns its digest. */
    public Digest upload(byte[] data) throws IOException {
        Digest digest = Digest.of(data);
        if (isMissing(digest)) {
            new BlobUpload(contentAsync, content, digest, UploadContent.of(data), target).run();
        }
        return digest;
    }

    /**
     * Downloads a blob to {@code dest}: into a temporary file beside it, verified, then renamed
     * into place, so {@code dest} never holds a partial or wrong blob.
     *
     * @return the blob's size
     */
    public long download(Digest digest, Path dest) throws IOException {
        Path dir = dest.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path temp = Files.createTempFile(dir, "." + dest.getFileName() + ".", ".part");
        try {
            long size;
            try (InputStream in = open(digest); OutputStream out = Files.newOutputStream(temp)) {
                // transferTo reads to EOF, where the stream verifies the digest.
                size = in.transferTo(out);
            }
            Files.move(temp, dest, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            return size;
        } finally {
            Files.deleteIfExists(temp);
        }
    }

    /** A whole blob in memory, verified: for manifests, configs and other small blobs. */
    public byte[] readBytes(Digest digest) throws IOException {
        try (InputStream in = open(digest)) {
            return in.readAllBytes();
        }
    }

    /**
     * Streams a blob. The stream throws {@link BlobIntegrityException} instead of reaching EOF
     * when the bytes do not match the digest.
     *
     * @throws java.nio.file.NoSuchFileException when the cache does not hold the blob
     */
    @Override
    public InputStream open(Digest digest) throws IOException {
        ReadRequest request = ReadRequest.newBuilder().setDigest(digest.toString()).build();
        Context.CancellableContext call = Context.current().withCancellation();
        Context previous = call.attach();
        Iterator<ReadResponse> responses;
        try {
            responses = content.read(request);
        } finally {
            call.detach(previous);
        }
        return new VerifyingBlobStream(digest, responses, call, target).prime();
    }

    /** The cached result for {@code key}; empty on a miss, including when a blob it needs is gone. */
    public Optional<ActionResult> getAction(String key) throws IOException {
        try {
            return Optional.of(actions.withDeadlineAfter(UNARY_DEADLINE_SECONDS, TimeUnit.SECONDS)
                    .getActionResult(GetActionResultRequest.newBuilder().setKey(key).build()));
        } catch (StatusRuntimeException e) {
            if (e.getStatus().getCode() == Status.Code.NOT_FOUND) {
                return Optional.empty();
            }
            throw CacheErrors.translate(e, "looking up action " + key, null, target);
        }
    }

    /** Records {@code result} for {@code key}; upload the blobs it lists first, or it will read as a miss. */
    public void putAction(String key, ActionResult result) throws IOException {
        try {
            actions.withDeadlineAfter(UNARY_DEADLINE_SECONDS, TimeUnit.SECONDS)
                    .updateActionResult(UpdateActionResultRequest.newBuilder().setKey(key).setResult(result).build());
        } catch (StatusRuntimeException e) {
            throw CacheErrors.translate(e, "storing action " + key, null, target);
        }
    }

    @Override
    public void close() {
        if (owned != null) {
            owned.shutdown();
            try {
                if (!owned.awaitTermination(5, TimeUnit.SECONDS)) {
                    owned.shutdownNow();
                }
            } catch (InterruptedException e) {
                owned.shutdownNow();
                Thread.currentThread().interrupt();
            }
        }
    }

    private boolean isMissing(Digest digest) throws IOException {
        return !findMissing(List.of(digest)).isEmpty();
    }
}
