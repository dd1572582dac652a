package dev.stagefarm.cli.commands;

import dev.stagefarm.cli.daemon.ClientDaemon;
import dev.stagefarm.cli.daemon.CommandRunner;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** The resident build client that bin/stagefarm's thin start talks to; hidden, started on demand. */
@Command(
        name = "client-daemon",
        hidden = true,
        description = "Serve builds for this user's thin starts on SOCKET until idle (started by bin/stagefarm).")
public final class ClientDaemonCommand implements Callable<Integer> {

    @Option(names = "--socket", required = true, paramLabel = "SOCKET")
    Path socket;

    @Option(
            names = "--idle-minutes",
            defaultValue = "${env:STAGEFARM_DAEMON_IDLE_MINUTES:-30}",
            description = "Exit after this many minutes without a command (default: ${DEFAULT-VALUE}).")
    long idleMinutes;

    @Override
    public Integer call() throws Exception {
        new ClientDaemon(socket.toAbsolutePath(), Duration.ofMinutes(idleMinutes), new CommandRunner()).serve();
        return 0;
    }
}
