package dev.stagefarm.cli.build;

import dev.stagefarm.common.client.GrpcChannels;
import dev.stagefarm.proto.farm.CoordinatorGrpc;
import dev.stagefarm.proto.farm.FarmInfoRequest;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import java.nio.file.Files;
import java.nio.file.Path;
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

    /** The local farm's address when one answers in {@code socketDir}. */
    public static Optional<String> running(Path socketDir) {
        if (!Files.exists(socketDir.resolve(EmbeddedFarm.COORDINATOR_SOCKET))) {
            return Optional.empty();
        }
        String address = address(socketDir);
        ManagedChannel channel = GrpcChannels.open(address);
        try {
            CoordinatorGrpc.newBlockingStub(channel)
                    .withDeadlineAfter(2, TimeUnit.SECONDS)
                    .getFarmInfo(FarmInfoRequest.getDefaultInstance());
            return Optional.of(address);
        } catch (StatusRuntimeException e) {
            // a socket file left behind by a farm that is gone
            return Optional.empty();
        } finally {
            channel.shutdownNow();
        }
    }
}
