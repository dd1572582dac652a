package dev.stagefarm.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the step network is for: a RUN on the default network reaches the Debian mirror (DNS and
 * NAT through the worker's bridge, past its firewall), as {@code apt-get install} in a Dockerfile
 * expects, and what it installed is a working program for the next stage. Needs the internet.
 */
@Tag("e2e")
class PackageInstallEndToEndTest {

    @TempDir
    Path dir;

    @Test
    void aStepInstallsADebianPackageFromTheMirrorAndTheNextStageRunsIt() throws Exception {
        Path ctx = Files.createDirectories(dir.resolve("ctx"));
        // GNU hello: a few dozen KB, no dependencies beyond libc, and a known line to print
        Files.writeString(ctx.resolve("Dockerfile"), """
                FROM debian:bookworm-slim AS tools
                RUN apt-get update && DEBIAN_FRONTEND=noninteractive \\
                      apt-get install -y --no-install-recommends hello
                FROM debian:bookworm-slim
                COPY --from=tools /usr/bin/hello /usr/local/bin/hello
                RUN hello > /greeting
                """);
        Path out = dir.resolve("out");
        try (Farm farm = new Farm(dir.resolve("farm"), "w1")) {
            Farm.Result r = farm.build("--progress", "plain", "-o", "type=local,dest=" + out, ctx.toString())
                    .assertOk();

            assertThat(r.output()).as("apt-get's own report").contains("Setting up hello");
            assertThat(out.resolve("greeting"))
                    .as("what the installed program printed in the next stage")
                    .hasContent("Hello, world!");
        }
    }
}
