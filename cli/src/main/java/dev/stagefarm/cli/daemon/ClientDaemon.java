package dev.stagefarm.cli.daemon;

import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.OptionalInt;
import java.util.concurrent.atomic.AtomicInteger;
import jdk.net.ExtendedSocketOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This user's resident build client: a warm JVM on a Unix socket in the user's private directory
 * that runs the commands thin starts hand it, one thread each. It serves only its own user
 * (the directory is 0700, the socket 0600, and each connection's peer credentials are checked),
 * holds a lock so that one daemon serves a socket, and exits after {@code idle} without commands.
 */
public final class ClientDaemon {

    /** Runs one command for a session; empty when the thin start should run it in a JVM of its own. */
    public interface Runner {
        OptionalInt run(String cwd, String[] args, Map<String, String> env) throws InterruptedException;
    }

    private static final Logger log = LoggerFactory.getLogger(ClientDaemon.class);

    private final Path socket;
    private final Duration idle;
    private final Runner runner;
    private final AtomicInteger active = new AtomicInteger();
    private volatile long lastUsed = System.nanoTime();

    public ClientDaemon(Path socket, Duration idle, Runner runner) {
        this.socket = socket;
        this.idle = idle;
        this.runner = runner;
    }

    /** Serves until idle; returns at once when another daemon already serves this socket. */
    public void serve() throws IOException {
        Path lockFile = socket.resolveSibling(socket.getFileName() + ".lock");
        try (FileChannel lockChannel = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                FileLock lock = lockChannel.tryLock()) {
            if (lock == null) {
                log.info("another client daemon serves {}", socket);
                return;
            }
            Files.deleteIfExists(socket); // left by a daemon that died: the lock says none runs
            Files.writeString(pidFile(socket), ProcessHandle.current().pid() + "\n");
            // SIGTERM (a logout, a script stopping it) ends the JVM without the finally below
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                try {
                    Files.deleteIfExists(socket);
                    Files.deleteIfExists(pidFile(socket));
                } catch (IOException e) {
                    // the next daemon replaces both
                }
            }));
            try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
                server.bind(UnixDomainSocketAddress.of(socket));
                Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-------"));
                RoutedOutput.install();
                Thread.ofPlatform().daemon().name("client-daemon-idle").start(() -> closeWhenIdle(server));
                log.info("client daemon serving {} (exits after {} without commands)", socket, idle);
                while (true) {
                    SocketChannel connection;
                    try {
                        connection = server.accept();
                    } catch (ClosedChannelException closedWhenIdle) {
                        break;
                    }
                    active.incrementAndGet();
                    Thread.ofPlatform().name("client-command").start(() -> {
                        try {
                            handle(connection);
                        } finally {
                            lastUsed = System.nanoTime();
                            active.decrementAndGet();
                        }
                    });
                }
            } finally {
                Files.deleteIfExists(socket);
                Files.deleteIfExists(pidFile(socket));
            }
        }
        log.info("client daemon idle for {}: exiting", idle);
    }

    /** Where the daemon serving {@code socket} writes its process id (for scripts that stop it). */
    public static Path pidFile(Path socket) {
        return socket.resolveSibling(socket.getFileName().toString().replaceFirst("\\.sock$", "") + ".pid");
    }

    private void closeWhenIdle(ServerSocketChannel server) {
        while (true) {
            try {
                Thread.sleep(Math.min(idle.toMillis(), 5_000));
            } catch (InterruptedException e) {
                return;
            }
            if (active.get() == 0 && System.nanoTime() - lastUsed > idle.toNanos()) {
                try {
                    server.close();
                } catch (IOException e) {
                    log.warn("closing the client daemon's socket: {}", e.toString());
                }
                return;
            }
        }
    }

    private void handle(SocketChannel connection) {
        try (connection) {
            String peer = connection
                    .getOption(ExtendedSocketOptions.SO_PEERCRED)
                    .user()
                    .getName();
            if (!peer.equals(System.getProperty("user.name"))) {
                log.warn("refused a connection from user {}", peer);
                return;
            }
            InputStream raw = Channels.newInputStream(connection);
            DataInputStream in = new DataInputStream(raw);
            if (in.readInt() != DaemonProtocol.MAGIC) {
                return;
            }
            String cwd = DaemonProtocol.readString(in);
            String[] args = new String[in.readInt()];
            for (int i = 0; i < args.length; i++) {
                args[i] = DaemonProtocol.readString(in);
            }
            int n = in.readInt();
            Map<String, String> env = new HashMap<>();
            for (int i = 0; i < n; i++) {
                env.put(DaemonProtocol.readString(in), DaemonProtocol.readString(in));
            }
            boolean stdoutTty = in.readBoolean();
            boolean stderrTty = in.readBoolean();
            Session session = new Session(
                    cwd,
                    args,
                    Map.copyOf(env),
                    stdoutTty,
                    stderrTty,
                    new BufferedOutputStream(Channels.newOutputStream(connection), 1 << 16));
            Thread command = Thread.currentThread();
            // The thin start sends nothing more: end of stream means Ctrl-C (or a killed client).
            Thread watcher = Thread.ofPlatform().daemon().name("client-hangup").start(() -> {
                try {
                    raw.read();
                } catch (IOException e) {
                    // closed: the same as end of stream
                }
                if (!session.closed()) {
                    session.markClosed();
                    command.interrupt();
                }
            });
            Session.CURRENT.set(session);
            OptionalInt code;
            try {
                code = runner.run(cwd, args, session.env);
            } finally {
                Session.CURRENT.remove();
            }
            if (code.isEmpty() && session.wroteOutput()) {
                log.warn("a command asked to run in its own JVM after it printed: {}", String.join(" ", args));
                code = OptionalInt.of(1);
            }
            session.finish(code.isPresent() ? DaemonProtocol.EXIT : DaemonProtocol.FALLBACK, code.orElse(0));
            Thread.interrupted(); // a hang-up after the command ended interrupts nothing that matters
            watcher.interrupt();
        } catch (IOException | InterruptedException e) {
            log.debug("client connection: {}", e.toString());
        } catch (RuntimeException e) {
            log.warn("client command failed", e);
        }
    }
}
