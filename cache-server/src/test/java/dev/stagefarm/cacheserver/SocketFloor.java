package dev.stagefarm.cacheserver;

import dev.stagefarm.common.Digest;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;

/**
 * The benchmark's socket floor: what a verified read over loopback TCP reaches on this machine
 * with no protocol and no store. {@code SocketFloor FILE} runs in a process of its own, prints
 * {@code PORT n}, and sends the whole file to each connection, 1 MiB read at a time from the page
 * cache; {@link #read} does the client's part of a verified read, the socket read and sha256.
 * Any gRPC transport pays this and more: the gap between it and the cache-server is what the
 * protocol and the store cost, the gap between it and one thread hashing the file is what the
 * second process and the socket cost.
 */
final class SocketFloor {

    private static final int CHUNK = 1 << 20;

    private SocketFloor() {}

    public static void main(String[] args) throws IOException {
        Path file = Path.of(args[0]);
        try (ServerSocketChannel server = ServerSocketChannel.open().bind(new InetSocketAddress("127.0.0.1", 0))) {
            System.out.println("PORT " + ((InetSocketAddress) server.getLocalAddress()).getPort());
            System.out.flush();
            ByteBuffer buffer = ByteBuffer.allocateDirect(CHUNK);
            while (true) {
                try (SocketChannel socket = server.accept();
                        FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
                    buffer.clear();
                    while (channel.read(buffer) >= 0 || buffer.position() > 0) {
                        buffer.flip();
                        socket.write(buffer);
                        buffer.compact();
                    }
                }
            }
        }
    }

    /** Reads everything the floor process on {@code port} sends and checks it hashes to {@code expected}. */
    static void read(int port, Digest expected) throws IOException {
        MessageDigest sha256 = Digest.newSha256();
        ByteBuffer buffer = ByteBuffer.allocateDirect(CHUNK);
        try (SocketChannel socket = SocketChannel.open(new InetSocketAddress("127.0.0.1", port))) {
            while (socket.read(buffer) >= 0) {
                buffer.flip();
                sha256.update(buffer);
                buffer.clear();
            }
        }
        if (!Digest.fromBytes(sha256.digest()).equals(expected)) {
            throw new IllegalStateException("the socket floor's bytes do not hash to " + expected);
        }
    }
}
