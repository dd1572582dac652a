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
}
