package dev.stagefarm.cli.commands;

import dev.stagefarm.cacheclient.CacheClient;
import dev.stagefarm.cacheclient.Units;
import dev.stagefarm.proto.cache.GetStatsResponse;
import dev.stagefarm.proto.cache.PruneResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.Callable;
import java.util.function.Supplier;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.TypeConversionException;

/** {@code stagefarm cache du|prune}: how full a cache-server is, and making room in it. */
@Command(
        name = "cache",
        mixinStandardHelpOptions = true,
        description = "Inspect and prune a cache-server.",
        subcommands = {CacheCommand.Du.class, CacheCommand.Prune.class, CacheMountsCommand.class})
public final class CacheCommand {

    /** Docker-style sizes ({@code 20GB}, {@code 512MiB}) for options, with the parser's sentence as the error. */
    public static final class SizeConverter implements ITypeConverter<Long> {
        @Override
        public Long convert(String value) {
            try {
                return Units.parseSize(value);
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException(e.getMessage());
            }
        }
    }

    @Command(name = "du", mixinStandardHelpOptions = true, description = "Show what a cache-server stores.")
    static final class Du implements Callable<Integer> {

        @Option(names = "--cache", required = true, paramLabel = "HOST:PORT", description = "The cache-server.")
        String cache;

        @Option(
                names = {"-v", "--verbose"},
                description = "Also show disk use, uploads in progress, evictions.")
        boolean verbose;

        @Option(
                names = "--all-teams",
                description = "Also list every team's part of the cache: blobs, stored bytes and quota (the lines"
                        + " above it count the caller's own team).")
        boolean allTeams;

        @CommandLine.Mixin
        ClientAuthOptions auth;

        @Override
        public Integer call() throws Exception {
            try (CacheClient client = CacheClient.connect(cache, auth.security())) {
                GetStatsResponse s = client.stats(allTeams);
                System.out.printf("%-16s %d%n", "Blobs:", s.getBlobCount());
                System.out.printf(
                        "%-16s %s (%d bytes)%n", "Stored:", Units.formatSize(s.getStoredBytes()), s.getStoredBytes());
                System.out.printf("%-16s %d%n", "Action entries:", s.getActionEntries());
                System.out.printf(
                        "%-16s %s%n",
                        "Max size:",
                        s.getMaxSize() == 0
                                ? "unlimited"
                                : Units.formatSize(s.getMaxSize()) + " (" + s.getMaxSize() + " bytes)");
                if (verbose) {
                    System.out.printf("%-16s %s%n", "On disk:", Units.formatSize(s.getDiskBytes()));
                    System.out.printf("%-16s %d%n", "Uploads open:", s.getUploadsInProgress());
                    System.out.printf(
                            "%-16s %d blobs, %s%n",
                            "Evicted:", s.getEvictedBlobs(), Units.formatSize(s.getEvictedBytes()));
                    System.out.printf(
                            "%-16s %s%n",
                            "Least recent:",
                            s.getOldestAccessMillis() == 0
                                    ? "-"
                                    : Instant.ofEpochMilli(s.getOldestAccessMillis())
                                            .toString());
                }
                if (allTeams) {
                    System.out.println();
                    System.out.println(TeamUsageTable.HEADER);
                    s.getTeamsList().forEach(t -> System.out.println(TeamUsageTable.row(t)));
                }
                return 0;
            }
        }
    }

    @Command(
            name = "prune",
            mixinStandardHelpOptions = true,
            description = "Delete least recently used blobs. Action results that need a deleted blob become misses.")
    static final class Prune implements Callable<Integer> {

        @Spec
        CommandSpec spec;

        @Option(names = "--cache", required = true, paramLabel = "HOST:PORT", description = "The cache-server.")
        String cache;

        @Option(
                names = "--keep-storage",
                paramLabel = "SIZE",
                description = "Delete until at most SIZE is stored, e.g. 20GB or 512MiB (binary units).")
        String keepStorage;

        @Option(
                names = "--filter",
                paramLabel = "until=DURATION",
                description = "Only blobs unused for at least DURATION, e.g. until=24h or until=90m.")
        String filter;

        @Option(names = "--all", description = "Delete every blob (when neither --keep-storage nor --filter is given).")
        boolean all;

        @CommandLine.Mixin
        ClientAuthOptions auth;

        @Override
        public Integer call() throws Exception {
            long keep = keepStorage == null ? 0 : parse(() -> Units.parseSize(keepStorage), "--keep-storage");
            Duration unusedFor = filter == null ? Duration.ZERO : parse(() -> untilFilter(filter), "--filter");
            if (keepStorage == null && filter == null && !all) {
                throw new ParameterException(
                        spec.commandLine(),
                        "say what to prune: --keep-storage SIZE, --filter until=DURATION, or --all to empty the cache");
            }
            if (keepStorage != null && keep == 0) {
                throw new ParameterException(
                        spec.commandLine(), "--keep-storage 0 would empty the cache; use --all for that");
            }
            try (CacheClient client = CacheClient.connect(cache, auth.security())) {
                PruneResponse r = client.prune(keep, unusedFor);
                System.out.printf(
                        "Deleted %d blobs, freed %s; %d blobs (%s) remain.%n",
                        r.getBlobsDeleted(),
                        Units.formatSize(r.getBytesFreed()),
                        r.getBlobCount(),
                        Units.formatSize(r.getStoredBytes()));
                return 0;
            }
        }

        private static Duration untilFilter(String text) {
            int eq = text.indexOf('=');
            if (eq < 0 || !text.substring(0, eq).trim().equals("until")) {
                throw new IllegalArgumentException(
                        "'" + text + "' is not a filter this cache knows: use until=DURATION, e.g. until=24h");
            }
            return Units.parseDuration(text.substring(eq + 1));
        }

        private <T> T parse(Supplier<T> parser, String option) {
            try {
                return parser.get();
            } catch (IllegalArgumentException e) {
                throw new ParameterException(spec.commandLine(), option + ": " + e.getMessage());
            }
        }
    }
}
