package dev.stagefarm.cli.commands;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.stagefarm.worker.exec.StepLimits;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** The worker's sandbox flags as an operator types them. */
class StepSandboxOptionsTest {

    private static final String[] REQUIRED = {"--coordinator", "c:1", "--cache", "c:2", "--root", "/r", "--name", "w"};

    @Test
    void defaultsAreTheDocumentedOnes() {
        StepSandboxOptions options = parse();

        assertThat(options.runc()).isNull();
        assertThat(options.limits()).isEqualTo(StepLimits.DEFAULTS);
        assertThat(options.limits().memoryBytes()).isEqualTo(4L << 30);
        assertThat(options.limits().pids()).isEqualTo(4096);
        assertThat(options.limits().cpuWeight()).isEqualTo(100);
        assertThat(options.limits().timeout()).isEqualTo(Duration.ofHours(2));
    }

    @Test
    void flagsSetEachLimit() {
        StepSandboxOptions options = parse(
                "--runc",
                "/opt/runc",
                "--step-memory",
                "512m",
                "--step-pids",
                "0",
                "--step-cpu-weight",
                "300",
                "--step-timeout",
                "90s");

        assertThat(options.runc()).isEqualTo(Path.of("/opt/runc"));
        assertThat(options.limits().memoryBytes()).isEqualTo(512L << 20);
        assertThat(options.limits().pids()).isZero();
        assertThat(options.limits().cpuWeight()).isEqualTo(300);
        assertThat(options.limits().timeout()).isEqualTo(Duration.ofSeconds(90));
    }

    @Test
    void badValuesSaySoInOneSentence() {
        assertThatThrownBy(() -> parse("--step-timeout", "soon").limits())
                .hasMessage("--step-timeout \"soon\" is not a duration: write e.g. 90s, 30m or 2h");
        assertThatThrownBy(() -> parse("--step-cpu-weight", "0").limits())
                .hasMessage("--step-cpu-weight must be between 1 and 10000, not 0");
        assertThatThrownBy(() -> parse("--step-memory", "lots").limits())
                .hasMessage("--step-memory \"lots\" is not a size: write e.g. 4g, 512m, or 0 for none");
    }

    private static StepSandboxOptions parse(String... flags) {
        WorkerCommand command = new WorkerCommand();
        String[] args = new String[REQUIRED.length + flags.length];
        System.arraycopy(REQUIRED, 0, args, 0, REQUIRED.length);
        System.arraycopy(flags, 0, args, REQUIRED.length, flags.length);
        new CommandLine(command).parseArgs(args);
        return command.sandbox;
    }
}
