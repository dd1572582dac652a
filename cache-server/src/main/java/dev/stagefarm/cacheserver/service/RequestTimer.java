package dev.stagefarm.cacheserver.service;

import dev.stagefarm.cacheserver.edge.CacheMetrics;
import io.grpc.ForwardingServerCall;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;

/** Times every call from its start until it closes or the client cancels it, per method and status. */
public final class RequestTimer implements ServerInterceptor {

    private final CacheMetrics metrics;

    public RequestTimer(CacheMetrics metrics) {
        this.metrics = metrics;
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(
            ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
        long start = System.nanoTime();
        String method = call.getMethodDescriptor().getBareMethodName();
        AtomicBoolean recorded = new AtomicBoolean();
        ServerCall<Q, R> timed = new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
            @Override
            public void close(Status status, Metadata trailers) {
                if (recorded.compareAndSet(false, true)) {
                    metrics.requestTook(method, status.getCode().name(), Duration.ofNanos(System.nanoTime() - start));
                }
                super.close(status, trailers);
            }
        };
        return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(next.startCall(timed, headers)) {
            @Override
            public void onCancel() {
                if (recorded.compareAndSet(false, true)) {
                    metrics.requestTook(
                            method, Status.Code.CANCELLED.name(), Duration.ofNanos(System.nanoTime() - start));
                }
                super.onCancel();
            }
        };
    }
}
