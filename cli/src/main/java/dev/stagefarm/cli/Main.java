package dev.stagefarm.cli;

import dev.stagefarm.cli.commands.BuildCommand;
import dev.stagefarm.cli.commands.CacheCommand;
import dev.stagefarm.cli.commands.CacheServerCommand;
import dev.stagefarm.cli.commands.ConfigDefaults;
import dev.stagefarm.cli.commands.CoordinatorCommand;
import dev.stagefarm.cli.commands.FarmCommand;
import dev.stagefarm.cli.commands.TokenCommand;
import dev.stagefarm.cli.commands.WorkerCommand;
import dev.stagefarm.cli.commands.WorkersCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code stagefarm}: one launcher for every component and for the build client. */
@Command(name = "stagefarm", mixinStandardHelpOptions = true, version = "stagefarm 0.1.0",
    description = "A distributed build farm for multi-stage Dockerfiles.",
    subcommands = {BuildCommand.class, CacheCommand.class, CacheServerCommand.class, CoordinatorCommand.class,
        FarmCommand.class, TokenCommand.class, WorkerCommand.class, WorkersCommand.class})
public final class Main {

    public static void main(String[] args) {
        Logging.configure(args);
        ConfigDefaults defaults;
        try {
            defaults = ConfigDefaults.load(System.getenv());
        } catch (java.io.IOException e) {
            System.err.println("error: " + e.getMessage());
            System.exit(2);
            return;
        }
        int code = new CommandLine(new Main()).setCaseInsensitiveEnumValuesAllowed(true)
            .setDefaultValueProvider(defaults)
            // A refused token, an unreachable server, a missing certificate: the sentence, not a stack trace.
            .setExecutionExceptionHandler((e, commandLine, parsed) -> {
                if (e instanceof java.io.IOException) {
                    commandLine.getErr().println("error: " + e.getMessage());
                    return 1;
                }
                throw e;
            })
            .execute(args);
        System.exit(code);
    }
}
