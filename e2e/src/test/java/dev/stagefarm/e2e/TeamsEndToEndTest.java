package dev.stagefarm.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.stagefarm.common.client.ClientSecurity;
import dev.stagefarm.common.testing.TestPki;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A farm with a tokens file and TLS on the coordinator and the cache-server: builds run in their
 * submitter's team, one team's cache never answers another's build, and a build without a token
 * is told how to pass one.
 */
@Tag("e2e")
class TeamsEndToEndTest {

    private static final String ALICE = "sf_alice_e2e_token";
    private static final String BOB = "sf_bob_e2e_token";
    private static final String FARM = "sf_farm_e2e_token";

    @TempDir
    Path dir;

    @Test
    void buildsRunInTheirTeamAndATokenIsRequired() throws Exception {
        TestPki pki = TestPki.create(dir.resolve("pki"));
        Path tokens = new TokensFile()
                .token("alice", "team-a", ALICE, "read", "write")
                .token("bob", "team-b", BOB, "read", "write")
                .token("farm", "ops", FARM, "read", "write", "farm")
                .write(dir.resolve("tokens.json"));
        Farm.Security security = new Farm.Security(
                List.of(
                        "--tokens",
                        tokens.toString(),
                        "--tls-cert",
                        pki.serverCert().toString(),
                        "--tls-key",
                        pki.serverKey().toString()),
                List.of("--token", FARM, "--tls-ca", pki.ca().toString()),
                new ClientSecurity(FARM, pki.ca(), null, null, true));
        Path ctx = Path.of("src/test/resources/whiteouts").toAbsolutePath();
        String ca = pki.ca().toString();
        try (Farm farm = new Farm(dir, security, "w1")) {
            Path first = dir.resolve("a1.json");
            farm.build("--tls-ca", ca, "--token", ALICE, "--metadata-file", first.toString(), ctx.toString())
                    .assertOk();
            assertThat(cached(first)).as("team A's first build runs its stage").isFalse();

            Path again = dir.resolve("a2.json");
            farm.build("--tls-ca", ca, "--token", ALICE, "--metadata-file", again.toString(), ctx.toString())
                    .assertOk();
            assertThat(cached(again))
                    .as("team A's second build is answered from team A's cache")
                    .isTrue();

            Path other = dir.resolve("b1.json");
            Farm.Result b = farm.build(
                            "--tls-ca", ca, "--token", BOB, "--metadata-file", other.toString(), ctx.toString())
                    .assertOk();
            assertThat(cached(other))
                    .as("team B's build of the same context is not served from team A's cache")
                    .isFalse();
            assertThat(b.output()).doesNotContain("CACHED");

            Farm.Result anonymous = farm.build("--tls-ca", ca, ctx.toString());
            assertThat(anonymous.exitCode()).isNotZero();
            // one sentence that says what to do, not the gRPC status code
            assertThat(anonymous.output())
                    .contains("accepts no calls without a token: pass one with --token or --token-file")
                    .doesNotContain("StatusRuntimeException");
        }
    }

    private static boolean cached(Path metadataFile) throws Exception {
        JsonNode stages = Images.metadata(metadataFile).path("stagefarm.stages");
        assertThat(stages.size()).isPositive();
        boolean all = true;
        for (JsonNode stage : stages) {
            all &= stage.path("cached").asBoolean();
        }
        return all;
    }
}
