package dev.stagefarm.worker.job;

import com.google.protobuf.ByteString;
import dev.stagefarm.proto.farm.AgentFrame;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The socket a {@code RUN --mount=type=ssh} sees: every connection a step makes to it becomes a
 * ConnectAgent stream through the coordinator to the agent the build's client forwards, so the
 * keys stay in the client's agent and only the agent protocol's bytes travel.
 */
final class SshAgentSocket implements AutoCloseable {

    /** Opens the coordinator's side of one connection, given where its answers go. */
    @FunctionalInterface
    interface Connector {
        StreamObserver<AgentFrame> connect(StreamObserver<AgentFrame> answers);
    }

    private static final Logger log = LoggerFactory.getLogger(SshAgentSocket.class);
    private static final int BUFFER = 16 << 10;

    private final ServerSocketChannel server;
    private final Path file;
    private final Set<SocketChannel> open = ConcurrentHashMap.newKeySet();

    private SshAgentSocket(ServerSocketChannel server, Path file) {
        this.server = server;
        this.file = file;
    }

    /** Listens at {@code file}, owned by uid:gid with {@code mode}, for the agent {@code sshId} of {@code session}. */
    static SshAgentSocket open(Path file, int uid, int gid, int mode, Connector connector, String session, String sshId)
            throws IOException {
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            server.bind(UnixDomainSocketAddress.of(file));
            Files.setAttribute(file, "unix:uid", uid);
            Files.setAttribute(file, "unix:gid", gid);
            Files.setAttribute(file, "unix:mode", mode);
        } catch (IOException | RuntimeException e) {
            server.close();
            throw e;
        }
        SshAgentSocket socket = new SshAgentSocket(server, file);
        Thread.ofVirtual().name("ssh-agent-accept").start(() -> socket.accept(connector, session, sshId));
        return socket;
    }

    private void accept(Connector connector, String session, String sshId) {
        while (server.isOpen()) {
            SocketChannel connection;
            try {
                connection = server.accept();
            } catch (IOException closed) {
                return;
            }
            open.add(connection);
            Thread.ofVirtual().name("ssh-agent-conn").start(() -> relay(connection, connector, session, sshId));
        }
    }

    private void relay(SocketChannel connection, Connector connector, String session, String sshId) {
        StreamObserver<AgentFrame> toAgent = connector.connect(new StreamObserver<>() {
            @Override
            public void onNext(AgentFrame frame) {
                try {
                    ByteBuffer data = frame.getData().asReadOnlyByteBuffer();
                    while (data.hasRemaining()) {
                        connection.write(data);
                    }
                } catch (IOException e) {
                    closeQuietly(connection);
                }
            }

            @Override
            public void onError(Throwable t) {
                log.warn("ssh agent {} of the build's client: {}", sshId, t.getMessage());
                closeQuietly(connection);
            }

            @Override
            public void onCompleted() {
                closeQuietly(connection);
            }
        });
        // Only this thread sends on toAgent, so its calls never interleave.
        try {
            toAgent.onNext(AgentFrame.newBuilder()
                    .setSessionId(session)
                    .setSshId(sshId)
                    .build());
            ByteBuffer buffer = ByteBuffer.allocate(BUFFER);
            while (connection.read(buffer) >= 0) {
                buffer.flip();
                toAgent.onNext(AgentFrame.newBuilder()
                        .setData(ByteString.copyFrom(buffer))
                        .build());
                buffer.clear();
            }
            toAgent.onCompleted();
        } catch (IOException e) {
            // the step closed its end, or close() did
            toAgent.onCompleted();
        } catch (RuntimeException e) {
            toAgent.onError(e);
        } finally {
            closeQuietly(connection);
            open.remove(connection);
        }
    }

    private static void closeQuietly(SocketChannel connection) {
        try {
            connection.close();
        } catch (IOException e) {
            // already gone
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
        open.forEach(SshAgentSocket::closeQuietly);
        Files.deleteIfExists(file);
    }
}
