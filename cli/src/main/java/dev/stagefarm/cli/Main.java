package dev.stagefarm.cli;

import dev.stagefarm.cli.build.FarmErrors;
import dev.stagefarm.cli.commands.AotWorkloadCommand;
import dev.stagefarm.cli.commands.BuildCommand;
import dev.stagefarm.cli.commands.BuildsCommand;
import dev.stagefarm.cli.commands.CacheCommand;
import dev.stagefarm.cli.commands.CacheServerCommand;
import dev.stagefarm.cli.commands.ClientDaemonCommand;
import dev.stagefarm.cli.commands.ConfigCommand;
import dev.stagefarm.cli.commands.ConfigDefaults;
import dev.stagefarm.cli.commands.CoordinatorCommand;
import dev.stagefarm.cli.commands.FarmCommand;
import dev.stagefarm.cli.commands.TokenCommand;
import dev.stagefarm.cli.commands.WorkerCommand;
import dev.stagefarm.cli.commands.WorkersCommand;
import dev.stagefarm.common.client.GrpcChannels;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code stagefarm}: one launcher for every component and for the build client. */
@Command(
        name = "stagefarm",
        mixinStandardHelpOptions = true,
        version = Version.TEXT,
        description = "A distributed build farm for multi-stage Dockerfiles.")
public final class Main {

    /**
     * The subcommands, in the order help lists them. Picocli reflects over every option of every
     * subcommand it is given (annotation proxies, converters: ~40% of building the command line
     * when all nine were given), so a run gets only the subcommand it names; top-level help, a
     * mistyped name's suggestions and a bare {@code stagefarm} get all of them.
     */
    private static final List<Class<?>> SUBCOMMANDS = List.of(
            BuildCommand.class,
            BuildsCommand.class,
            CacheCommand.class,
            CacheServerCommand.class,
            CompletionCommand.class,
            ConfigCommand.class,
            CoordinatorCommand.class,
            FarmCommand.class,
            TokenCommand.class,
            WorkerCommand.class,
            WorkersCommand.class,
            AotWorkloadCommand.class,
            ClientDaemonCommand.class);

    static CommandLine commandLine(String[] args) {
        return commandLine(args, CommandLine.defaultFactory());
    }

    /** The command line for {@code args}, its commands made by {@code factory}, configured as {@link #main} runs it. */
    public static CommandLine commandLine(String[] args, CommandLine.IFactory factory, ConfigDefaults defaults) {
        return commandLine(args, factory)
                .setCaseInsensitiveEnumValuesAllowed(true)
                .setDefaultValueProvider(defaults)
                .setExecutionExceptionHandler(Main::userError);
    }

    private static CommandLine commandLine(String[] args, CommandLine.IFactory factory) {
        CommandLine cli = new CommandLine(new Main(), factory);
        List<Class<?>> needed = SUBCOMMANDS.stream()
                .filter(c ->
                        args.length > 0 && c.getAnnotation(Command.class).name().equals(args[0]))
                .toList();
        (needed.isEmpty() ? SUBCOMMANDS : needed).forEach(cli::addSubcommand);
        return cli;
    }

    /**
     * A bad flag value, a file that cannot be read, a refused token, an unreachable server (a
     * gRPC status from any command: one sentence naming the server and the flag to fix), a
     * missing certificate: the user's to fix, so one line that says what, not a stack trace.
     * Anything else is ours, and keeps its trace.
     */
    private static int userError(Exception e, CommandLine command, CommandLine.ParseResult parsed) throws Exception {
        if (e instanceof IllegalArgumentException || e instanceof IOException) {
            String message =
                    e instanceof NoSuchFileException missing ? "no such file: " + missing.getFile() : e.getMessage();
            command.getErr().println("error: " + message);
            return 1;
        }
        if (e instanceof StatusRuntimeException refused) {
            command.getErr().println("error: " + FarmErrors.describe(command, refused));
            return 1;
        }
        throw e;
    }

    public static void main(String[] args) {
        Logging.configure(args);
        ConfigDefaults defaults;
        try {
            defaults = ConfigDefaults.load(System.getenv());
        } catch (IOException e) {
            System.err.println("error: " + e.getMessage());
            System.exit(2);
            return;
        }
        int code = commandLine(args, CommandLine.defaultFactory(), defaults).execute(args);
        GrpcChannels.stopClientThreads();
        System.exit(code);
    }
}
