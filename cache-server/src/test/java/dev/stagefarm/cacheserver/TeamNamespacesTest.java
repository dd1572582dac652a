package dev.stagefarm.cacheserver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.stagefarm.cacheclient.CacheClient;
import dev.stagefarm.cacheclient.CacheException;
import dev.stagefarm.common.Digest;
import dev.stagefarm.common.auth.TeamChannel;
import dev.stagefarm.proto.cache.ActionResult;
import dev.stagefarm.proto.cache.GetStatsResponse;
import dev.stagefarm.proto.cache.TeamUsage;
import io.grpc.Status;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A cache-server with a tokens file: who may do what, and teams that cannot see each other. */
class TeamNamespacesTest {

    @TempDir
    Path dir;

    private TestServers servers;

    @AfterEach
    void stop() {
        if (servers != null) {
            servers.close();
        }
    }

    private void start(String anonymous) throws Exception {
        servers = TestServers.withTokens(
                dir.resolve("data"), TestTokens.write(dir, anonymous), new SimpleMeterRegistry());
    }

    private CacheClient client(String token) {
        return new CacheClient(token == null ? servers.channel : TestTokens.as(servers.channel, token));
    }

    /** The farm's token acting for {@code team}, as coordinators and workers call for a job. */
    private CacheClient farmFor(String team) {
        return new CacheClient(TeamChannel.bind(TestTokens.as(servers.channel, TestTokens.FARM), team));
    }

    private static ActionResult resultListing(Digest blob) {
        return ActionResult.newBuilder().addBlobs(blob.toString()).build();
    }

    @Test
    void teamsShareNothingNotEvenWhetherABlobExists() throws Exception {
        start(null);
        CacheClient a = client(TestTokens.ALICE);
        CacheClient b = client(TestTokens.BOB);
        byte[] layer = "team A's layer".getBytes();
        Digest x = a.upload(layer);
        Digest onlyA = a.upload("only in team A".getBytes());
        a.putAction("step-1", resultListing(x));

        assertThat(b.findMissing(List.of(x, onlyA)))
                .as("B cannot learn that A holds them")
                .isEqualTo(Set.of(x, onlyA));
        assertThatThrownBy(() -> b.readBytes(x)).isInstanceOf(NoSuchFileException.class);
        assertThat(b.getAction("step-1")).as("A's step result is not B's").isEmpty();
        assertThat(b.getActions(List.of("step-1")))
                .as("nor when asked with others")
                .containsExactly(Map.entry("step-1", Optional.empty()));
        assertThat(a.getAction("step-1")).contains(resultListing(x));

        assertThat(b.upload(layer)).as("B uploads its own copy").isEqualTo(x);
        assertThat(b.readBytes(x)).isEqualTo(layer);
        assertThat(a.readBytes(x)).isEqualTo(layer);
        assertThat(b.findMissing(List.of(x, onlyA))).containsExactly(onlyA);

        assertThat(a.stats().getBlobCount()).isEqualTo(2);
        assertThat(a.stats().getActionEntries()).isEqualTo(1);
        assertThat(b.stats().getBlobCount()).isEqualTo(1);
        assertThat(b.stats().getStoredBytes()).isEqualTo(layer.length);
        assertThat(b.prune(0, Duration.ZERO).getBlobsDeleted())
                .as("B's prune --all sees only B's blob")
                .isEqualTo(1);
        assertThat(b.stats().getBlobCount()).isZero();
        assertThat(a.readBytes(x)).as("A's copy survives B's prune").isEqualTo(layer);
        assertThat(a.stats().getBlobCount()).isEqualTo(2);
    }

    @Test
    void anAdminAskingForAllTeamsSeesEachTeamsBlobsBytesAndQuota() throws Exception {
        Path tokens = TestTokens.write(dir, null);
        Files.writeString(
                tokens,
                Files.readString(tokens).replaceFirst("\\{", "{\"teams\": {\"team-b\": {\"cache-quota\": \"1MiB\"}},"));
        servers = TestServers.withTokens(dir.resolve("data"), tokens, new SimpleMeterRegistry());
        CacheClient a = client(TestTokens.ALICE);
        CacheClient b = client(TestTokens.BOB);
        Digest x = a.upload(new byte[100]);
        a.upload(new byte[200]);
        a.putAction("step-1", resultListing(x));
        b.upload(new byte[300]);

        GetStatsResponse all = a.stats(true);

        assertThat(all.getTeamsList())
                .containsExactly(
                        TeamUsage.newBuilder()
                                .setTeam("team-a")
                                .setBlobCount(2)
                                .setStoredBytes(300)
                                .setActionEntries(1)
                                .build(),
                        TeamUsage.newBuilder()
                                .setTeam("team-b")
                                .setBlobCount(1)
                                .setStoredBytes(300)
                                .setQuotaBytes(1 << 20)
                                .build());
        assertThat(all.getBlobCount())
                .as("the other fields still count the caller's team")
                .isEqualTo(2);
        assertThat(b.stats().getTeamsList()).as("only when asked").isEmpty();
        assertThatThrownBy(() -> client(TestTokens.READER).stats(true)).hasMessageContaining("needs the admin scope");
    }

    @Test
    void aFarmTokenActsForTheTeamItNamesAndOnlyThere() throws Exception {
        start(null);
        Digest x = client(TestTokens.ALICE).upload("built for team A".getBytes());
        client(TestTokens.ALICE).putAction("step-1", resultListing(x));

        CacheClient forA = farmFor("team-a");
        assertThat(forA.readBytes(x)).isEqualTo("built for team A".getBytes());
        assertThat(forA.getAction("step-1")).isPresent();
        Digest y = forA.upload("a worker's layer for team A".getBytes());
        assertThat(client(TestTokens.ALICE).findMissing(List.of(y)))
                .as("written into team A")
                .isEmpty();

        CacheClient forB = farmFor("team-b");
        assertThat(forB.findMissing(List.of(x, y))).containsExactlyInAnyOrder(x, y);
        assertThat(forB.getAction("step-1")).isEmpty();
        assertThat(farmFor("").findMissing(List.of(x)))
                .as("without the header: the farm token's own team")
                .containsExactly(x);
    }

    @Test
    void aTeamHeaderFromAnOrdinaryTokenIsRefused() throws Exception {
        start(null);
        Digest x = client(TestTokens.BOB).upload("team B's".getBytes());
        CacheClient aliceAsB =
                new CacheClient(TeamChannel.bind(TestTokens.as(servers.channel, TestTokens.ALICE), "team-b"));

        assertThatThrownBy(() -> aliceAsB.readBytes(x))
                .isInstanceOfSatisfying(
                        CacheException.class, e -> assertThat(e.code()).isEqualTo(Status.Code.PERMISSION_DENIED))
                .hasMessageContaining("token 'alice' belongs to team team-a and cannot act for team team-b");
        assertThatThrownBy(() -> aliceAsB.findMissing(List.of(x)))
                .hasMessageContaining("only tokens with the farm scope");
        CacheClient aliceAsA =
                new CacheClient(TeamChannel.bind(TestTokens.as(servers.channel, TestTokens.ALICE), "team-a"));
        assertThat(aliceAsA.findMissing(List.of(x)))
                .as("naming its own team is harmless")
                .containsExactly(x);
    }

    @Test
    void withoutAnonymousAccessACallWithoutATokenIsToldHowToPassOne() throws Exception {
        start(null);
        assertThatThrownBy(() -> client(null).findMissing(List.of(Digest.of(new byte[0]))))
                .isInstanceOfSatisfying(
                        CacheException.class, e -> assertThat(e.code()).isEqualTo(Status.Code.UNAUTHENTICATED))
                .hasMessageContaining("accepts no calls without a token")
                .hasMessageContaining("--token");
        assertThatThrownBy(() -> client("not-a-known-token").upload("x".getBytes()))
                .isInstanceOfSatisfying(
                        CacheException.class, e -> assertThat(e.code()).isEqualTo(Status.Code.UNAUTHENTICATED))
                .hasMessageContaining("does not know this token");
        HealthCheckResponse health =
                HealthGrpc.newBlockingStub(servers.channel).check(HealthCheckRequest.getDefaultInstance());
        assertThat(health.getStatus()).as("probes need no token").isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
    }

    @Test
    void anonymousCallersGetTheScopesAndTeamTheFileGivesThem() throws Exception {
        start("{\"team\": \"public\", \"scopes\": [\"read\"]}");
        CacheClient publisher = farmFor("public");
        Digest x = publisher.upload("public layer".getBytes());
        CacheClient anonymous = client(null);

        assertThat(anonymous.readBytes(x)).isEqualTo("public layer".getBytes());
        assertThatThrownBy(() -> anonymous.upload("mine".getBytes()))
                .isInstanceOfSatisfying(
                        CacheException.class, e -> assertThat(e.code()).isEqualTo(Status.Code.PERMISSION_DENIED))
                .hasMessageContaining("anonymous callers of team public have the scopes read")
                .hasMessageContaining("needs the write scope");
        assertThat(client(TestTokens.ALICE).findMissing(List.of(x)))
                .as("team-a does not see public")
                .containsExactly(x);
    }

    @Test
    void aReadOnlyTokenReadsButCannotWriteOrAdminister() throws Exception {
        start(null);
        Digest x = client(TestTokens.ALICE).upload("shared in team A".getBytes());
        CacheClient reader = client(TestTokens.READER);

        assertThat(reader.readBytes(x)).isEqualTo("shared in team A".getBytes());
        assertThatThrownBy(() -> reader.upload("sneaky".getBytes()))
                .isInstanceOfSatisfying(
                        CacheException.class, e -> assertThat(e.code()).isEqualTo(Status.Code.PERMISSION_DENIED))
                .hasMessageContaining("token 'reader' of team team-a has the scopes read, but")
                .hasMessageContaining("needs the write scope; use a token that has it");
        assertThatThrownBy(() -> reader.putAction("step", resultListing(x)))
                .hasMessageContaining("needs the write scope");
        assertThatThrownBy(reader::stats).hasMessageContaining("needs the admin scope");
        assertThat(client(TestTokens.ALICE).findMissing(List.of(Digest.of("sneaky".getBytes()))))
                .hasSize(1);
    }
}
