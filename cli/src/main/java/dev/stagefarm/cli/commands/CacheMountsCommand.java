package dev.stagefarm.cli.commands;

import dev.stagefarm.cacheclient.CacheClient;
import dev.stagefarm.cacheclient.Units;
import dev.stagefarm.proto.cache.MountHead;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code stagefarm cache mounts}: the team's shared RUN --mount=type=cache mounts, and forgetting them. */
@Command(
        name = "mounts",
        mixinStandardHelpOptions = true,
        description = "List the shared cache mounts (RUN --mount=type=cache) of your team, or drop them."
                + " Dropping forgets a mount's state; its files stay as blobs until pruned.")
final class CacheMountsCommand implements Callable<Integer> {

    @Option(names = "--cache", required = true, paramLabel = "HOST:PORT", description = "The cache-server.")
    String cache;

    @Option(names = "--drop", paramLabel = "ID", description = "Forget this mount (repeatable; needs the admin scope).")
    List<String> drop = new ArrayList<>();

    @Option(names = "--drop-all", description = "Forget every mount of your team (needs the admin scope).")
    boolean dropAll;

    @Mixin
    ClientAuthOptions auth;

    @Override
    public Integer call() throws Exception {
        try (CacheClient client = CacheClient.connect(cache, auth.security())) {
            if (dropAll || !drop.isEmpty()) {
                int dropped = client.mounts().drop(dropAll ? List.of() : drop);
                System.out.println("Dropped " + dropped + " cache mount" + (dropped == 1 ? "" : "s"));
                return 0;
            }
            List<MountHead> mounts = client.mounts().list();
            System.out.printf("%-32s %10s %8s %10s  %s%n", "ID", "GENERATION", "FILES", "SIZE", "UPDATED");
            for (MountHead m : mounts) {
                System.out.printf(
                        "%-32s %10d %8d %10s  %s%n",
                        m.getId(),
                        m.getGeneration(),
                        m.getFiles(),
                        Units.formatSize(m.getBytes()),
                        Instant.ofEpochMilli(m.getUpdatedMillis()));
            }
            return 0;
        }
    }
}
