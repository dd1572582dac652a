package dev.stagefarm.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two teams build the same Dockerfile on one worker: each team's later stages run on its own
 * snapshots of an earlier stage, never on the other team's, although both stages have the same
 * key. The stage writes random bytes, so whose snapshot a later stage ran on shows in its output.
 */
@Tag("e2e")
class TeamSnapshotsEndToEndTest {

    private static final String ALICE = "sf_alice_snap_token";
    private static final String BOB = "sf_bob_snap_token";
    private static final String FARM = "sf_farm_snap_token";

    private static final String DOCKERFILE = """
            FROM busybox AS random
            RUN head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \\n' > /r
            FROM random
            ARG ROUND=1
            RUN echo "$ROUND" > /round && cat /r > /copy
            """;

    @TempDir
    Path dir;

    @Test
    void aTeamsLaterStageNeverRunsOnAnotherTeamsSnapshotOfTheSameStage() throws Exception {
        Farm.Security security = new TokensFile()
                .token("alice", "team-a", ALICE, "read", "write")
                .token("bob", "team-b", BOB, "read", "write")
                .token("farm", "ops", FARM, "read", "write", "farm")
                .security(dir.resolve("tokens.json"), FARM);
        Path ctx = Files.createDirectories(dir.resolve("ctx"));
        Files.writeString(ctx.resolve("Dockerfile"), DOCKERFILE);
        try (Farm farm = new Farm(dir, security, "w1")) {
            Path bob1 = dir.resolve("bob1");
            farm.build("--token", BOB, "-o", "type=local,dest=" + bob1, ctx.toString())
                    .assertOk();
            String bobs = Files.readString(bob1.resolve("r"));
            assertThat(Files.readString(bob1.resolve("copy"))).isEqualTo(bobs);

            // alice's identical stage runs on the same worker (her cache is her own) and makes other bytes
            Path alice = dir.resolve("alice");
            farm.build("--token", ALICE, "-o", "type=local,dest=" + alice, ctx.toString())
                    .assertOk();
            String alices = Files.readString(alice.resolve("r"));
            assertThat(alices).as("the random stage ran for alice").isNotEqualTo(bobs);

            // bob again: the random stage is a hit in bob's cache, the last stage runs on this worker
            // on top of bob's snapshot of it, which the worker still has, never alice's
            Path bob2 = dir.resolve("bob2");
            Farm.Result again = farm.build(
                            "--token", BOB, "--build-arg", "ROUND=2", "-o", "type=local,dest=" + bob2, ctx.toString())
                    .assertOk();
            assertThat(again.output()).contains("CACHED");
            assertThat(Files.readString(bob2.resolve("round")).strip()).isEqualTo("2");
            assertThat(Files.readString(bob2.resolve("r"))).isEqualTo(bobs);
            assertThat(Files.readString(bob2.resolve("copy")))
                    .as("bob's last stage ran on bob's own snapshot of the random stage")
                    .isEqualTo(bobs)
                    .isNotEqualTo(alices);
        }
    }
}
