package dev.stagefarm.cli.commands;

import dev.stagefarm.cacheclient.Units;
import dev.stagefarm.common.net.HostPort;
import dev.stagefarm.worker.ops.InputLimits;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;

/** What ADD may fetch and unpack on a worker (see SECURITY.md for why these defaults). */
public final class InputLimitsOptions {

    @Option(
            names = "--max-fetch-size",
            paramLabel = "SIZE",
            defaultValue = "2GiB",
            description = "The largest file ADD may download from a URL (default: ${DEFAULT-VALUE}).")
    String maxFetchSize;

    @Option(
            names = "--max-extract-size",
            paramLabel = "SIZE",
            defaultValue = "8GiB",
            description = "The most one archive unpacked by ADD may write (default: ${DEFAULT-VALUE}).")
    String maxExtractSize;

    @Option(
            names = "--max-extract-entries",
            paramLabel = "N",
            defaultValue = "1000000",
            description = "The most files, directories and links one archive unpacked by ADD may hold"
                    + " (default: ${DEFAULT-VALUE}).")
    long maxExtractEntries;

    @Option(
            names = "--max-extract-ratio",
            paramLabel = "N",
            defaultValue = "100",
            description = "An archive unpacked by ADD may expand at most N times its own size, past its first"
                    + " 32 MiB: a decompression bomb stops there (default: ${DEFAULT-VALUE}).")
    long maxExtractRatio;

    @Option(
            names = "--allow-fetch",
            paramLabel = "HOST:PORT",
            description = "Let ADD fetch from this endpoint although it is loopback, link-local or private, e.g. a"
                    + " local registry or file server (repeatable). Every other such address is refused.")
    List<String> allowFetch = new ArrayList<>();

    public InputLimits limits() {
        return new InputLimits(
                size(maxFetchSize, "--max-fetch-size"),
                size(maxExtractSize, "--max-extract-size"),
                maxExtractEntries,
                maxExtractRatio,
                endpoints(allowFetch),
                List.of());
    }

    private static long size(String text, String flag) {
        try {
            return Units.parseSize(text);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(flag + ": " + e.getMessage(), e);
        }
    }

    /** {@code --allow-fetch} values, with a sentence naming the flag for a wrong one. */
    static List<HostPort> endpoints(List<String> values) {
        List<HostPort> out = new ArrayList<>();
        for (String v : values) {
            try {
                HostPort hp = HostPort.parse(v);
                if (hp.port() == 0) {
                    throw new IllegalArgumentException("give the port the server listens on, not 0");
                }
                out.add(hp);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("--allow-fetch " + v + ": " + e.getMessage(), e);
            }
        }
        return out;
    }
}
