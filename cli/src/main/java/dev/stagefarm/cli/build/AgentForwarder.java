package dev.stagefarm.cli.build;

import com.google.protobuf.ByteString;
import dev.stagefarm.proto.farm.AgentFrame;
import dev.stagefarm.proto.farm.CoordinatorGrpc;
import io.grpc.Channel;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * The client's end of {@code --ssh}: answers the coordinator's ForwardAgents stream by
 * connecting each relayed connection to the local agent it names. Key files are loaded into a
 * private {@code ssh-agent} that lives as long as the build. Keys never leave this machine's
 * agents; only the agent protocol's requests and answers travel.
 */
public final class AgentForwarder implements AutoCloseable {

    private final Map<String, Path> sockets;
    private final List<Process> privateAgents;
    private final Path privateDir;
    private final Map<String, SocketChannel> connections = new ConcurrentHashMap<>();
    private StreamObserver<AgentFrame> toCoordinator;

    private AgentForwarder(Map<String, Path> sockets, List<Process> privateAgents, Path privateDir) {
        this.sockets = sockets;
        this.privateAgents = privateAgents;
        this.privateDir = privateDir;
    }

    /** Prepares every agent and registers {@code sessionId} with the coordinator; returns once it is. */
    public static AgentForwarder start(Channel coordinator, String sessionId, List<SshSpec> specs)
            throws IOException, InterruptedException {
        Map<String, Path> sockets = new LinkedHashMap<>();
        List<Process> agents = new ArrayList<>();
        Path dir = null;
        AgentForwarder forwarder = null;
        try {
            for (SshSpec spec : specs) {
                if (spec.paths().size() == 1 && isSocket(spec.paths().getFirst())) {
                    sockets.put(spec.id(), spec.paths().getFirst());
                    continue;
                }
                if (dir == null) {
                    dir = Files.createTempDirectory(
                            "stagefarm-ssh-",
                            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
                }
                Path socket = dir.resolve(spec.id() + ".sock");
                agents.add(privateAgent(socket, spec));
                sockets.put(spec.id(), socket);
            }
            forwarder = new AgentForwarder(sockets, agents, dir);
            forwarder.register(CoordinatorGrpc.newStub(coordinator), sessionId);
            return forwarder;
        } catch (IOException | InterruptedException | RuntimeException e) {
            if (forwarder != null) {
                forwarder.close();
            } else {
                agents.forEach(Process::destroy);
            }
            throw e;
        }
    }

    private static boolean isSocket(Path p) throws IOException {
        if (!Files.exists(p)) {
            throw new IOException("--ssh: " + p + " does not exist");
        }
        return ((int) Files.getAttribute(p, "unix:mode") & 0170000) == 0140000; // S_IFSOCK
    }

    /** {@code ssh-agent -D -a SOCKET} with the spec's keys added by {@code ssh-add}. */
    private static Process privateAgent(Path socket, SshSpec spec) throws IOException, InterruptedException {
        Process agent;
        try {
            agent = new ProcessBuilder("ssh-agent", "-D", "-a", socket.toString())
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .start();
        } catch (IOException e) {
            throw new IOException(
                    "--ssh " + spec.id() + " with key files needs ssh-agent (package openssh-client): "
                            + e.getMessage(),
                    e);
        }
        for (int i = 0; i < 100 && !Files.exists(socket); i++) {
            Thread.sleep(20);
        }
        List<String> add = new ArrayList<>(List.of("ssh-add", "-q"));
        spec.paths().forEach(p -> add.add(p.toString()));
        ProcessBuilder adder = new ProcessBuilder(add).redirectErrorStream(true);
        adder.environment().put("SSH_AUTH_SOCK", socket.toString());
        Process added = adder.start();
        String output = new String(added.getInputStream().readAllBytes());
        if (added.waitFor() != 0) {
            agent.destroy();
            throw new IOException(
                    "--ssh " + spec.id() + ": ssh-add could not load " + spec.paths() + ": " + output.strip());
        }
        return agent;
    }

    private void register(CoordinatorGrpc.CoordinatorStub coordinator, String sessionId)
            throws IOException, InterruptedException {
        CountDownLatch registered = new CountDownLatch(1);
        Throwable[] failure = new Throwable[1];
        toCoordinator = coordinator.forwardAgents(new StreamObserver<>() {
            private boolean acknowledged;

            @Override
            public void onNext(AgentFrame frame) {
                if (!acknowledged) {
                    acknowledged = true;
                    registered.countDown();
                    return;
                }
                onFrame(frame);
            }

            @Override
            public void onError(Throwable t) {
                failure[0] = t;
                registered.countDown();
                connections.values().forEach(AgentForwarder::closeQuietly);
            }

            @Override
            public void onCompleted() {
                connections.values().forEach(AgentForwarder::closeQuietly);
            }
        });
        send(AgentFrame.newBuilder().setSessionId(sessionId).build());
        if (!registered.await(30, TimeUnit.SECONDS) || failure[0] != null) {
            throw new IOException("the coordinator did not take the build's ssh agents"
                    + (failure[0] == null ? " within 30 s" : ": " + failure[0].getMessage()));
        }
    }

    private void onFrame(AgentFrame frame) {
        String id = frame.getConnectionId();
        if (!frame.getSshId().isEmpty()) {
            open(id, frame.getSshId());
            return;
        }
        SocketChannel connection = connections.get(id);
        if (connection == null) {
            return;
        }
        if (frame.getClose()) {
            connections.remove(id);
            closeQuietly(connection);
            return;
        }
        try {
            ByteBuffer data = frame.getData().asReadOnlyByteBuffer();
            while (data.hasRemaining()) {
                connection.write(data);
            }
        } catch (IOException e) {
            closeQuietly(connection);
        }
    }

    /** Connects a relayed connection to its agent and pumps the agent's answers back. */
    private void open(String id, String sshId) {
        Path socket = sockets.get(sshId);
        SocketChannel connection;
        try {
            if (socket == null) {
                throw new IOException("no agent for ssh id " + sshId);
            }
            connection = SocketChannel.open(StandardProtocolFamily.UNIX);
            connection.connect(UnixDomainSocketAddress.of(socket));
        } catch (IOException e) {
            send(AgentFrame.newBuilder().setConnectionId(id).setClose(true).build());
            return;
        }
        connections.put(id, connection);
        Thread.ofVirtual().name("ssh-agent-" + sshId).start(() -> {
            ByteBuffer buffer = ByteBuffer.allocate(16 << 10);
            try {
                while (connection.read(buffer) >= 0) {
                    buffer.flip();
                    send(AgentFrame.newBuilder()
                            .setConnectionId(id)
                            .setData(ByteString.copyFrom(buffer))
                            .build());
                    buffer.clear();
                }
            } catch (IOException e) {
                // closed by a close frame or by the agent
            }
            if (connections.remove(id) != null) {
                send(AgentFrame.newBuilder().setConnectionId(id).setClose(true).build());
            }
            closeQuietly(connection);
        });
    }

    private synchronized void send(AgentFrame frame) {
        toCoordinator.onNext(frame);
    }

    private static void closeQuietly(SocketChannel c) {
        try {
            c.close();
        } catch (IOException e) {
            // already closed
        }
    }

    @Override
    public void close() {
        if (toCoordinator != null) {
            synchronized (this) {
                toCoordinator.onCompleted();
            }
        }
        connections.values().forEach(AgentForwarder::closeQuietly);
        privateAgents.forEach(Process::destroy);
        if (privateDir != null) {
            try (var files = Files.list(privateDir)) {
                for (Path f : files.toList()) {
                    Files.deleteIfExists(f);
                }
                Files.deleteIfExists(privateDir);
            } catch (IOException e) {
                // a temp dir left behind holds no keys: only the agents' sockets
            }
        }
    }
}
