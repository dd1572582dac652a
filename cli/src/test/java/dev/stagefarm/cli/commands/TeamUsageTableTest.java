package dev.stagefarm.cli.commands;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.proto.cache.TeamUsage;
import org.junit.jupiter.api.Test;

/** The lines of {@code cache du --all-teams}: a team's blobs, bytes, and how much of its quota they use. */
class TeamUsageTableTest {

    @Test
    void aTeamWithAQuotaShowsTheShareItUses() {
        String row = TeamUsageTable.row(TeamUsage.newBuilder()
                .setTeam("team-b")
                .setBlobCount(12)
                .setStoredBytes(768L << 20)
                .setQuotaBytes(1L << 30)
                .build());

        assertThat(row.split("\\s+")).containsExactly("team-b", "12", "768.0", "MiB", "1.0", "GiB", "(75%", "used)");
    }

    @Test
    void aTeamWithoutAQuotaAndTheAnonymousTeamAreNamed() {
        assertThat(TeamUsageTable.row(TeamUsage.newBuilder()
                        .setBlobCount(1)
                        .setStoredBytes(10)
                        .build()))
                .startsWith("(no team)")
                .endsWith("10 B  none");
    }
}
