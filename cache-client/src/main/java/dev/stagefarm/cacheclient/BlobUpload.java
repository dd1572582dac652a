package dev.stagefarm.cacheclient;

import com.google.protobuf.UnsafeByteOperations;
import dev.stagefarm.common.Digest;
import dev.stagefarm.proto.cache.ContentStoreGrpc;
import dev.stagefarm.proto.cache.QueryWriteRequest;
import dev.stagefarm.proto.cache.QueryWriteResponse;
import dev.stagefarm.proto.cache.WriteRequest;
import dev.stagefarm.proto.cache.WriteResponse;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * Streams one blob to the ContentStore in 1 MiB chunks, sending only while the call is ready.
 * When the stream breaks, it asks QueryWrite how much survived and resumes from there, once.
 */
final class BlobUpload {

    static final int CHUNK_SIZE = 1 << 20;

    private final ContentStoreGrpc.ContentStoreStub async;
    private final ContentStoreGrpc.ContentStoreBlockingStub blocking;
    private final Digest digest;
    private final UploadContent content;
    private final String target;

    BlobUpload(
            ContentStoreGrpc.ContentStoreStub async,
            ContentStoreGrpc.ContentStoreBlockingStub blocking,
            Digest digest,
            UploadContent content,
            String target) {
        this.async = async;
        this.blocking = blocking;
        this.digest = digest;
        this.content = content;
        this.target = target;
    }

    void run() throws IOException {
        String what = "uploading " + digest;
        try {
            send(0);
            return;
        } catch (StatusRuntimeException e) {
            if (!CacheErrors.isTransient(e.getStatus().getCode())) {
                throw CacheErrors.translate(e, what, digest, target);
            }
        }
        try {
            QueryWriteResponse committed = blocking.withDeadlineAfter(60, TimeUnit.SECONDS)
                    .queryWrite(QueryWriteRequest.newBuilder()
                            .setDigest(digest.toString())
                            .build());
            if (!committed.getComplete()) {
                send(committed.getCommittedSize());
            }
        } catch (StatusRuntimeException e) {
            throw CacheErrors.translate(e, what + " (after resuming once)", digest, target);
        }
    }

    /** One Write call starting at {@code offset}; a broken stream surfaces as StatusRuntimeException. */
    private void send(long offset) throws IOException {
        Call call = new Call();
        async.write(call);
        long size = content.size();
        long position = offset;
        boolean first = true;
        try {
            do {
                if (!call.awaitReady()) {
                    break; // answered early (already stored) or failed: the result says which
                }
                byte[] data = new byte[(int) Math.min(CHUNK_SIZE, size - position)];
                content.read(position, data);
                WriteRequest.Builder message =
                        WriteRequest.newBuilder().setOffset(position).setData(UnsafeByteOperations.unsafeWrap(data));
                if (first) {
                    message.setDigest(digest.toString()).setSize(size);
                    first = false;
                }
                position += data.length;
                message.setFinish(position == size);
                call.requests.onNext(message.build());
            } while (position < size);
            call.requests.onCompleted();
        } catch (IOException | RuntimeException e) {
            call.requests.cancel("upload abandoned: " + e.getMessage(), e);
            throw e;
        } catch (InterruptedException e) {
            call.requests.cancel("upload interrupted", e);
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while uploading " + digest);
        }
        WriteResponse response = call.await();
        if (response.getCommittedSize() != size) {
            throw new CacheException(
                    "cache-server " + target + " acknowledged " + response.getCommittedSize() + " bytes of " + digest
                            + " instead of " + size,
                    Status.Code.INTERNAL,
                    null);
        }
    }

    /** The response side of one Write call, plus a wait for its readiness. */
    private static final class Call implements ClientResponseObserver<WriteRequest, WriteResponse> {

        private final CompletableFuture<WriteResponse> result = new CompletableFuture<>();
        private final Object ready = new Object();
        private ClientCallStreamObserver<WriteRequest> requests;

        @Override
        public void beforeStart(ClientCallStreamObserver<WriteRequest> requestStream) {
            this.requests = requestStream;
            requestStream.setOnReadyHandler(this::signal);
        }

        /** Waits until a message may be sent; false once the call has ended. */
        boolean awaitReady() throws InterruptedException {
            synchronized (ready) {
                while (!requests.isReady() && !result.isDone()) {
                    // The timeout only guards against a lost wake-up; on-ready normally ends the wait.
                    ready.wait(100);
                }
            }
            return !result.isDone();
        }

        WriteResponse await() throws IOException {
            try {
                return result.get();
            } catch (ExecutionException e) {
                if (e.getCause() instanceof StatusRuntimeException status) {
                    throw status;
                }
                throw Status.fromThrowable(e.getCause()).asRuntimeException();
            } catch (InterruptedException e) {
                requests.cancel("upload interrupted", e);
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted while waiting for the upload's answer");
            }
        }

        private void signal() {
            synchronized (ready) {
                ready.notifyAll();
            }
        }

        @Override
        public void onNext(WriteResponse value) {
            result.complete(value);
        }

        @Override
        public void onError(Throwable t) {
            result.completeExceptionally(t);
            signal();
        }

        @Override
        public void onCompleted() {
            result.completeExceptionally(Status.INTERNAL
                    .withDescription("the Write call ended without a response")
                    .asRuntimeException());
            signal();
        }
    }
}
