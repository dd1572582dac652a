package dev.stagefarm.cli.daemon;

import dev.stagefarm.cli.Main;
import dev.stagefarm.cli.build.FarmChannels;
import dev.stagefarm.cli.commands.BuildCommand;
import dev.stagefarm.cli.commands.ConfigDefaults;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;
import picocli.CommandLine;

/**
 * Runs {@code stagefarm build} in the resident client as a process of its own would, for a caller
 * in another directory with another environment: relative paths resolve against the caller's
 * directory, the environment is the caller's. What it cannot do faithfully it hands back (the
 * launcher then starts a JVM for it): the embedded farm (it belongs to one build's process),
 * {@code --secret} and {@code --ssh} (they read files, variables and agent sockets of the caller).
 */
public final class CommandRunner implements ClientDaemon.Runner {

    /**
     * Options whose build runs in a JVM of its own: the embedded farm, what reads the caller's
     * files, variables and agent sockets, and {@code --load} (the caller's {@code DOCKER_HOST}).
     */
    private static final Set<String> OWN_PROCESS_OPTIONS = Set.of("--data", "--secret", "--ssh", "--load");

    private static final int HAND_BACK = Integer.MIN_VALUE;

    /** The farms' connections, kept from one build to the next: the daemon is there to be warm. */
    private final FarmChannels channels = FarmChannels.kept();

    @Override
    public OptionalInt run(String cwd, String[] args, Map<String, String> env) {
        if (args.length == 0 || !args[0].equals("build") || needsOwnProcess(args) || drawsOnCallersTerminal(args)) {
            return OptionalInt.empty();
        }
        Path dir = Path.of(cwd);
        ConfigDefaults defaults;
        try {
            defaults = ConfigDefaults.load(env);
        } catch (IOException e) {
            System.err.println("error: " + e.getMessage());
            return OptionalInt.of(2);
        }
        CommandLine.IFactory factory = new CommandLine.IFactory() {
            @Override
            public <K> K create(Class<K> cls) throws Exception {
                return cls == BuildCommand.class
                        ? cls.cast(new BuildCommand(env, false, channels))
                        : CommandLine.defaultFactory().create(cls);
            }
        };
        String[] resolved = absoluteOutputs(args, dir);
        CommandLine cli = Main.commandLine(resolved, factory, defaults);
        // after the subcommands were added: picocli registers a converter with those it has
        cli.registerConverter(Path.class, dir::resolve);
        CommandLine.IExecutionExceptionHandler userErrors = cli.getExecutionExceptionHandler();
        cli.setExecutionExceptionHandler((e, command, parsed) -> e instanceof BuildCommand.NeedsOwnProcess
                ? HAND_BACK
                : userErrors.handleExecutionException(e, command, parsed));
        int code = cli.execute(resolved);
        if (Thread.interrupted()) {
            return OptionalInt.of(130); // Ctrl-C: the client is gone, the build was cancelled
        }
        return code == HAND_BACK ? OptionalInt.empty() : OptionalInt.of(code);
    }

    /**
     * The tty display draws on the caller's terminal, which only a process attached to it can
     * size and redraw: a build that would show it runs in a JVM of its own.
     */
    private static boolean drawsOnCallersTerminal(String[] args) {
        Session session = Session.CURRENT.get();
        if (session == null || !(session.stdoutIsTerminal || session.stderrIsTerminal)) {
            return false;
        }
        String mode = "auto";
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("--")) {
                break;
            } else if (a.equals("-q") || a.equals("--quiet")) {
                return false;
            } else if (a.equals("--progress") && i + 1 < args.length) {
                mode = args[i + 1];
            } else if (a.startsWith("--progress=")) {
                mode = a.substring("--progress=".length());
            }
        }
        return mode.equals("auto") || mode.equals("tty");
    }

    private static boolean needsOwnProcess(String[] args) {
        for (String a : args) {
            // -o type=docker without dest loads into the caller's DOCKER_HOST, as --load does
            if (a.contains("type=docker") && !a.contains("dest=")) {
                return true;
            }
            if (a.equals("--")) {
                return false;
            }
            int eq = a.indexOf('=');
            if (OWN_PROCESS_OPTIONS.contains(eq < 0 ? a : a.substring(0, eq))) {
                return true;
            }
        }
        return false;
    }

    /**
     * {@code --output type=docker,dest=out.tar} and {@code --build-context NAME=DIR} name paths
     * relative to the caller's directory, inside strings that picocli's path converter never
     * sees; made absolute here.
     */
    static String[] absoluteOutputs(String[] args, Path dir) {
        List<String> out = new ArrayList<>(args.length);
        boolean nextIsOutput = false;
        boolean nextIsContext = false;
        for (String a : args) {
            if (nextIsContext) {
                out.add(absoluteContext(a, dir));
                nextIsContext = false;
            } else if (nextIsOutput) {
                out.add(absoluteDest(a, dir));
                nextIsOutput = false;
            } else if (a.equals("-o") || a.equals("--output")) {
                out.add(a);
                nextIsOutput = true;
            } else if (a.startsWith("--output=")) {
                out.add("--output=" + absoluteDest(a.substring("--output=".length()), dir));
            } else if (a.startsWith("-o") && a.length() > 2 && !a.startsWith("-o=")) {
                out.add("-o" + absoluteDest(a.substring(2), dir));
            } else if (a.startsWith("-o=")) {
                out.add("-o=" + absoluteDest(a.substring(3), dir));
            } else if (a.equals("--build-context")) {
                out.add(a);
                nextIsContext = true;
            } else if (a.startsWith("--build-context=")) {
                out.add("--build-context=" + absoluteContext(a.substring("--build-context=".length()), dir));
            } else {
                out.add(a);
            }
        }
        return out.toArray(String[]::new);
    }

    /** {@code --build-context NAME=DIR}: DIR relative to the caller's directory; an image stays as it is. */
    private static String absoluteContext(String spec, Path dir) {
        int eq = spec.indexOf('=');
        if (eq < 0 || spec.substring(eq + 1).contains("://")) {
            return spec;
        }
        return spec.substring(0, eq + 1) + dir.resolve(spec.substring(eq + 1));
    }

    private static String absoluteDest(String spec, Path dir) {
        List<String> parts = new ArrayList<>();
        for (String part : spec.split(",", -1)) {
            String key = part.strip();
            parts.add(
                    key.startsWith("dest=")
                            ? "dest=" + dir.resolve(key.substring(5).strip())
                            : part);
        }
        return String.join(",", parts);
    }
}
