package dev.stagefarm.cli.commands;

import dev.stagefarm.cacheclient.Units;
import dev.stagefarm.proto.cache.TeamUsage;
import java.util.Locale;

/** {@code cache du --all-teams}: one line per team, its blobs, stored bytes and quota. */
final class TeamUsageTable {

    static final String HEADER = String.format(Locale.ROOT, "%-24s %10s %12s  %s", "TEAM", "BLOBS", "STORED", "QUOTA");

    private TeamUsageTable() {}

    static String row(TeamUsage t) {
        return String.format(
                Locale.ROOT,
                "%-24s %10d %12s  %s",
                t.getTeam().isEmpty() ? "(no team)" : t.getTeam(),
                t.getBlobCount(),
                Units.formatSize(t.getStoredBytes()),
                quota(t));
    }

    private static String quota(TeamUsage t) {
        if (t.getQuotaBytes() == 0) {
            return "none";
        }
        long percent = Math.round(100.0 * t.getStoredBytes() / t.getQuotaBytes());
        return Units.formatSize(t.getQuotaBytes()) + " (" + percent + "% used)";
    }
}
