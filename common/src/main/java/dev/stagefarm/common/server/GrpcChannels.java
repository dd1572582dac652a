package dev.stagefarm.common.server;

import io.grpc.ManagedChannel;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.netty.NettyChannelBuilder;

/**
 * Channels to stagefarm's servers by address: {@code HOST:PORT} over plaintext HTTP/2, or
 * {@code inprocess:NAME} for components wired into one process (the embedded farm), which
 * then talk gRPC without a socket.
 */
public final class GrpcChannels {

    public static final String IN_PROCESS = "inprocess:";

    /**
     * HTTP/2 receive window per stream: 8 chunks of 1 MiB in flight, at most 8 MiB buffered per
     * read. With the default 1 MiB window, sending and hashing on the two sides take turns.
     */
    private static final int FLOW_CONTROL_WINDOW = 8 << 20;

    private GrpcChannels() {
    }

    public static ManagedChannel open(String address) {
        if (address.startsWith(IN_PROCESS)) {
            return InProcessChannelBuilder.forName(address.substring(IN_PROCESS.length())).build();
        }
        HostPort hp = HostPort.parse(address);
        return NettyChannelBuilder.forAddress(hp.host(), hp.port()).usePlaintext()
            .flowControlWindow(FLOW_CONTROL_WINDOW).build();
    }

    /** A server reachable at {@code inprocess:NAME} by {@link #open}. */
    public static InProcessServerBuilder inProcessServer(String name) {
        return InProcessServerBuilder.forName(name);
    }
}
