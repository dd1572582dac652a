package dev.stagefarm.cacheserver.service;

import com.google.common.util.concurrent.MoreExecutors;
import dev.stagefarm.proto.cache.ContentStoreGrpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallExecutorSupplier;
import java.util.concurrent.Executor;

/**
 * Runs ContentStore.Read calls on the connection's own Netty thread; every other call keeps
 * the server's executor.
 *
 * <p>A read pump on the executor traded places with the transport's thread for every batch of
 * messages: the pump queued messages and woke the transport, the transport wrote them and
 * woke the pump with "ready". On the transport's thread the pump reads a chunk, hands it over
 * and returns when the call stops being ready; the socket write and the next on-ready run in
 * the same thread. On two cores that cut the server's CPU per GiB read by about a quarter
 * (bench/README.md). The price: a chunk read from RocksDB (1 MiB; from the page cache in
 * tens of microseconds, from a cold disk in milliseconds) delays the other calls on the same
 * connection by that long, once per chunk.
 */
public final class ReadsOnTransportThread implements ServerCallExecutorSupplier {

    private static final String READ = ContentStoreGrpc.getReadMethod().getFullMethodName();

    @Override
    public <ReqT, RespT> Executor getExecutor(ServerCall<ReqT, RespT> call, Metadata headers) {
        return call.getMethodDescriptor().getFullMethodName().equals(READ) ? MoreExecutors.directExecutor() : null;
    }
}
