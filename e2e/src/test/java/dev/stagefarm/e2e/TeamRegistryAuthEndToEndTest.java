package dev.stagefarm.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.oci.testing.HandWrittenTar;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Registry credentials per team on a farm of processes: team A's private base image lives in a
 * registry that asks for a password (docker-registry with htpasswd), and the farm holds team A's
 * login in {@code --team-registry-auth}. Team A's build FROM it pulls it; team B's, on the same
 * farm, is refused with a sentence that says the farm holds no credentials for team B there and
 * who can add them, and never gets the image through team A's.
 */
@Tag("e2e")
class TeamRegistryAuthEndToEndTest {

    private static final String ALICE = "sf_alice_registry_token";
    private static final String BOB = "sf_bob_registry_token";
    private static final String FARM = "sf_farm_registry_token";

    @TempDir
    Path dir;

    @Test
    void aTeamsPrivateBaseImageIsPulledWithItsCredentialsAndRefusedToAnotherTeam() throws Exception {
        try (PrivateRegistry registry = PrivateRegistry.start(dir.resolve("private"), "team-a-robot", "s3cret")) {
            RawImagePush.push(
                    new RawImagePush.Target(registry.address, registry.basicAuth()),
                    "team-a/base",
                    "v1",
                    List.of(new HandWrittenTar().file("private.txt", "team A's base\n")));
            String image = registry.address + "/team-a/base:v1";

            Path auth = Files.createDirectories(dir.resolve("team-registry-auth"));
            Files.writeString(auth.resolve("team-a.json"), registry.dockerConfig());
            Farm.Security security = new TokensFile()
                    .token("alice", "team-a", ALICE, "read", "write")
                    .token("bob", "team-b", BOB, "read", "write")
                    .token("farm", "ops", FARM, "read", "write", "farm")
                    .security(dir.resolve("tokens.json"), FARM);
            List<String> teamAuth =
                    List.of("--team-registry-auth", auth.toString(), "--insecure-registry", registry.address);
            Path ctx = Files.createDirectories(dir.resolve("ctx"));
            Files.writeString(ctx.resolve("a"), "a\n");
            Files.writeString(ctx.resolve("Dockerfile"), "FROM " + image + "\nCOPY a /a\n");

            try (Farm farm = new Farm(dir, security, teamAuth)) {
                farm.startWorker("w1", teamAuth.toArray(String[]::new));
                farm.awaitWorkers("w1");

                Path out = dir.resolve("out-a");
                farm.build("--token", ALICE, "-o", "type=local,dest=" + out, ctx.toString())
                        .assertOk();
                assertThat(out.resolve("private.txt")).hasContent("team A's base");
                assertThat(out.resolve("a")).hasContent("a");

                Farm.Result b =
                        farm.build("--token", BOB, "-o", "type=local,dest=" + dir.resolve("out-b"), ctx.toString());
                assertThat(b.exitCode()).as(b.output()).isNotZero();
                assertThat(b.output())
                        .contains("this farm holds no registry credentials for team team-b on " + registry.address
                                + ": ask the farm's operator to add them as team-b.json in the --team-registry-auth"
                                + " directory of the coordinator and the workers")
                        .doesNotContain("docker login");
                assertThat(dir.resolve("out-b/private.txt")).doesNotExist();
            }
        }
    }
}
