package dev.stagefarm.cli;

import java.util.List;
import picocli.CommandLine;

/**
 * The CLI's own command line ({@link Main#commandLine}, package-private, hence this package), used
 * to parse a container's arguments exactly as the image's entrypoint would, without running them.
 */
public final class CliParser {

    private CliParser() {}

    /** Parses {@code args}; picocli's exception says which flag or value it refused. */
    public static CommandLine.ParseResult parse(List<String> args) {
        String[] array = args.toArray(String[]::new);
        return Main.commandLine(array).setCaseInsensitiveEnumValuesAllowed(true).parseArgs(array);
    }
}
