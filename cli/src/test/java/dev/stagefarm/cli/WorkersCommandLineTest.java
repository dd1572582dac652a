package dev.stagefarm.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.cli.commands.ConfigDefaults;
import dev.stagefarm.proto.farm.CoordinatorGrpc;
import dev.stagefarm.proto.farm.DrainWorkerRequest;
import dev.stagefarm.proto.farm.DrainWorkerResponse;
import io.grpc.Server;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** {@code stagefarm workers} as an operator types it, against a coordinator on loopback. */
class WorkersCommandLineTest {

    /** The coordinator's drain call, recording which workers it was asked to drain. */
    private static final class Coordinator extends CoordinatorGrpc.CoordinatorImplBase {
        final List<String> drained = new CopyOnWriteArrayList<>();

        @Override
        public void drainWorker(DrainWorkerRequest request, StreamObserver<DrainWorkerResponse> responses) {
            drained.add(request.getName());
            responses.onNext(DrainWorkerResponse.getDefaultInstance());
            responses.onCompleted();
        }
    }

    private static int run(StringWriter err, String... args) throws Exception {
        CommandLine cli = Main.commandLine(args, CommandLine.defaultFactory(), ConfigDefaults.load(Map.of()));
        cli.setErr(new PrintWriter(err, true));
        return cli.execute(args);
    }

    @Test
    void theCoordinatorMayBeNamedBeforeOrAfterTheDrainSubcommand() throws Exception {
        Coordinator coordinator = new Coordinator();
        Server server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
                .addService(coordinator)
                .build()
                .start();
        try {
            String address = "127.0.0.1:" + server.getPort();
            StringWriter err = new StringWriter();
            assertThat(run(err, "workers", "drain", "w1", "--coordinator", address))
                    .isZero();
            assertThat(run(err, "workers", "--coordinator", address, "drain", "w2"))
                    .isZero();
            assertThat(coordinator.drained).containsExactly("w1", "w2");
            assertThat(err.toString()).isEmpty();
        } finally {
            server.shutdownNow();
        }
    }

    @Test
    void anUnreachableCoordinatorIsOneSentenceNamingItAndTheFlag() throws Exception {
        int port;
        try (ServerSocket free = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = free.getLocalPort();
        }
        for (String[] args : List.of(
                new String[] {"workers", "--coordinator", "127.0.0.1:" + port},
                new String[] {"workers", "drain", "w1", "--coordinator", "127.0.0.1:" + port})) {
            StringWriter err = new StringWriter();
            assertThat(run(err, args)).isEqualTo(1);
            assertThat(err.toString().lines())
                    .as("what %s prints", String.join(" ", args))
                    .singleElement()
                    .asString()
                    .startsWith("error: cannot reach the farm's coordinator at 127.0.0.1:" + port)
                    .contains("--coordinator HOST:PORT");
        }
    }

    @Test
    void noCoordinatorAtAllSaysWhereToGiveIt() throws Exception {
        StringWriter err = new StringWriter();
        assertThat(run(err, "workers", "drain", "w1")).isEqualTo(1);
        assertThat(err.toString()).contains("give the coordinator: --coordinator HOST:PORT");
    }
}
