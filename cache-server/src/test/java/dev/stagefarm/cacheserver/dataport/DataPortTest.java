package dev.stagefarm.cacheserver.dataport;

import static dev.stagefarm.cacheserver.TestServers.randomBytes;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.stagefarm.cacheclient.BlobIntegrityException;
import dev.stagefarm.cacheclient.CacheClient;
import dev.stagefarm.cacheclient.CacheException;
import dev.stagefarm.cacheserver.CacheServer;
import dev.stagefarm.cacheserver.CacheServerConfig;
import dev.stagefarm.cacheserver.TestTokens;
import dev.stagefarm.cacheserver.store.BlobReader;
import dev.stagefarm.cacheserver.store.RawRocks;
import dev.stagefarm.common.Digest;
import dev.stagefarm.common.client.ClientSecurity;
import dev.stagefarm.common.net.HostPort;
import dev.stagefarm.common.server.GrpcServers;
import dev.stagefarm.common.server.ServerTls;
import dev.stagefarm.common.testing.TestPki;
import dev.stagefarm.proto.cache.ContentStoreGrpc;
import dev.stagefarm.proto.cache.OpenReadResponse;
import dev.stagefarm.proto.cache.ReadRequest;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.netty.NettyChannelBuilder;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Large reads through OpenRead and the data port, on real loopback sockets and a real store. */
class DataPortTest {

    private static final int MiB = 1 << 20;

    @TempDir
    Path dir;

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

    private CacheServer start(ServerTls tls, Path tokens) throws Exception {
        HostPort listen = HostPort.parse("127.0.0.1:0");
        return new CacheServer(
                        new CacheServerConfig(listen, dir.resolve("data"), 0, tokens),
                        registry,
                        GrpcServers.netty(listen, tls))
                .withDataPort(listen, tls)
                .start();
    }

    /** How many reads the data port has served, whatever their outcome. */
    private long dataPortReads() {
        return registry.find("stagefarm.cache.requests").tag("method", "DataPortRead").timers().stream()
                .mapToLong(Timer::count)
                .sum();
    }

    @Test
    void aLargeBlobComesFromTheDataPortAndASmallOneInTheAnswer() throws Exception {
        byte[] large = randomBytes(5 * MiB + 17, 1);
        byte[] small = "a config blob".getBytes(StandardCharsets.UTF_8);
        try (CacheServer server = start(ServerTls.NONE, null);
                CacheClient client = CacheClient.connect("127.0.0.1:" + server.port())) {
            Digest largeDigest = client.upload(large);
            Digest smallDigest = client.upload(small);

            assertThat(client.readBytes(smallDigest)).isEqualTo(small);
            assertThat(dataPortReads()).isZero();

            Path dest = dir.resolve("large.bin");
            assertThat(client.download(largeDigest, dest)).isEqualTo(large.length);
            assertThat(Files.readAllBytes(dest)).isEqualTo(large);
            assertThat(dataPortReads()).isEqualTo(1);
            assertThat(registry.get("stagefarm.cache.requests")
                            .tag("method", "DataPortRead")
                            .tag("status", "OK")
                            .timer()
                            .count())
                    .isEqualTo(1);
        }
    }

    @Test
    void aTicketIsGoodForOneConnectionAndAForgedOneForNone() throws Exception {
        byte[] large = randomBytes(3 * MiB, 2);
        try (CacheServer server = start(ServerTls.NONE, null);
                CacheClient client = CacheClient.connect("127.0.0.1:" + server.port())) {
            Digest digest = client.upload(large);
            ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", server.port())
                    .usePlaintext()
                    .build();
            try {
                OpenReadResponse opened = ContentStoreGrpc.newBlockingStub(channel)
                        .openRead(ReadRequest.newBuilder()
                                .setDigest(digest.toString())
                                .setOffset(MiB)
                                .build());
                assertThat(opened.getSize()).isEqualTo(2L * MiB);
                assertThat(opened.getDataPort()).isEqualTo(server.dataPort());
                byte[] ticket = opened.getTicket().toByteArray();

                assertThat(rawRead(server.dataPort(), ticket)).isEqualTo(Arrays.copyOfRange(large, MiB, large.length));
                assertThatThrownBy(() -> rawRead(server.dataPort(), ticket))
                        .hasMessageContaining("NOT_FOUND")
                        .hasMessageContaining("unknown or expired read ticket");
                byte[] forged = ticket.clone();
                forged[0] ^= 1;
                assertThatThrownBy(() -> rawRead(server.dataPort(), forged))
                        .hasMessageContaining("unknown or expired read ticket");
            } finally {
                channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            }
        }
    }

    /** The data port's protocol spoken by hand: the range's bytes, or the server's error as an exception. */
    private static byte[] rawRead(int port, byte[] ticket) throws Exception {
        try (Socket socket = new Socket("127.0.0.1", port)) {
            OutputStream out = socket.getOutputStream();
            out.write(DataPort.MAGIC);
            out.write(ticket);
            DataInputStream in = new DataInputStream(socket.getInputStream());
            ByteArrayOutputStream data = new ByteArrayOutputStream();
            for (int n; (n = in.readInt()) != 0; ) {
                if (n < 0) {
                    Status.Code code = Status.fromCodeValue(in.readInt()).getCode();
                    throw new IllegalStateException(
                            code + ": " + new String(in.readNBytes(in.readInt()), StandardCharsets.UTF_8));
                }
                data.write(in.readNBytes(n));
            }
            return data.toByteArray();
        }
    }

    @Test
    void aCorruptChunkEndsTheTransferAsDataLossAndTheBlobIsGone() throws Exception {
        byte[] large = randomBytes(4 * MiB, 3);
        Digest digest;
        try (CacheServer server = start(ServerTls.NONE, null);
                CacheClient client = CacheClient.connect("127.0.0.1:" + server.port())) {
            digest = client.upload(large);
        }
        RawRocks.flipByte(dir.resolve("data"), digest, 2, 1234);
        try (CacheServer server = start(ServerTls.NONE, null);
                CacheClient client = CacheClient.connect("127.0.0.1:" + server.port())) {
            InputStream in = client.open(digest);
            byte[] buffer = new byte[64 << 10];
            long[] received = {0};
            assertThatThrownBy(() -> {
                        for (int n; (n = in.read(buffer)) >= 0; ) {
                            received[0] += n;
                        }
                    })
                    .isInstanceOf(BlobIntegrityException.class)
                    .hasMessageContaining(digest.toString());
            in.close();
            // Chunks 0 and 1 went out; chunk 2 failed its checksum before any of it was sent.
            assertThat(received[0]).isEqualTo(2L * MiB);
            assertThat(dataPortReads()).isEqualTo(1);
            assertThat(registry.get("stagefarm.cache.corrupt.blobs").counter().count())
                    .isEqualTo(1);
            assertThatThrownBy(() -> client.open(digest)).isInstanceOf(NoSuchFileException.class);
        }
    }

    @Test
    void overMutualTlsTheDataPortWantsTheSameClientCertificateAsTheGrpcPort() throws Exception {
        TestPki pki = TestPki.create(dir.resolve("pki"));
        byte[] large = randomBytes(3 * MiB, 4);
        try (CacheServer server = start(new ServerTls(pki.serverCert(), pki.serverKey(), pki.ca()), null)) {
            String address = "127.0.0.1:" + server.port();
            ClientSecurity withCertificate =
                    new ClientSecurity(null, pki.ca(), pki.clientCert(), pki.clientKey(), true);
            try (CacheClient client = CacheClient.connect(address, withCertificate)) {
                Digest digest = client.upload(large);
                assertThat(client.readBytes(digest)).isEqualTo(large);
                assertThat(dataPortReads()).isEqualTo(1);

                // A socket without a certificate gets no further than the handshake.
                SSLContext noCertificate = new ClientSecurity(null, pki.ca(), null, null, true).sslContext();
                try (Socket socket = noCertificate.getSocketFactory().createSocket("127.0.0.1", server.dataPort())) {
                    assertThatThrownBy(() -> {
                                socket.getOutputStream().write(DataPort.MAGIC);
                                socket.getOutputStream().write(new byte[ReadTickets.TICKET_BYTES]);
                                socket.getInputStream().read();
                            })
                            .isInstanceOf(IOException.class);
                }
                // Nor does plaintext.
                assertThatThrownBy(() -> rawRead(server.dataPort(), new byte[ReadTickets.TICKET_BYTES]))
                        .isInstanceOf(IOException.class);
            }
        }
    }

    @Test
    void aTeamCannotOpenAnotherTeamsBlobNorLearnItsSize() throws Exception {
        byte[] large = randomBytes(3 * MiB, 5);
        try (CacheServer server = start(ServerTls.NONE, TestTokens.write(dir, null))) {
            String address = "127.0.0.1:" + server.port();
            Digest digest;
            try (CacheClient alice = CacheClient.connect(address, ClientSecurity.token(TestTokens.ALICE))) {
                digest = alice.upload(large);
                assertThat(alice.readBytes(digest)).isEqualTo(large);
            }
            try (CacheClient bob = CacheClient.connect(address, ClientSecurity.token(TestTokens.BOB))) {
                assertThatThrownBy(() -> bob.open(digest)).isInstanceOf(NoSuchFileException.class);
            }
            try (CacheClient anonymous = CacheClient.connect(address)) {
                assertThatThrownBy(() -> anonymous.open(digest))
                        .isInstanceOfSatisfying(
                                CacheException.class, e -> assertThat(e.code()).isEqualTo(Status.Code.UNAUTHENTICATED));
            }
            assertThat(dataPortReads()).isEqualTo(1);
        }
    }

    @Test
    void withoutADataPortLargeReadsGoOverGrpc() throws Exception {
        byte[] large = randomBytes(3 * MiB, 6);
        HostPort listen = HostPort.parse("127.0.0.1:0");
        try (CacheServer server = new CacheServer(
                                new CacheServerConfig(listen, dir.resolve("data")), registry, GrpcServers.netty(listen))
                        .start();
                CacheClient client = CacheClient.connect("127.0.0.1:" + server.port())) {
            Digest digest = client.upload(large);
            assertThat(server.dataPort()).isEqualTo(-1);
            assertThat(client.readBytes(digest)).isEqualTo(large);
            assertThat(registry.get("stagefarm.cache.requests")
                            .tag("method", "Read")
                            .timer()
                            .count())
                    .isEqualTo(1);
        }
    }

    @Test
    void aClientThatCannotReachTheDataPortReadsOverGrpcFromThenOn() throws Exception {
        byte[] large = randomBytes(3 * MiB, 7);
        HostPort listen = HostPort.parse("127.0.0.1:0");
        // Bound where the client does not dial (it reaches the gRPC port's host, 127.0.0.1), as
        // behind a Kubernetes Service that does not expose the data port.
        try (CacheServer server = new CacheServer(
                                new CacheServerConfig(listen, dir.resolve("data")), registry, GrpcServers.netty(listen))
                        .withDataPort(HostPort.parse("127.0.0.2:0"), ServerTls.NONE)
                        .start();
                CacheClient client = CacheClient.connect("127.0.0.1:" + server.port())) {
            Digest digest = client.upload(large);
            assertThat(client.readBytes(digest)).isEqualTo(large);
            assertThat(client.readBytes(digest)).isEqualTo(large);
            // The first read asked for a ticket, failed to connect and fell back; the second went straight to Read.
            assertThat(registry.get("stagefarm.cache.requests")
                            .tag("method", "OpenRead")
                            .timer()
                            .count())
                    .isEqualTo(1);
            assertThat(registry.get("stagefarm.cache.requests")
                            .tag("method", "Read")
                            .timer()
                            .count())
                    .isEqualTo(2);
            assertThat(dataPortReads()).isZero();
        }
    }

    @Test
    void aTicketNobodyCameForExpiresAndReleasesItsSnapshot() {
        long[] now = {0};
        boolean[] closed = {false};
        BlobReader reader = new BlobReader() {
            @Override
            public long blobSize() {
                return 1;
            }

            @Override
            public ByteBuffer next() {
                return null;
            }

            @Override
            public void close() {
                closed[0] = true;
            }
        };
        try (ReadTickets tickets = new ReadTickets(() -> now[0])) {
            byte[] ticket = tickets.issue(Digest.of(new byte[0]), reader, 1);
            now[0] += ReadTickets.LIFETIME.toNanos();
            tickets.expire();
            assertThat(closed[0]).isTrue();
            assertThat(tickets.redeem(ticket)).isNull();
        } catch (ReadTickets.TooManyReadsException e) {
            throw new AssertionError(e);
        }
    }
}
