package dev.stagefarm.cacheserver.edge;

import com.google.protobuf.Any;
import com.google.rpc.Code;
import com.google.rpc.ErrorInfo;
import dev.stagefarm.cacheserver.store.BlobCorruptException;
import dev.stagefarm.cacheserver.store.BlobNotFoundException;
import dev.stagefarm.cacheserver.store.BlobTooLargeException;
import dev.stagefarm.cacheserver.store.DigestMismatchException;
import dev.stagefarm.cacheserver.store.InvalidRangeException;
import dev.stagefarm.cacheserver.store.InvalidWriteException;
import dev.stagefarm.cacheserver.store.StorageFailureException;
import dev.stagefarm.cacheserver.store.StoreException;
import dev.stagefarm.cacheserver.store.UploadSupersededException;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;

/**
 * The service edge: the one place where domain exceptions become gRPC statuses. Each status
 * carries the exception's sentence for people and an {@link ErrorInfo} reason for programs.
 */
public final class Statuses {

    public static final String DOMAIN = "cache.stagefarm.dev";

    private Statuses() {}

    public static StatusRuntimeException of(StoreException e) {
        return switch (e) {
            case BlobNotFoundException x -> error(Code.NOT_FOUND, "BLOB_NOT_FOUND", x);
            case BlobCorruptException x -> error(Code.DATA_LOSS, "BLOB_CORRUPT", x);
            case DigestMismatchException x -> error(Code.INVALID_ARGUMENT, "DIGEST_MISMATCH", x);
            case InvalidWriteException x ->
                error(x.outOfRange() ? Code.OUT_OF_RANGE : Code.INVALID_ARGUMENT, "INVALID_WRITE", x);
            case InvalidRangeException x -> error(Code.OUT_OF_RANGE, "INVALID_RANGE", x);
            case UploadSupersededException x -> error(Code.ABORTED, "UPLOAD_SUPERSEDED", x);
            case BlobTooLargeException x -> error(Code.FAILED_PRECONDITION, "BLOB_TOO_LARGE", x);
            case StorageFailureException x -> error(Code.INTERNAL, "STORAGE_FAILURE", x);
        };
    }

    public static StatusRuntimeException invalidArgument(String message) {
        return Status.INVALID_ARGUMENT.withDescription(message).asRuntimeException();
    }

    public static StatusRuntimeException notFound(String message) {
        return Status.NOT_FOUND.withDescription(message).asRuntimeException();
    }

    /** A bug or an unexpected failure: the caller learns only that it should look at the server log. */
    public static StatusRuntimeException internal(Throwable t) {
        return Status.INTERNAL
                .withDescription("cache-server failed unexpectedly (" + t + "); see the cache-server log")
                .withCause(t)
                .asRuntimeException();
    }

    private static StatusRuntimeException error(Code code, String reason, StoreException e) {
        com.google.rpc.Status status = com.google.rpc.Status.newBuilder()
                .setCode(code.getNumber())
                .setMessage(e.getMessage())
                .addDetails(Any.pack(ErrorInfo.newBuilder()
                        .setReason(reason)
                        .setDomain(DOMAIN)
                        .build()))
                .build();
        return StatusProto.toStatusRuntimeException(status);
    }
}
