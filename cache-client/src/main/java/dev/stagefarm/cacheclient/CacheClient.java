package dev.stagefarm.cacheclient;

import com.google.common.util.concurrent.ListenableFuture;
import com.google.protobuf.UnsafeByteOperations;
import dev.stagefarm.common.BlobSource;
import dev.stagefarm.common.Digest;
import dev.stagefarm.common.auth.TeamChannel;
import dev.stagefarm.common.client.ClientSecurity;
import dev.stagefarm.common.client.GrpcChannels;
import dev.stagefarm.common.net.HostPort;
import dev.stagefarm.proto.cache.ActionCacheGrpc;
import dev.stagefarm.proto.cache.ActionResult;
import dev.stagefarm.proto.cache.CacheAdminGrpc;
import dev.stagefarm.proto.cache.ContentStoreGrpc;
import dev.stagefarm.proto.cache.FindMissingRequest;
import dev.stagefarm.proto.cache.FindMissingResponse;
import dev.stagefarm.proto.cache.GetActionResultRequest;
import dev.stagefarm.proto.cache.GetActionResultsRequest;
import dev.stagefarm.proto.cache.GetActionResultsResponse;
import dev.stagefarm.proto.cache.GetStatsRequest;
import dev.stagefarm.proto.cache.GetStatsResponse;
import dev.stagefarm.proto.cache.OpenReadResponse;
import dev.stagefarm.proto.cache.PruneRequest;
import dev.stagefarm.proto.cache.PruneResponse;
import dev.stagefarm.proto.cache.ReadRequest;
import dev.stagefarm.proto.cache.UpdateActionResultRequest;
import io.grpc.Channel;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The cache-server's client: blobs by digest (find, upload, download, stream) and action
 * results by cache key. Every blob it returns has been checked against its digest. Failures
 * are IOExceptions: {@link java.nio.file.NoSuchFileException} for a blob the cache lacks,
 * {@link BlobIntegrityException} for bytes that do not match, {@link CacheException} otherwise.
 */
public final class CacheClient implements BlobSource, AutoCloseable {

    /** Digests per FindMissing call; the server refuses more. */
    static final int FIND_MISSING_BATCH = 10_000;
    /** FindMissing calls one findMissing keeps open at once. */
    static final int FIND_MISSING_IN_FLIGHT = 4;

    private static final HexFormat HEX = HexFormat.of();
    private static final long UNARY_DEADLINE_SECONDS = 60;

    private final ManagedChannel owned;
    private final Channel channel;
    private final String target;
    private final ContentStoreGrpc.ContentStoreStub contentAsync;
    private final ContentStoreGrpc.ContentStoreBlockingStub content;
    private final ContentStoreGrpc.ContentStoreFutureStub contentFutures;
    private final ActionCacheGrpc.ActionCacheBlockingStub actions;
    private final CacheAdminGrpc.CacheAdminBlockingStub admin;
    private final BatchTransfers batches;
    private final SingleUploads single;
    private final MountClient mounts;
    /** Reads through OpenRead and the data port; null over a channel without a TCP host (in-process, Unix socket). */
    private final DataPortReads dataReads;
    /** Makes the channel under this client reconnect at once (see {@link Retry}). */
    private final Runnable reconnect;
    /**
     * Whether the server ever answered this client (or another for a team on its channel): only
     * then is an unreachable server waited for. One never reached (wrong address, TLS to a
     * plaintext port) fails at once, as a misconfiguration should.
     */
    private final AtomicBoolean answered;

    /** Files smaller than this travel in batch calls in {@link #uploadAll(Map)}. */
    public static final long SMALL_FILE_BYTES = 1 << 20;

    /** A client over a channel the caller owns and closes (tests pass an in-process channel). */
    public CacheClient(Channel channel) {
        this(
                channel,
                null,
                null,
                channel instanceof ManagedChannel m ? m::resetConnectBackoff : () -> {},
                new AtomicBoolean());
    }

    /**
     * A client over a channel the caller owns and closes, wrapped (e.g. by {@code TeamChannel});
     * {@code reconnect} makes the managed channel under it connect at once (see {@link Retry}).
     */
    public CacheClient(Channel channel, Runnable reconnect) {
        this(channel, null, null, reconnect, new AtomicBoolean());
    }

    private CacheClient(
            Channel channel,
            ManagedChannel owned,
            DataPortReads dataReads,
            Runnable reconnect,
            AtomicBoolean answered) {
        this.owned = owned;
        this.reconnect = reconnect;
        this.answered = answered;
        this.dataReads = dataReads;
        this.channel = channel;
        this.target = channel.authority();
        this.contentAsync = ContentStoreGrpc.newStub(channel);
        this.content = ContentStoreGrpc.newBlockingStub(channel);
        this.contentFutures = ContentStoreGrpc.newFutureStub(channel);
        this.actions = ActionCacheGrpc.newBlockingStub(channel);
        this.admin = CacheAdminGrpc.newBlockingStub(channel);
        this.batches = new BatchTransfers(content, target);
        this.single = new SingleUploads(contentAsync, content, batches, target, this::isMissing);
        this.mounts = new MountClient(channel, reconnect);
    }

    /** Connects in plaintext to a cache-server at {@code host:port}; {@link #close()} closes the channel. */
    public static CacheClient connect(String hostPort) {
        return connect(hostPort, ClientSecurity.NONE);
    }

    /** Connects with a token and TLS as {@code security} says; {@link #close()} closes the channel. */
    public static CacheClient connect(String hostPort, ClientSecurity security) {
        // HOST:PORT, or inprocess:NAME inside the embedded farm, or unix:PATH (see GrpcChannels)
        ManagedChannel channel = GrpcChannels.open(hostPort, security);
        boolean tcp = !hostPort.startsWith(GrpcChannels.IN_PROCESS) && !hostPort.startsWith(GrpcChannels.UNIX);
        return new CacheClient(
                channel,
                channel,
                tcp ? new DataPortReads(HostPort.parse(hostPort).host(), security, channel.authority()) : null,
                channel::resetConnectBackoff,
                new AtomicBoolean());
    }

    /**
     * This client acting for {@code team}: the same channel and token (a farm token), with
     * {@code stagefarm-team: team} on every call, so everything done through it lands in that
     * team's namespace. Closing it leaves this client's channel open.
     */
    public CacheClient forTeam(String team) {
        return new CacheClient(TeamChannel.bind(channel, team), null, dataReads, reconnect, answered);
    }

    /**
     * The subset of {@code digests} the cache lacks. Large sets go out as several FindMissing
     * calls, up to {@link #FIND_MISSING_IN_FLIGHT} at once, so the server answers them in parallel.
     */
    public Set<Digest> findMissing(Collection<Digest> digests) throws IOException {
        return retrying(() -> findMissingOnce(digests));
    }

    private Set<Digest> findMissingOnce(Collection<Digest> digests) throws IOException {
        List<Digest> all = new ArrayList<>(new LinkedHashSet<>(digests));
        List<List<Digest>> batches = new ArrayList<>();
        for (int from = 0; from < all.size(); from += FIND_MISSING_BATCH) {
            batches.add(all.subList(from, Math.min(all.size(), from + FIND_MISSING_BATCH)));
        }
        List<ListenableFuture<FindMissingResponse>> calls = new ArrayList<>();
        Set<Digest> missing = new LinkedHashSet<>();
        try {
            for (int i = 0; i < batches.size(); i++) {
                while (calls.size() <= i + FIND_MISSING_IN_FLIGHT - 1 && calls.size() < batches.size()) {
                    // Binary digests: no 71-character strings to build, send and parse.
                    FindMissingRequest.Builder request = FindMissingRequest.newBuilder();
                    for (Digest d : batches.get(calls.size())) {
                        request.addSha256(UnsafeByteOperations.unsafeWrap(HEX.parseHex(d.hex())));
                    }
                    calls.add(contentFutures
                            .withDeadlineAfter(UNARY_DEADLINE_SECONDS, TimeUnit.SECONDS)
                            .findMissing(request.build()));
                }
                List<Digest> batch = batches.get(i);
                FindMissingResponse answer = calls.get(i).get();
                if (answer.getSha256Answered() != batch.size()) {
                    missing.addAll(findMissingAsText(batch));
                    continue;
                }
                for (int index : answer.getMissingIndexList()) {
                    missing.add(batch.get(index));
                }
            }
            return missing;
        } catch (ExecutionException e) {
            calls.forEach(c -> c.cancel(true));
            StatusRuntimeException status = e.getCause() instanceof StatusRuntimeException s
                    ? s
                    : Status.fromThrowable(e.getCause()).asRuntimeException();
            throw CacheErrors.translate(status, "looking up " + all.size() + " blobs", null, target);
        } catch (InterruptedException e) {
            calls.forEach(c -> c.cancel(true));
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while looking up " + all.size() + " blobs");
        }
    }

    /** FindMissing with digest strings, for a server that predates the binary form. */
    private List<Digest> findMissingAsText(List<Digest> batch) throws IOException {
        FindMissingRequest.Builder request = FindMissingRequest.newBuilder();
        batch.forEach(d -> request.addDigests(d.toString()));
        try {
            return content
                    .withDeadlineAfter(UNARY_DEADLINE_SECONDS, TimeUnit.SECONDS)
                    .findMissing(request.build())
                    .getMissingList()
                    .stream()
                    .map(Digest::parse)
                    .toList();
        } catch (StatusRuntimeException e) {
            throw CacheErrors.translate(e, "looking up " + batch.size() + " blobs", null, target);
        }
    }

    /** Uploads {@code size} bytes of {@code file} as {@code digest}, unless the cache holds it already. */
    public void upload(Digest digest, long size, Path file) throws IOException {
        retrying(() -> {
            single.upload(digest, size, file);
            return null;
        });
    }

    /** Uploads {@code data} unless the cache holds it already; returns its digest. */
    public Digest upload(byte[] data) throws IOException {
        return retrying(() -> single.upload(data));
    }

    /**
     * Uploads every file the cache lacks (one FindMissing for all): files under
     * {@link #SMALL_FILE_BYTES} many per BatchUpdateBlobs call, larger ones streamed.
     *
     * @return the digests that were uploaded (the others were there already)
     */
    public Set<Digest> uploadAll(Map<Digest, Path> files) throws IOException {
        return retrying(() -> uploadAllOnce(files));
    }

    private Set<Digest> uploadAllOnce(Map<Digest, Path> files) throws IOException {
        Set<Digest> missing = findMissing(files.keySet());
        BatchTransfers.Uploader batch = batches.new Uploader();
        for (Digest digest : missing) {
            Path file = files.get(digest);
            long size = Files.size(file);
            if (size < SMALL_FILE_BYTES) {
                batch.add(digest, Files.readAllBytes(file), file.toString());
            } else {
                try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
                    new BlobUpload(contentAsync, content, digest, UploadContent.of(channel, size, file), target).run();
                }
            }
        }
        batch.flush();
        return missing;
    }

    /**
     * Uploads blobs held in memory that the cache lacks, small ones in batches.
     *
     * @return the digests of {@code blobs}, in order
     */
    public List<Digest> uploadAll(List<byte[]> blobs) throws IOException {
        return retrying(() -> uploadAllOnce(blobs));
    }

    private List<Digest> uploadAllOnce(List<byte[]> blobs) throws IOException {
        Map<Digest, byte[]> byDigest = new LinkedHashMap<>();
        List<Digest> digests = new ArrayList<>(blobs.size());
        for (byte[] data : blobs) {
            Digest d = Digest.of(data);
            digests.add(d);
            byDigest.putIfAbsent(d, data);
        }
        BatchTransfers.Uploader batch = batches.new Uploader();
        for (Digest digest : findMissing(byDigest.keySet())) {
            byte[] data = byDigest.get(digest);
            if (data.length < SMALL_FILE_BYTES) {
                batch.add(digest, data, null);
            } else {
                new BlobUpload(contentAsync, content, digest, UploadContent.of(data), target).run();
            }
        }
        batch.flush();
        return digests;
    }

    /**
     * Reads many blobs into memory, verified: small ones many per BatchReadBlobs call, any too
     * large for a batch streamed. Blobs the cache lacks are absent from the map.
     */
    public Map<Digest, byte[]> readAll(Collection<Digest> digests) throws IOException {
        return retrying(() -> readAllOnce(digests));
    }

    private Map<Digest, byte[]> readAllOnce(Collection<Digest> digests) throws IOException {
        List<Digest> tooLarge = new ArrayList<>();
        Map<Digest, byte[]> found = batches.read(new ArrayList<>(new LinkedHashSet<>(digests)), tooLarge);
        for (Digest digest : tooLarge) {
            try {
                found.put(digest, readBytes(digest));
            } catch (NoSuchFileException gone) {
                // evicted between the two calls: a miss like any other
            }
        }
        return found;
    }

    /** Blob count, stored bytes, action entries and the size budget of the cache. */
    public GetStatsResponse stats() throws IOException {
        return stats(false);
    }

    /** @param allTeams also each team's blobs, bytes and quota ({@link GetStatsResponse#getTeamsList()}) */
    public GetStatsResponse stats(boolean allTeams) throws IOException {
        return retrying(() -> statsOnce(allTeams));
    }

    private GetStatsResponse statsOnce(boolean allTeams) throws IOException {
        try {
            return admin.withDeadlineAfter(UNARY_DEADLINE_SECONDS, TimeUnit.SECONDS)
                    .getStats(GetStatsRequest.newBuilder().setAllTeams(allTeams).build());
        } catch (StatusRuntimeException e) {
            throw CacheErrors.translate(e, "reading the cache's statistics", null, target);
        }
    }

    /**
     * Deletes blobs least recently used first: only those unused for at least {@code unusedFor}
     * (zero: any), until at most {@code keepBytes} are stored (zero: delete every candidate).
     */
    public PruneResponse prune(long keepBytes, Duration unusedFor) throws IOException {
        try {
            // A prune of a large cache walks all of it: no short deadline.
            return admin.withDeadlineAfter(1, TimeUnit.HOURS)
                    .prune(PruneRequest.newBuilder()
                            .setKeepStorage(keepBytes)
                            .setUnusedForSeconds(unusedFor.toSeconds())
                            .build());
        } catch (StatusRuntimeException e) {
            throw CacheErrors.translate(e, "pruning the cache", null, target);
        }
    }

    /**
     * Downloads a blob to {@code dest}: into a temporary file beside it, verified, then renamed
     * into place, so {@code dest} never holds a partial or wrong blob.
     *
     * @return the blob's size
     */
    public long download(Digest digest, Path dest) throws IOException {
        return retrying(() -> downloadOnce(digest, dest));
    }

    private long downloadOnce(Digest digest, Path dest) throws IOException {
        Path dir = dest.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path temp = Files.createTempFile(dir, "." + dest.getFileName() + ".", ".part");
        try {
            long size;
            try (InputStream in = open(digest);
                    OutputStream out = Files.newOutputStream(temp)) {
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
        return retrying(() -> readBytesOnce(digest));
    }

    private byte[] readBytesOnce(Digest digest) throws IOException {
        try (InputStream in = open(digest)) {
            return in.readAllBytes();
        }
    }

    /**
     * A whole blob in memory, verified, for a blob whose size someone else chose (a client names
     * its context's manifest): at most {@code maxBytes + 1} bytes are ever read.
     *
     * @throws BlobTooLargeException when the blob is larger than {@code maxBytes}
     */
    public byte[] readBytes(Digest digest, int maxBytes) throws IOException {
        try (InputStream in = open(digest)) {
            byte[] bytes = in.readNBytes(maxBytes + 1); // to EOF when it fits, where the stream verifies it
            if (bytes.length > maxBytes) {
                throw new BlobTooLargeException(digest, maxBytes);
            }
            return bytes;
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
        return retrying(() -> openOnce(digest));
    }

    private InputStream openOnce(Digest digest) throws IOException {
        ReadRequest request =
                ReadRequest.newBuilder().setDigest(digest.toString()).build();
        if (dataReads != null && dataReads.usable()) {
            InputStream opened = openRead(digest, request);
            if (opened != null) {
                return opened;
            }
        }
        return VerifyingBlobStream.open(digest, request, channel, target);
    }

    /** The blob through OpenRead: in its answer, or from the data port; null to fall back to Read. */
    private InputStream openRead(Digest digest, ReadRequest request) throws IOException {
        OpenReadResponse opened;
        try {
            opened = content.withDeadlineAfter(UNARY_DEADLINE_SECONDS, TimeUnit.SECONDS)
                    .openRead(request);
        } catch (StatusRuntimeException e) {
            if (e.getStatus().getCode() == Status.Code.UNIMPLEMENTED) {
                dataReads.serverLacksOpenRead();
                return null;
            }
            throw CacheErrors.translate(e, "reading " + digest, digest, target);
        }
        return dataReads.open(digest, opened);
    }

    /** The cached result for {@code key}; empty on a miss, including when a blob it needs is gone. */
    public Optional<ActionResult> getAction(String key) throws IOException {
        return retrying(() -> getActionOnce(key));
    }

    private Optional<ActionResult> getActionOnce(String key) throws IOException {
        try {
            return Optional.of(actions.withDeadlineAfter(UNARY_DEADLINE_SECONDS, TimeUnit.SECONDS)
                    .getActionResult(
                            GetActionResultRequest.newBuilder().setKey(key).build()));
        } catch (StatusRuntimeException e) {
            if (e.getStatus().getCode() == Status.Code.NOT_FOUND) {
                return Optional.empty();
            }
            throw CacheErrors.translate(e, "looking up action " + key, null, target);
        }
    }

    /**
     * The cached results for many keys, in one call per {@link #ACTION_KEYS_PER_CALL}: each key
     * maps to its result, or to empty on a miss. A cache-server from before GetActionResults is
     * asked key by key.
     */
    public Map<String, Optional<ActionResult>> getActions(Collection<String> keys) throws IOException {
        return retrying(() -> getActionsOnce(List.copyOf(new LinkedHashSet<>(keys))));
    }

    /** Keys one GetActionResults call carries (the server takes up to 1,000). */
    static final int ACTION_KEYS_PER_CALL = 1_000;

    private Map<String, Optional<ActionResult>> getActionsOnce(List<String> keys) throws IOException {
        Map<String, Optional<ActionResult>> found = new LinkedHashMap<>();
        for (int from = 0; from < keys.size(); from += ACTION_KEYS_PER_CALL) {
            List<String> batch = keys.subList(from, Math.min(keys.size(), from + ACTION_KEYS_PER_CALL));
            GetActionResultsResponse answers;
            try {
                answers = actions.withDeadlineAfter(UNARY_DEADLINE_SECONDS, TimeUnit.SECONDS)
                        .getActionResults(GetActionResultsRequest.newBuilder()
                                .addAllKeys(batch)
                                .build());
            } catch (StatusRuntimeException e) {
                if (e.getStatus().getCode() == Status.Code.UNIMPLEMENTED) {
                    for (String key : batch) {
                        found.put(key, getActionOnce(key));
                    }
                    continue;
                }
                throw CacheErrors.translate(e, "looking up " + batch.size() + " actions", null, target);
            }
            if (answers.getAnswersCount() != batch.size()) {
                throw new IOException("cache-server " + target + " answered " + answers.getAnswersCount() + " of "
                        + batch.size() + " action keys");
            }
            for (int i = 0; i < batch.size(); i++) {
                var answer = answers.getAnswers(i);
                found.put(batch.get(i), answer.hasHit() ? Optional.of(answer.getHit()) : Optional.empty());
            }
        }
        return found;
    }

    /** Records {@code result} for {@code key}; upload the blobs it lists first, or it will read as a miss. */
    public void putAction(String key, ActionResult result) throws IOException {
        retrying(() -> {
            putActionOnce(key, result);
            return null;
        });
    }

    private void putActionOnce(String key, ActionResult result) throws IOException {
        try {
            actions.withDeadlineAfter(UNARY_DEADLINE_SECONDS, TimeUnit.SECONDS)
                    .updateActionResult(UpdateActionResultRequest.newBuilder()
                            .setKey(key)
                            .setResult(result)
                            .build());
        } catch (StatusRuntimeException e) {
            throw CacheErrors.translate(e, "storing action " + key, null, target);
        }
    }

    /** Shared cache mounts on the same cache-server (and in the same team). */
    public MountClient mounts() {
        return mounts;
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

    /** An operation made again while the cache-server is unreachable, for a bounded time ({@link Retry}). */
    private <T> T retrying(Retry.Call<T> call) throws IOException {
        Retry.Call<T> noting = () -> {
            try {
                T result = call.call();
                answered.set(true);
                return result;
            } catch (CacheException e) {
                if (e.code() != Status.Code.UNAVAILABLE) {
                    answered.set(true);
                }
                throw e;
            } catch (NoSuchFileException e) {
                answered.set(true);
                throw e;
            }
        };
        return answered.get() ? Retry.whileUnavailable(target, reconnect, noting) : noting.call();
    }

    private boolean isMissing(Digest digest) throws IOException {
        return !findMissing(List.of(digest)).isEmpty();
    }
}
