package dev.stagefarm.e2e;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.concurrent.TimeUnit;

/**
 * A team's private registry: Debian's docker-registry again, on a free loopback port with its own
 * storage, asking for a user name and password (htpasswd, Basic auth) on every call.
 */
final class PrivateRegistry implements AutoCloseable {

    final String address;
    private final String user;
    private final String password;
    private final Process process;

    private PrivateRegistry(String address, String user, String password, Process process) {
        this.address = address;
        this.user = user;
        this.password = password;
        this.process = process;
    }

    static PrivateRegistry start(Path dir, String user, String password) throws IOException, InterruptedException {
        Path registry = require("docker-registry");
        Path htpasswd = require("htpasswd");
        Files.createDirectories(dir);
        // bcrypt (-B): the only hash docker-registry accepts
        Tools.run(dir, htpasswd.toString(), "-Bbc", dir.resolve("htpasswd").toString(), user, password);
        String address = "127.0.0.1:" + Farm.freePort();
        Path config = Files.writeString(
                dir.resolve("config.yml"), """
                version: 0.1
                log:
                  level: info
                storage:
                  filesystem:
                    rootdirectory: %s
                http:
                  addr: %s
                auth:
                  htpasswd:
                    realm: e2e-private
                    path: %s
                """.formatted(dir.resolve("storage"), address, dir.resolve("htpasswd")));
        Process p = new ProcessBuilder(registry.toString(), "serve", config.toString())
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve("registry.log").toFile())
                .start();
        Waits.awaitPort(address);
        return new PrivateRegistry(address, user, password, p);
    }

    /** The Authorization header of its user. */
    String basicAuth() {
        return "Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
    }

    /** A Docker config.json that logs in to this registry, as {@code docker login} writes it. */
    String dockerConfig() {
        return "{\"auths\": {\"" + address + "\": {\"auth\": \"" + basicAuth().substring("Basic ".length()) + "\"}}}";
    }

    private static Path require(String tool) {
        Path p = Tools.which(tool);
        if (p == null) {
            throw new AssertionError(tool + " is not installed: run deploy/dev/host-deps.sh");
        }
        return p;
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(20, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor();
        }
    }
}
