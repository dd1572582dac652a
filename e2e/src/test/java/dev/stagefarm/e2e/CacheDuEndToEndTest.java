package dev.stagefarm.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An operator's view of a shared cache: after two teams build on a farm of processes, {@code
 * stagefarm cache du --all-teams} with an admin token lists each team's blobs, stored bytes and
 * quota; a team's own token may not ask.
 */
@Tag("e2e")
class CacheDuEndToEndTest {

    private static final String ALICE = "sf_alice_du_token";
    private static final String BOB = "sf_bob_du_token";
    private static final String ADMIN = "sf_admin_du_token";
    private static final String FARM = "sf_farm_du_token";

    @TempDir
    Path dir;

    @Test
    void anAdminSeesEveryTeamsPartOfTheCacheAndATeamMayNotAsk() throws Exception {
        Farm.Security security = new TokensFile()
                .token("alice", "team-a", ALICE, "read", "write")
                .token("bob", "team-b", BOB, "read", "write")
                .token("root", "ops", ADMIN, "read", "admin")
                .token("farm", "ops", FARM, "read", "write", "farm")
                .cacheQuota("team-a", "10GiB")
                .security(dir.resolve("tokens.json"), FARM);
        try (Farm farm = new Farm(dir, security, "w1")) {
            farm.build("--token", ALICE, context("a", "RUN echo alice > /a")).assertOk();
            farm.build("--token", BOB, context("b", "RUN head -c 1048576 /dev/urandom > /b"))
                    .assertOk();

            Farm.Result du = farm.cli("cache", "du", "--cache", farm.cache, "--token", ADMIN, "--all-teams");

            assertThat(du.exitCode()).as(du.output()).isZero();
            assertThat(du.output())
                    .containsPattern("(?m)^TEAM +BLOBS +STORED +QUOTA$")
                    .containsPattern("(?m)^team-a +[1-9][0-9]* +[0-9.]+ [KMG]?i?B +10\\.0 GiB \\([0-9]+% used\\)$")
                    .containsPattern("(?m)^team-b +[1-9][0-9]* +[0-9.]+ MiB +none$");

            Farm.Result asTeam = farm.cli("cache", "du", "--cache", farm.cache, "--token", ALICE, "--all-teams");
            assertThat(asTeam.exitCode()).isNotZero();
            assertThat(asTeam.output()).contains("needs the admin scope").doesNotContain("team-b");
        }
    }

    private String context(String name, String step) throws Exception {
        Path ctx = Files.createDirectories(dir.resolve("ctx-" + name));
        Files.writeString(ctx.resolve("Dockerfile"), "FROM busybox:latest\n" + step + "\n");
        return ctx.toString();
    }
}
