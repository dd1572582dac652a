package dev.stagefarm.worker.net;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A stand-in for the Internet: a network namespace behind a veth pair, routed from the host,
 * with busybox httpd answering on every address it holds. Besides its own address it holds a
 * second range (for {@code --deny-net}) and the cloud metadata address, so that the tests can
 * prove each is reachable from the host and refused from a step.
 */
final class OutsideHost implements AutoCloseable {

    final String name = "sfo-" + Integer.toHexString(ThreadLocalRandom.current().nextInt(0x10000, 0xfffff));
    final String address = "198.18.77.2";
    final String deniedAddress = "198.18.78.2";
    final String metadataAddress = "169.254.169.254";
    private final String hostSide = name + "h";
    private Process httpd;

    OutsideHost(Path docroot) throws IOException, InterruptedException {
        Files.writeString(Files.createDirectories(docroot).resolve("hello"), "hello from outside\n");
        sh("ip netns add " + name);
        sh("ip link add " + hostSide + " type veth peer name eth0 netns " + name);
        sh("ip addr add 198.18.77.1/24 dev " + hostSide);
        sh("ip link set " + hostSide + " up");
        sh("ip -n " + name + " addr add " + address + "/24 dev eth0");
        sh("ip -n " + name + " addr add " + deniedAddress + "/24 dev eth0");
        sh("ip -n " + name + " addr add " + metadataAddress + "/32 dev lo");
        sh("ip -n " + name + " link set eth0 up");
        sh("ip -n " + name + " link set lo up");
        sh("ip -n " + name + " route add default via 198.18.77.1");
        sh("ip route add 198.18.78.0/24 via " + address);
        sh("ip route add " + metadataAddress + "/32 via " + address);
        httpd = new ProcessBuilder(
                        "ip", "netns", "exec", name, "busybox", "httpd", "-f", "-p", "80", "-h", docroot.toString())
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .start();
        await("busybox httpd serving in " + name)
                .atMost(Duration.ofSeconds(10))
                .until(() -> fromHost(address).contains("hello"));
    }

    /** What the host itself gets from {@code http://target/hello}: proof that a refusal is the firewall's. */
    String fromHost(String target) throws InterruptedException {
        try (HttpClient client =
                HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build()) {
            return client.send(
                            HttpRequest.newBuilder(URI.create("http://" + target + "/hello"))
                                    .timeout(Duration.ofSeconds(2))
                                    .build(),
                            HttpResponse.BodyHandlers.ofString())
                    .body();
        } catch (IOException e) {
            return "";
        }
    }

    private static void sh(String command) throws IOException, InterruptedException {
        Commands.run(List.of("sh", "-c", command), Map.of(), "");
    }

    @Override
    public void close() throws InterruptedException {
        if (httpd != null) {
            httpd.destroyForcibly().waitFor();
        }
        Commands.quietly("ip", "route", "del", "198.18.78.0/24");
        Commands.quietly("ip", "route", "del", metadataAddress + "/32");
        Commands.quietly("ip", "link", "del", hostSide);
        Commands.quietly("ip", "netns", "del", name);
    }
}
