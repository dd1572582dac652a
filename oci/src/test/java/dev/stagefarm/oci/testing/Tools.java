package dev.stagefarm.oci.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs the real tools tests compare against. A missing tool fails the test: it is part of the machine's setup. */
public final class Tools {

    private Tools() {}

    public static Path require(String binary) {
        Path p = Path.of(binary);
        assertThat(Files.isExecutable(p))
                .as(binary + " is missing: install it (apt-get install umoci skopeo docker-registry)")
                .isTrue();
        return p;
    }

    /** Runs a command to completion; fails the test with its output when it exits non-zero. */
    public static String run(List<String> command) throws IOException, InterruptedException {
        require(command.getFirst());
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        p.getOutputStream().close();
        byte[] out = p.getInputStream().readAllBytes();
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("%s finished", command).isTrue();
        String text = new String(out, StandardCharsets.UTF_8);
        assertThat(p.exitValue()).as("%s failed:%n%s", command, text).isZero();
        return text;
    }
}
