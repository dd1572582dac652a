package dev.stagefarm.cacheserver.dataport;

import static dev.stagefarm.cacheserver.TestServers.randomBytes;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.stagefarm.cacheclient.CacheClient;
import dev.stagefarm.cacheserver.CacheServer;
import dev.stagefarm.cacheserver.CacheServerConfig;
import dev.stagefarm.cacheserver.edge.CacheMetrics;
import dev.stagefarm.common.Digest;
import dev.stagefarm.common.net.HostPort;
import dev.stagefarm.common.server.GrpcServers;
import dev.stagefarm.common.server.ServerTls;
import dev.stagefarm.common.testing.TestPki;
import dev.stagefarm.proto.cache.ContentStoreGrpc;
import dev.stagefarm.proto.cache.ReadRequest;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.netty.NettyChannelBuilder;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Clients that do not play by the data port's rules, on real loopback sockets against a real
 * cache-server: silent, trickling, speaking another protocol, guessing tickets, hoarding
 * connections. Each is closed, and the honest read beside it still works.
 */
class DataPortHostileTest {

    private static final int MiB = 1 << 20;
    /** Long enough that "closed at once" cannot be the ticket timeout at work. */
    private static final Duration PATIENT = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final List<AutoCloseable> toClose = new ArrayList<>();
    private CacheServer server;
    private ManagedChannel channel;

    private void start(DataPortLimits limits) throws Exception {
        HostPort listen = HostPort.parse("127.0.0.1:0");
        server = new CacheServer(
                        new CacheServerConfig(listen, dir.resolve("data")), registry, GrpcServers.netty(listen))
                .withDataPort(listen, ServerTls.NONE, limits)
                .start();
        channel = NettyChannelBuilder.forAddress("127.0.0.1", server.port())
                .usePlaintext()
                .build();
    }

    @AfterEach
    void stop() throws Exception {
        for (AutoCloseable c : toClose) {
            c.close();
        }
        if (channel != null) {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
        if (server != null) {
            server.close();
        }
    }

    private double rejected(String reason) {
        Counter counter = registry.find("stagefarm.dataport.rejected")
                .tag("reason", reason)
                .counter();
        return counter == null ? 0 : counter.count();
    }

    /** A connection to the data port from {@code from} (any loopback address on Linux). */
    private Socket connect(String from) throws IOException {
        Socket socket = new Socket();
        toClose.add(socket);
        socket.bind(new InetSocketAddress(InetAddress.getByName(from), 0));
        socket.connect(new InetSocketAddress("127.0.0.1", server.dataPort()), 5_000);
        return socket;
    }

    /**
     * Whether the server has closed {@code socket}: reads what it sent (an error frame, say)
     * until the end of the stream or a reset (closed) or 50 ms of silence (still open).
     */
    private static boolean closedByServer(Socket socket) throws IOException {
        socket.setSoTimeout(50);
        InputStream in = socket.getInputStream();
        byte[] buffer = new byte[256];
        try {
            while (true) {
                if (in.read(buffer) < 0) {
                    return true;
                }
            }
        } catch (SocketTimeoutException silent) {
            return false;
        } catch (SocketException reset) {
            return true;
        }
    }

    /** Stores {@code blob} and opens a read of it, returning the data port ticket. */
    private byte[] ticketFor(Digest digest) {
        return ContentStoreGrpc.newBlockingStub(channel)
                .openRead(ReadRequest.newBuilder().setDigest(digest.toString()).build())
                .getTicket()
                .toByteArray();
    }

    /** The data port's protocol by hand, over {@code socket}: the bytes, or the server's error. */
    private static byte[] read(Socket socket, byte[] ticket) throws IOException {
        OutputStream out = socket.getOutputStream();
        out.write(DataPort.MAGIC);
        out.write(ticket);
        DataInputStream in = new DataInputStream(socket.getInputStream());
        ByteArrayOutputStream data = new ByteArrayOutputStream();
        for (int n; (n = in.readInt()) != 0; ) {
            if (n < 0) {
                Status.Code code = Status.fromCodeValue(in.readInt()).getCode();
                throw new IOException(code + ": " + new String(in.readNBytes(in.readInt()), StandardCharsets.UTF_8));
            }
            data.write(in.readNBytes(n));
        }
        return data.toByteArray();
    }

    private Digest upload(byte[] blob) throws Exception {
        try (CacheClient client = CacheClient.connect("127.0.0.1:" + server.port())) {
            return client.upload(blob);
        }
    }

    @Test
    void aSilentConnectionStaysOpenForTwoSecondsThenIsClosed() throws Exception {
        start(DataPortLimits.DEFAULTS);
        assertThat(DataPortLimits.DEFAULTS.ticketTimeout()).isEqualTo(Duration.ofSeconds(2));
        long started = System.nanoTime();
        Socket idle = connect("127.0.0.1");

        // Open all through its first second (a client on a busy machine is not hung up on early) ...
        await().during(Duration.ofSeconds(1)).atMost(Duration.ofMillis(1800)).until(() -> !closedByServer(idle));
        // ... and closed soon after its two seconds, never before them.
        await().atMost(Duration.ofSeconds(5)).until(() -> closedByServer(idle));
        assertThat(Duration.ofNanos(System.nanoTime() - started)).isGreaterThanOrEqualTo(Duration.ofSeconds(2));
        // the watchdog closes the socket, then the serving thread counts it
        await().atMost(Duration.ofSeconds(5)).until(() -> rejected("timeout") == 1);
    }

    @Test
    void overTlsAClientThatNeverFinishesItsHandshakeIsClosedAtTheDeadline() throws Exception {
        TestPki pki = TestPki.create(dir.resolve("pki"));
        try (ReadTickets tickets = new ReadTickets(System::nanoTime);
                DataPort port = DataPort.open(
                        HostPort.parse("127.0.0.1:0"),
                        new ServerTls(pki.serverCert(), pki.serverKey(), pki.ca()),
                        tickets,
                        new CacheMetrics(registry),
                        DataPortLimits.DEFAULTS)) {
            long started = System.nanoTime();
            // Plain TCP to a TLS port: the server waits in its handshake for a ClientHello that never comes.
            Socket silent = new Socket("127.0.0.1", port.port());
            toClose.add(silent);
            await().atMost(Duration.ofSeconds(5)).until(() -> closedByServer(silent));
            assertThat(Duration.ofNanos(System.nanoTime() - started)).isGreaterThanOrEqualTo(Duration.ofSeconds(2));
            // the watchdog closes the socket, then the serving thread counts it
            await().atMost(Duration.ofSeconds(5)).until(() -> rejected("timeout") == 1);
        }
    }

    @Test
    void aClientThatTricklesItsTicketIsClosedAtTheSameDeadline() throws Exception {
        start(DataPortLimits.DEFAULTS);
        long started = System.nanoTime();
        Socket slow = connect("127.0.0.1");
        byte[] request = new byte[DataPort.MAGIC.length + ReadTickets.TICKET_BYTES];
        System.arraycopy(DataPort.MAGIC, 0, request, 0, DataPort.MAGIC.length);
        AtomicInteger sent = new AtomicInteger();
        // A byte every 150 ms: the whole request would take 5.4 s, each byte well inside any idle timeout.
        Thread trickler = Thread.ofVirtual().start(() -> {
            try {
                OutputStream out = slow.getOutputStream();
                for (byte b : request) {
                    out.write(b);
                    out.flush();
                    sent.incrementAndGet();
                    Thread.sleep(150);
                }
            } catch (IOException | InterruptedException closed) {
                // The server hung up: what this test wants.
            }
        });
        await().atMost(Duration.ofSeconds(5)).until(() -> closedByServer(slow));
        assertThat(Duration.ofNanos(System.nanoTime() - started)).isGreaterThanOrEqualTo(Duration.ofSeconds(2));
        // It was still sending when it was cut off, not done.
        assertThat(sent.get()).isGreaterThan(5).isLessThan(request.length);
        trickler.join(5_000);
        // the watchdog closes the socket, then the serving thread counts it
        await().atMost(Duration.ofSeconds(5)).until(() -> rejected("timeout") == 1);
    }

    @Test
    void anotherProtocolOrAGuessedTicketIsClosedAtOnce() throws Exception {
        start(DataPortLimits.DEFAULTS.withTicketTimeout(PATIENT));
        // Shorter than a ticket: the server must not sit waiting for the rest.
        Socket http = connect("127.0.0.1");
        http.getOutputStream().write("GET / HTTP/1.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        await().atMost(Duration.ofSeconds(5)).until(() -> closedByServer(http));
        assertThat(rejected("bad_request")).isEqualTo(1);

        Socket guess = connect("127.0.0.1");
        byte[] forged = randomBytes(ReadTickets.TICKET_BYTES, 9);
        try {
            read(guess, forged);
            throw new AssertionError("a forged ticket read something");
        } catch (IOException e) {
            assertThat(e).hasMessageContaining("NOT_FOUND");
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> closedByServer(guess));
        assertThat(rejected("unknown_ticket")).isEqualTo(1);
    }

    @Test
    void oneAddressGetsAQuarterOfTheConnectionsAndAnotherStillReads() throws Exception {
        start(DataPortLimits.DEFAULTS.withTicketTimeout(PATIENT).withMaxConnections(8));
        byte[] large = randomBytes(3 * MiB, 10);
        Digest digest = upload(large);

        Socket first = connect("127.0.0.1");
        Socket second = connect("127.0.0.1");
        Socket third = connect("127.0.0.1");
        await().atMost(Duration.ofSeconds(5)).until(() -> closedByServer(third));
        assertThat(closedByServer(first)).isFalse();
        assertThat(closedByServer(second)).isFalse();
        assertThat(rejected("address_full")).isEqualTo(1);

        // Another address (127.0.0.2 is loopback too) is served beside the hoarder.
        assertThat(read(connect("127.0.0.2"), ticketFor(digest))).isEqualTo(large);

        // A slot given back is a slot again: the hoarder's own read goes through after it closes one.
        first.close();
        await().atMost(Duration.ofSeconds(5))
                .ignoreExceptions()
                .untilAsserted(() -> assertThat(read(connect("127.0.0.1"), ticketFor(digest)))
                        .isEqualTo(large));
    }

    @Test
    void aClientRefusedForItsAddressReadsOverGrpcAndUsesThePortAgainLater() throws Exception {
        start(DataPortLimits.DEFAULTS.withTicketTimeout(PATIENT).withMaxConnections(4));
        byte[] large = randomBytes(3 * MiB, 11);
        Digest digest = upload(large);
        // The one slot 127.0.0.1 gets (a quarter of 4) is taken.
        Socket hoarder = connect("127.0.0.1");
        try (CacheClient client = CacheClient.connect("127.0.0.1:" + server.port())) {
            assertThat(client.readBytes(digest)).isEqualTo(large);
            assertThat(requests("Read")).isEqualTo(1);
            assertThat(requests("DataPortRead")).isZero();
            assertThat(rejected("address_full")).isEqualTo(1);

            // Refused is not unreachable: once the slot is free, reads take the data port again.
            hoarder.close();
            await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
                assertThat(client.readBytes(digest)).isEqualTo(large);
                assertThat(requests("DataPortRead")).isEqualTo(1);
            });
        }
    }

    private long requests(String method) {
        return registry.find("stagefarm.cache.requests").tag("method", method).timers().stream()
                .mapToLong(io.micrometer.core.instrument.Timer::count)
                .sum();
    }

    @Test
    void whenThePortIsFullEveryNewConnectionIsClosed() throws Exception {
        start(DataPortLimits.DEFAULTS.withTicketTimeout(PATIENT).withMaxConnections(4));
        // One each from four addresses fills it (a quarter of 4 is 1 per address).
        for (int i = 1; i <= 4; i++) {
            connect("127.0.0." + i);
        }
        Socket fifth = connect("127.0.0.5");
        await().atMost(Duration.ofSeconds(5)).until(() -> closedByServer(fifth));
        assertThat(rejected("port_full")).isEqualTo(1);
        assertThat(rejected("address_full")).isZero();
    }
}
