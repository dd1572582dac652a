package dev.stagefarm.cli.commands;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** The coordinator's flags, as an operator (or a manifest) writes them. */
class CoordinatorCommandTest {

    @Test
    void aNegativeWorkerWaitIsRefusedSayingWhatZeroMeans() {
        PrintStream saved = System.err;
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        int code;
        try {
            code = new CommandLine(new CoordinatorCommand()).execute("--cache", "127.0.0.1:1", "--worker-wait", "-1");
        } finally {
            System.setErr(saved);
        }
        assertThat(code).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8))
                .contains("--worker-wait is a number of seconds, 0 or more (0 waits as long as the build lasts)");
    }

    @Test
    void zeroIsAWorkerWaitTheParserTakes() {
        CoordinatorCommand command = new CoordinatorCommand();
        new CommandLine(command).parseArgs("--cache", "cache:7070", "--worker-wait", "0");
        assertThat(command.workerWaitSeconds).isZero();
    }

    @Test
    void theLocalityFlagsDefaultToSparksWaitAndAZeroRateIsRefusedSayingWhatToWrite() {
        CoordinatorCommand command = new CoordinatorCommand();
        new CommandLine(command).parseArgs("--cache", "cache:7070");
        var locality = command.locality();
        assertThat(locality.maxWait()).isEqualTo(java.time.Duration.ofSeconds(3));
        assertThat(locality.minSaving()).isEqualTo(java.time.Duration.ofSeconds(1));
        assertThat(locality.bytesPerSecond()).isEqualTo(100L << 20);

        new CommandLine(command)
                .parseArgs("--cache", "cache:7070", "--locality-wait", "500ms", "--locality-rate", "1g");
        assertThat(command.locality().maxWait()).isEqualTo(java.time.Duration.ofMillis(500));
        assertThat(command.locality().bytesPerSecond()).isEqualTo(1L << 30);

        PrintStream saved = System.err;
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        int code;
        try {
            code = new CommandLine(new CoordinatorCommand()).execute("--cache", "127.0.0.1:1", "--locality-rate", "0");
        } finally {
            System.setErr(saved);
        }
        assertThat(code).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8))
                .contains("--locality-rate is bytes a second and must be more than 0, such as 100MiB: got 0");
    }
}
