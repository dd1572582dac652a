package dev.stagefarm.coordinator.web;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.stagefarm.common.client.ClientSecurity;
import dev.stagefarm.common.net.HostPort;
import dev.stagefarm.common.server.ServerTls;
import dev.stagefarm.common.testing.TestPki;
import dev.stagefarm.coordinator.builds.BuildBook;
import dev.stagefarm.proto.farm.ListWorkersResponse;
import dev.stagefarm.proto.farm.WorkerInfo;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.InstantSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The web view serves TLS, and mutual TLS, as the gRPC port does with the same flags. */
class FarmWebServerTlsTest {

    @TempDir
    Path dir;

    private final FarmView view = new FarmView(
            new BuildBook(InstantSource.system()),
            () -> ListWorkersResponse.newBuilder()
                    .addWorkers(WorkerInfo.newBuilder().setName("w1").setSlots(2))
                    .build());

    @Test
    void servesHttpsWithTheCoordinatorsCertificate() throws Exception {
        TestPki pki = TestPki.create(dir);
        try (FarmWebServer web = FarmWebServer.start(
                HostPort.parse("127.0.0.1:0"), new ServerTls(pki.serverCert(), pki.serverKey(), null), view, null)) {
            HttpClient client = HttpClient.newBuilder()
                    .sslContext(new ClientSecurity(null, pki.ca(), null, null, true).sslContext())
                    .build();
            HttpResponse<String> farm = client.send(
                    HttpRequest.newBuilder(URI.create(
                                    "https://127.0.0.1:" + web.address().port() + "/api/farm"))
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(farm.statusCode()).isEqualTo(200);
            assertThat(farm.body())
                    .contains("\"open\":true")
                    .contains("\"name\":\"w1\"")
                    .contains("\"state\":\"idle\"");
            assertThatThrownBy(() -> HttpClient.newHttpClient()
                            .send(
                                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                                                    + web.address().port() + "/api/farm"))
                                            .build(),
                                    HttpResponse.BodyHandlers.ofString()))
                    .as("no plaintext on a TLS port")
                    .isInstanceOf(IOException.class);
        }
    }

    @Test
    void withAClientCaItRefusesVisitorsWithoutACertificate() throws Exception {
        TestPki pki = TestPki.create(dir);
        try (FarmWebServer web = FarmWebServer.start(
                HostPort.parse("127.0.0.1:0"),
                new ServerTls(pki.serverCert(), pki.serverKey(), pki.ca()),
                view,
                null)) {
            URI uri = URI.create("https://127.0.0.1:" + web.address().port() + "/api/farm");
            HttpClient anonymous = HttpClient.newBuilder()
                    .sslContext(new ClientSecurity(null, pki.ca(), null, null, true).sslContext())
                    .build();
            assertThatThrownBy(() ->
                            anonymous.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofString()))
                    .isInstanceOf(IOException.class);
            HttpClient withCertificate = HttpClient.newBuilder()
                    .sslContext(
                            new ClientSecurity(null, pki.ca(), pki.clientCert(), pki.clientKey(), true).sslContext())
                    .build();
            assertThat(withCertificate
                            .send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofString())
                            .statusCode())
                    .isEqualTo(200);
        }
    }
}
