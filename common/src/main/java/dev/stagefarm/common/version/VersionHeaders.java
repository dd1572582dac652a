package dev.stagefarm.common.version;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ForwardingClientCall;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;

/**
 * The version handshake on every call: clients send their release and protocol as metadata
 * ({@code stagefarm-release}, {@code stagefarm-protocol}); a server refuses a call whose protocol
 * differs from its own with {@code FAILED_PRECONDITION} and {@link FarmVersion#refusal}. A call
 * without the headers (a peer from before the handshake, grpcurl) is let through.
 */
public final class VersionHeaders {

    public static final Metadata.Key<String> RELEASE =
            Metadata.Key.of("stagefarm-release", Metadata.ASCII_STRING_MARSHALLER);
    public static final Metadata.Key<String> PROTOCOL =
            Metadata.Key.of("stagefarm-protocol", Metadata.ASCII_STRING_MARSHALLER);

    private VersionHeaders() {}

    /** Announces {@code version} on every call. */
    public static ClientInterceptor client(FarmVersion version) {
        return new ClientInterceptor() {
            @Override
            public <Q, R> ClientCall<Q, R> interceptCall(
                    MethodDescriptor<Q, R> method, CallOptions options, Channel next) {
                return new ForwardingClientCall.SimpleForwardingClientCall<>(next.newCall(method, options)) {
                    @Override
                    public void start(Listener<R> listener, Metadata headers) {
                        headers.put(RELEASE, version.release());
                        headers.put(PROTOCOL, Integer.toString(version.protocol()));
                        super.start(listener, headers);
                    }
                };
            }
        };
    }

    /**
     * Refuses calls from peers with another protocol.
     *
     * @param server how the refusal names this side, e.g. "coordinator"
     */
    public static ServerInterceptor server(String server, FarmVersion ours) {
        return new ServerInterceptor() {
            @Override
            public <Q, R> ServerCall.Listener<Q> interceptCall(
                    ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
                String protocol = headers.get(PROTOCOL);
                if (protocol != null) {
                    FarmVersion peer = FarmVersion.announced(headers.get(RELEASE), parse(protocol));
                    if (!peer.compatibleWith(ours)) {
                        call.close(
                                Status.FAILED_PRECONDITION.withDescription(
                                        FarmVersion.refusal("this client", peer, server, ours)),
                                new Metadata());
                        return new ServerCall.Listener<>() {};
                    }
                }
                return next.startCall(call, headers);
            }
        };
    }

    private static int parse(String protocol) {
        try {
            return Integer.parseInt(protocol.trim());
        } catch (NumberFormatException e) {
            return -1; // garbage speaks no protocol we know
        }
    }
}
