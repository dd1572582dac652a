package dev.stagefarm.cacheserver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.stagefarm.cacheclient.CacheClient;
import dev.stagefarm.cacheclient.CacheException;
import dev.stagefarm.common.Digest;
import dev.stagefarm.common.client.ClientSecurity;
import dev.stagefarm.common.net.HostPort;
import dev.stagefarm.common.server.GrpcServers;
import dev.stagefarm.common.server.ServerTls;
import dev.stagefarm.common.testing.TestPki;
import io.grpc.Status;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The cache-server on a real Netty port: TLS, mutual TLS, and tokens over the wire. */
class TlsAndTokensOverNettyTest {

    @TempDir
    Path dir;

    private TestPki pki;

    @BeforeEach
    void certificates() throws Exception {
        pki = TestPki.create(dir.resolve("pki"));
    }

    private CacheServer start(ServerTls tls, Path tokens) throws Exception {
        HostPort listen = HostPort.parse("127.0.0.1:0");
        return new CacheServer(
                        new CacheServerConfig(listen, dir.resolve("data"), 0, tokens),
                        new SimpleMeterRegistry(),
                        GrpcServers.netty(listen, tls))
                .start();
    }

    @Test
    void aTlsServerServesTlsClientsWithTokensAndRefusesPlaintextOnes() throws Exception {
        try (CacheServer server =
                start(new ServerTls(pki.serverCert(), pki.serverKey(), null), TestTokens.write(dir, null))) {
            String address = "127.0.0.1:" + server.port();
            ClientSecurity tls = new ClientSecurity(TestTokens.ALICE, pki.ca(), null, null, true);
            try (CacheClient alice = CacheClient.connect(address, tls)) {
                Digest digest = alice.upload("over TLS".getBytes());
                assertThat(alice.readBytes(digest)).isEqualTo("over TLS".getBytes());
            }
            try (CacheClient anonymous = CacheClient.connect(address, tls.withToken(null))) {
                assertThatThrownBy(() -> anonymous.findMissing(List.of(Digest.of(new byte[0]))))
                        .isInstanceOfSatisfying(
                                CacheException.class, e -> assertThat(e.code()).isEqualTo(Status.Code.UNAUTHENTICATED))
                        .hasMessageContaining("accepts no calls without a token: pass one with --token");
            }
            try (CacheClient plaintext = CacheClient.connect(address, ClientSecurity.token(TestTokens.ALICE))) {
                assertThatThrownBy(() -> plaintext.findMissing(List.of(Digest.of(new byte[0]))))
                        .isInstanceOfSatisfying(
                                CacheException.class, e -> assertThat(e.code()).isEqualTo(Status.Code.UNAVAILABLE))
                        .hasMessageContaining("if it serves TLS, did you pass --tls-ca?");
            }
        }
    }

    @Test
    void withAClientCaOnlyClientsWithACertificateFromItGetIn() throws Exception {
        try (CacheServer server = start(new ServerTls(pki.serverCert(), pki.serverKey(), pki.ca()), null)) {
            String address = "127.0.0.1:" + server.port();
            try (CacheClient withoutCertificate =
                    CacheClient.connect(address, new ClientSecurity(null, pki.ca(), null, null, true))) {
                assertThatThrownBy(() -> withoutCertificate.findMissing(List.of(Digest.of(new byte[0]))))
                        .isInstanceOfSatisfying(
                                CacheException.class, e -> assertThat(e.code()).isEqualTo(Status.Code.UNAVAILABLE));
            }
            try (CacheClient withCertificate = CacheClient.connect(
                    address, new ClientSecurity(null, pki.ca(), pki.clientCert(), pki.clientKey(), true))) {
                Digest digest = withCertificate.upload("mutual TLS".getBytes());
                assertThat(withCertificate.readBytes(digest)).isEqualTo("mutual TLS".getBytes());
            }
        }
    }

    @Test
    void aMissingCertificateFileFailsTheStartWithItsName() {
        Path missing = dir.resolve("nope.pem");
        assertThatThrownBy(() -> start(new ServerTls(missing, pki.serverKey(), null), null))
                .hasMessageContaining("--tls-cert " + missing + " does not exist or cannot be read");
    }
}
