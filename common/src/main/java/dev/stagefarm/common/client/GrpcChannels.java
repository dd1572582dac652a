package dev.stagefarm.common.client;

import dev.stagefarm.common.net.HostPort;
import dev.stagefarm.common.net.Keepalive;
import io.grpc.ManagedChannel;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.netty.NettyChannelBuilder;
import io.netty.channel.socket.nio.NioDomainSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import java.net.InetSocketAddress;
import java.net.UnixDomainSocketAddress;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Channels to stagefarm's servers by address: {@code HOST:PORT} over HTTP/2 (plaintext, or TLS
 * and a token as a {@link ClientSecurity} says), or
 * {@code inprocess:NAME} for components wired into one process (the embedded farm), which
 * then talk gRPC without a socket.
 */
public final class GrpcChannels {

    public static final String IN_PROCESS = "inprocess:";

    /** {@code unix:PATH}: a server on a Unix domain socket, reachable only as its file permissions allow. */
    public static final String UNIX = "unix:";

    /**
     * HTTP/2 receive window per stream: 8 chunks of 1 MiB in flight, at most 8 MiB buffered per
     * read. With the default 1 MiB window, sending and hashing on the two sides take turns.
     */
    private static final int FLOW_CONTROL_WINDOW = 8 << 20;

    private static final Logger log = LoggerFactory.getLogger(GrpcChannels.class);

    /** TCP channels' event loop, in place of gRPC's shared one, so that a CLI can stop it before exiting. */
    private static final ClientEventLoop TCP_CLIENTS = new ClientEventLoop("grpc-tcp-client", 0);

    /** Unix-socket channels' event loop (one thread: a CLI talks to one local farm). */
    private static final ClientEventLoop UNIX_CLIENTS = new ClientEventLoop("grpc-unix-client", 1);

    /** Every call says which release and protocol it comes from (the version handshake). */
    private static final io.grpc.ClientInterceptor ANNOUNCE =
            dev.stagefarm.common.version.VersionHeaders.client(dev.stagefarm.common.version.FarmVersion.CURRENT);

    private GrpcChannels() {}

    public static ManagedChannel open(String address) {
        return open(address, ClientSecurity.NONE);
    }

    /**
     * A channel to {@code address} with a token and TLS as {@code security} says. In-process
     * channels (the embedded farm) ignore both: they never leave the process.
     */
    public static ManagedChannel open(String address, ClientSecurity security) {
        return open(address, security, false);
    }

    /**
     * As {@link #open(String, ClientSecurity)}, pinging the server ({@link Keepalive}) when
     * {@code keepalive}: only for servers that permit it (the coordinator), others end a
     * connection that pings too often.
     */
    public static ManagedChannel open(String address, ClientSecurity security, boolean keepalive) {
        if (address.startsWith(UNIX)) {
            // a local farm's socket: the file's permissions decide who may call, no TLS or token
            return NettyChannelBuilder.forAddress(UnixDomainSocketAddress.of(address.substring(UNIX.length())))
                    .channelType(NioDomainSocketChannel.class, UnixDomainSocketAddress.class)
                    .eventLoopGroup(UNIX_CLIENTS.group())
                    .usePlaintext()
                    .flowControlWindow(FLOW_CONTROL_WINDOW)
                    .intercept(ANNOUNCE)
                    .build();
        }
        if (address.startsWith(IN_PROCESS)) {
            return InProcessChannelBuilder.forName(address.substring(IN_PROCESS.length()))
                    .intercept(ANNOUNCE)
                    .build();
        }
        HostPort hp = HostPort.parse(address);
        if (security.token() != null && !security.tls() && !isLoopback(hp.host())) {
            log.warn("sending a token to {} without TLS: anyone on the path can read it; pass --tls-ca", address);
        }
        NettyChannelBuilder builder = NettyChannelBuilder.forAddress(hp.host(), hp.port(), security.credentials())
                .channelType(NioSocketChannel.class, InetSocketAddress.class)
                .eventLoopGroup(TCP_CLIENTS.group())
                .flowControlWindow(FLOW_CONTROL_WINDOW)
                .intercept(ANNOUNCE);
        return (keepalive ? Keepalive.client(builder) : builder).build();
    }

    private static boolean isLoopback(String host) {
        return host.equals("localhost") || host.startsWith("127.") || host.equals("::1");
    }

    /**
     * Stops the event loops this process's client channels share (TCP and Unix socket), for a
     * command-line process about to exit after closing its channels; see {@link ClientEventLoop}.
     * A channel opened later starts them again.
     */
    public static void stopClientThreads() {
        TCP_CLIENTS.stop();
        UNIX_CLIENTS.stop();
    }

    /**
     * Closes a command's channel and waits (briefly) for its transports to end, so that a
     * reconnect gRPC had scheduled does not reach an event loop {@link #stopClientThreads}
     * already stopped (Netty then logs a warning with a stack trace at the user).
     */
    public static void close(ManagedChannel channel) {
        channel.shutdownNow();
        try {
            channel.awaitTermination(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** A server reachable at {@code inprocess:NAME} by {@link #open}. */
    public static InProcessServerBuilder inProcessServer(String name) {
        return InProcessServerBuilder.forName(name);
    }
}
