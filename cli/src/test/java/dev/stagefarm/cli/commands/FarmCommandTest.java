package dev.stagefarm.cli.commands;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.stagefarm.common.net.HostPort;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** The local farm's flags reach the farm that `farm start` runs in the background. */
class FarmCommandTest {

    @Test
    void allowFetchIsPassedToTheServedFarm() {
        FarmCommand.Start start = new FarmCommand.Start();
        new CommandLine(start)
                .parseArgs("--data", "/srv/farm", "--allow-fetch", "127.0.0.1:5000", "--allow-fetch", "files.lan:8080");

        assertThat(start.farm.asArguments())
                .containsSubsequence("--allow-fetch", "127.0.0.1:5000")
                .containsSubsequence("--allow-fetch", "files.lan:8080");
        assertThat(start.farm.allowFetch())
                .containsExactly(new HostPort("127.0.0.1", 5000), new HostPort("files.lan", 8080));
    }

    @Test
    void anAllowFetchWithoutAPortIsToldBeforeTheFarmStarts() {
        FarmCommand.Start start = new FarmCommand.Start();
        new CommandLine(start).parseArgs("--allow-fetch", "files.lan");

        assertThatThrownBy(() -> start.farm.allowFetch())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("--allow-fetch files.lan: expected host:port");
    }
}
