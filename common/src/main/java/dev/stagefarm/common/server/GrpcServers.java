package dev.stagefarm.common.server;

import dev.stagefarm.common.net.HostPort;
import io.grpc.Server;
import io.grpc.netty.NettyServerBuilder;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;

/**
 * Builds the Netty servers every stagefarm process listens with. Servers themselves take a
 * {@code ServerBuilder<?>}, so tests hand them an in-process builder instead of this one.
 */
public final class GrpcServers {

    private GrpcServers() {}

    /** A plaintext Netty server builder bound to {@code address}; port 0 binds a free port. */
    public static NettyServerBuilder netty(HostPort address) {
        return NettyServerBuilder.forAddress(address.toSocketAddress());
    }

    /**
     * A Netty server builder bound to {@code address}, serving TLS (or mutual TLS) as {@code tls} says.
     *
     * @throws IOException when a certificate or key file is missing or unreadable (the message names it)
     */
    public static NettyServerBuilder netty(HostPort address, ServerTls tls) throws IOException {
        return NettyServerBuilder.forAddress(address.toSocketAddress(), tls.credentials());
    }

    /** Parses {@code host:port} and returns {@link #netty(HostPort)}. */
    public static NettyServerBuilder netty(String hostPort) {
        return netty(HostPort.parse(hostPort));
    }

    /**
     * The address a started Netty server actually listens on, with the real port when it was
     * asked for port 0.
     *
     * @throws IllegalStateException when the server has no TCP socket (not started, or in-process)
     */
    public static HostPort boundAddress(Server server) {
        for (SocketAddress socket : server.getListenSockets()) {
            if (socket instanceof InetSocketAddress inet) {
                return new HostPort(inet.getAddress().getHostAddress(), inet.getPort());
            }
        }
        throw new IllegalStateException("server has no TCP listen socket: is it started, and not in-process?");
    }
}
