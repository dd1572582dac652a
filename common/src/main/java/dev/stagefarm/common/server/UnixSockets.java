package dev.stagefarm.common.server;

import io.grpc.netty.NettyServerBuilder;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerDomainSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.io.IOException;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * gRPC over Unix domain sockets with Netty's NIO transport (the JDK's own AF_UNIX support, no
 * native library): how the CLI reaches a local farm, guarded by the socket file's permissions
 * as the Docker CLI is by {@code docker.sock}'s.
 */
public final class UnixSockets {

    /** The clients' event loop, started with the first channel and again after {@link #stopClients}. */
    private static EventLoopGroup client;

    private UnixSockets() {}

    static synchronized EventLoopGroup clientGroup() {
        if (client == null) {
            client = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("grpc-unix-client", true),
                NioIoHandler.newFactory());
        }
        return client;
    }

    /**
     * Stops the clients' event loop, if one runs; for a process about to exit, once its channels
     * are closed (a later channel starts a new one). A thread waiting in a system call when the
     * JVM exits holds the exit up by 300 ms (HotSpot waits that long for threads "in native"),
     * and an idle event loop is such a thread.
     */
    static void stopClients() {
        EventLoopGroup running;
        synchronized (UnixSockets.class) {
            running = client;
            client = null;
        }
        if (running != null) {
            running.shutdownGracefully(0, 0, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
        }
    }

    /** A server builder bound to {@code socket}; a stale socket file left by a dead server is replaced. */
    public static NettyServerBuilder server(Path socket) throws IOException {
        Files.createDirectories(socket.toAbsolutePath().getParent());
        Files.deleteIfExists(socket);
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(2, new DefaultThreadFactory("grpc-unix", true),
            NioIoHandler.newFactory());
        return NettyServerBuilder.forAddress(UnixDomainSocketAddress.of(socket))
            .channelType(NioServerDomainSocketChannel.class)
            .bossEventLoopGroup(group)
            .workerEventLoopGroup(group);
    }
}
