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

/**
 * gRPC over Unix domain sockets with Netty's NIO transport (the JDK's own AF_UNIX support, no
 * native library): how the CLI reaches a local farm, guarded by the socket file's permissions
 * as the Docker CLI is by {@code docker.sock}'s.
 */
public final class UnixSockets {

    private UnixSockets() {}

    /** A server builder bound to {@code socket}; a stale socket file left by a dead server is replaced. */
    public static NettyServerBuilder server(Path socket) throws IOException {
        Files.createDirectories(socket.toAbsolutePath().getParent());
        Files.deleteIfExists(socket);
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(
                2, new DefaultThreadFactory("grpc-unix", true), NioIoHandler.newFactory());
        return NettyServerBuilder.forAddress(UnixDomainSocketAddress.of(socket))
                .channelType(NioServerDomainSocketChannel.class)
                .bossEventLoopGroup(group)
                .workerEventLoopGroup(group);
    }
}
