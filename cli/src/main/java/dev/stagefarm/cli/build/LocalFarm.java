package dev.stagefarm.cli.build;

import dev.stagefarm.common.client.GrpcChannels;
import dev.stagefarm.proto.farm.CoordinatorGrpc;
import dev.stagefarm.proto.farm.FarmInfoRequest;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * The long-lived farm on this machine ({@code stagefarm farm start}): where its sockets live and
 * whether it answers. {@code stagefarm build} without {@code --coordinator} uses it when it runs,
 * as the Docker CLI uses a running daemon, and runs a farm in its own process otherwise.
 */
public final class LocalFarm {

    /** Overrides {@link #DEFAULT_SOCKET_DIR}. */
    public static final String SOCKET_DIR_ENV = "STAGEFARM_SOCKET_DIR";

    public static final Path DEFAULT_SOCKET_DIR = Path.of("/run/stagefarm");

    private LocalFarm() {}

    public static Path socketDir() {
        return socketDir(System.getenv());
    }

    /** The socket directory {@code env} names (a resident client passes its caller's environment). */
    public static Path socketDir(Map<String, String> env) {
        String fromEnv = env.get(SOCKET_DIR_ENV);
        return fromEnv == null || fromEnv.isBlank() ? DEFAULT_SOCKET_DIR : Path.of(fromEnv);
    }

    public static Path pidFile(Path socketDir) {
        return socketDir.resolve("farm.pid");
    }

    public static String address(Path socketDir) {
        return GrpcChannels.UNIX
                + socketDir.resolve(EmbeddedFarm.COORDINATOR_SOCKET).toAbsolutePath();
    }

    /**
     * The local farm's address when one answers in {@code socketDir}. A farm whose process is
     * alive is waited for (a busy machine may take seconds to answer), as the Docker CLI waits for
     * its daemon: a build must not quietly run on another farm, with other settings, because the
     * local one was slow. Only a socket without a live farm behind it is passed over.
     */
    public static Optional<String> running(Path socketDir) {
        if (!Files.exists(socketDir.resolve(EmbeddedFarm.COORDINATOR_SOCKET))) {
            return Optional.empty();
        }
        boolean alive = alive(socketDir);
        Duration patience = alive ? Duration.ofSeconds(30) : Duration.ofSeconds(2);
        String address = address(socketDir);
        ManagedChannel channel = GrpcChannels.open(address);
        try {
            CoordinatorGrpc.CoordinatorBlockingStub stub = CoordinatorGrpc.newBlockingStub(channel)
                    .withDeadlineAfter(patience.toMillis(), TimeUnit.MILLISECONDS);
            // a live farm still opening its socket is waited for; a dead one's socket fails at once
            (alive ? stub.withWaitForReady() : stub).getFarmInfo(FarmInfoRequest.getDefaultInstance());
            return Optional.of(address);
        } catch (StatusRuntimeException e) {
            // a socket file left behind by a farm that is gone
            return Optional.empty();
        } finally {
            channel.shutdownNow();
        }
    }

    /** Whether the farm's pid file names a live process. */
    private static boolean alive(Path socketDir) {
        try {
            long pid = Long.parseLong(Files.readString(pidFile(socketDir)).strip());
            return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
        } catch (IOException | NumberFormatException e) {
            return false;
        }
    }
}
