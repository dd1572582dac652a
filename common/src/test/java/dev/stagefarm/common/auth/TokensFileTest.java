package dev.stagefarm.common.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.HexFormat;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TokensFileTest {

    @TempDir
    Path dir;

    private static String hash(String token) {
        return HexFormat.of().formatHex(Tokens.sha256(token));
    }

    private Path file(String json) throws Exception {
        return Files.writeString(dir.resolve("tokens.json"), json);
    }

    @Test
    void tokensAreKnownByTheirHashAndCarryTeamAndScopes() throws Exception {
        Tokens tokens = TokensFile.read(file("{\"anonymous\": {\"team\": \"public\", \"scopes\": [\"read\"]},"
                + "\"tokens\": [{\"name\": \"alice\", \"team\": \"team-a\", \"scopes\": [\"read\", \"WRITE\"], \"sha256\": \""
                + hash("s3cret") + "\"}]}"));

        assertThat(tokens.lookUp("s3cret"))
                .contains(new Caller("alice", "team-a", Set.of(Caller.Scope.READ, Caller.Scope.WRITE)));
        assertThat(tokens.lookUp("s3cret ")).isEmpty();
        assertThat(tokens.lookUp("other")).isEmpty();
        assertThat(tokens.anonymous()).contains(new Caller("anonymous", "public", Set.of(Caller.Scope.READ)));
    }

    @Test
    void teamsHaveWeightsAndBuildLimitsAndFilesWithoutThemKeepTheirMeaning() throws Exception {
        String token = "\"tokens\": [{\"name\": \"a\", \"team\": \"t\", \"scopes\": [\"read\"], \"sha256\": \""
                + hash("t") + "\"}]";
        Tokens old = TokensFile.read(file("{" + token + "}"));
        assertThat(old.policy("t")).isEqualTo(TeamPolicy.DEFAULT);
        assertThat(old.policy("t").weight()).isEqualTo(1.0);
        assertThat(old.policy("t").maxBuilds()).isEmpty();

        Tokens tokens = TokensFile.read(file("{" + token + ", \"teams\": {"
                + "\"team-a\": {\"weight\": 2, \"max-builds\": 20}, \"team-b\": {\"weight\": 0.5},"
                + "\"*\": {\"max-builds\": 3}}}"));
        assertThat(tokens.policy("team-a")).isEqualTo(new TeamPolicy(2, java.util.OptionalInt.of(20)));
        assertThat(tokens.policy("team-b"))
                .as("a team's own entry, not \"*\"")
                .isEqualTo(new TeamPolicy(0.5, java.util.OptionalInt.empty()));
        assertThat(tokens.policy("unnamed")).isEqualTo(new TeamPolicy(1, java.util.OptionalInt.of(3)));
        assertThat(tokens.policy("team-a").cacheQuota()).isEmpty();
    }

    @Test
    void aTeamsCacheQuotaIsASizeOrBytes() throws Exception {
        String token = "\"tokens\": [{\"name\": \"a\", \"team\": \"t\", \"scopes\": [\"read\"], \"sha256\": \""
                + hash("t") + "\"}]";
        Tokens tokens = TokensFile.read(file("{" + token + ", \"teams\": {"
                + "\"team-a\": {\"cache-quota\": \"50GiB\"}, \"team-b\": {\"cache-quota\": 4096},"
                + "\"*\": {\"cache-quota\": \"512 MB\"}}}"));
        assertThat(tokens.policy("team-a").cacheQuota()).hasValue(50L << 30);
        assertThat(tokens.policy("team-b").cacheQuota()).hasValue(4096);
        assertThat(tokens.policy("other").cacheQuota()).hasValue(512L << 20);
    }

    @Test
    void aWrongTeamPolicySaysWhatToWrite() throws Exception {
        String token = "\"tokens\": [{\"name\": \"a\", \"team\": \"t\", \"scopes\": [\"read\"], \"sha256\": \""
                + hash("t") + "\"}]";
        assertThatThrownBy(() -> TokensFile.read(file("{" + token + ", \"teams\": [1]}")))
                .hasMessageContaining("\"teams\" must be an object such as");
        assertThatThrownBy(() -> TokensFile.read(file("{" + token + ", \"teams\": {\"t\": {\"weight\": 0}}}")))
                .hasMessageContaining("teams \"t\": \"weight\" must be a number above 0");
        assertThatThrownBy(() -> TokensFile.read(file("{" + token + ", \"teams\": {\"t\": {\"weight\": \"2\"}}}")))
                .hasMessageContaining("\"weight\" must be a number");
        assertThatThrownBy(() -> TokensFile.read(file("{" + token + ", \"teams\": {\"t\": {\"max-builds\": 0}}}")))
                .hasMessageContaining("\"max-builds\" must be a whole number of builds, at least 1");
        assertThatThrownBy(() -> TokensFile.read(file("{" + token + ", \"teams\": {\"t\": {\"max-builds\": 2.5}}}")))
                .hasMessageContaining("\"max-builds\" must be a whole number");
        assertThatThrownBy(() -> TokensFile.read(file("{" + token + ", \"teams\": {\"t\": {\"maxBuilds\": 2}}}")))
                .hasMessageContaining("unknown field \"maxBuilds\"; a team has \"weight\", \"max-builds\" and");
        assertThatThrownBy(
                        () -> TokensFile.read(file("{" + token + ", \"teams\": {\"t\": {\"cache-quota\": \"lots\"}}}")))
                .hasMessageContaining("teams \"t\": \"cache-quota\" must be a size such as \"50GiB\"");
        assertThatThrownBy(() -> TokensFile.read(file("{" + token + ", \"teams\": {\"t\": {\"cache-quota\": 0}}}")))
                .hasMessageContaining("\"cache-quota\" must be a size");
        assertThatThrownBy(() -> TokensFile.read(file("{" + token + ", \"teams\": {\"Team A\": {\"weight\": 2}}}")))
                .hasMessageContaining("teams \"Team A\": a team name is");
    }

    @Test
    void everyMistakeIsNamedWithWhatToWriteInstead() throws Exception {
        String ok = "\"sha256\": \"" + hash("t") + "\"";
        assertThatThrownBy(() -> TokensFile.read(dir.resolve("absent.json"))).hasMessageContaining("does not exist");
        assertThatThrownBy(() -> TokensFile.read(file("{\"tokens\": [")))
                .hasMessageContaining("tokens.json: it is not valid JSON");
        assertThatThrownBy(() -> TokensFile.read(file("{\"token\": []}")))
                .hasMessageContaining("unknown field \"token\"");
        assertThatThrownBy(() ->
                        TokensFile.read(file("{\"tokens\": [{\"name\": \"a\", \"team\": \"t\", \"scopes\": [\"read\"], "
                                + "\"sha256\": \"abc\"}]}")))
                .hasMessageContaining("token \"a\": \"sha256\" must be 64 hex digits")
                .hasMessageContaining("stagefarm token new");
        assertThatThrownBy(() -> TokensFile.read(file(
                        "{\"tokens\": [{\"name\": \"a\", \"team\": \"Team A\", \"scopes\": [\"read\"], " + ok + "}]}")))
                .hasMessageContaining("team \"Team A\" must be 1-63 lower-case letters");
        assertThatThrownBy(() -> TokensFile.read(
                        file("{\"tokens\": [{\"name\": \"a\", \"team\": \"t\", \"scopes\": [\"rw\"], " + ok + "}]}")))
                .hasMessageContaining("unknown scope \"rw\"; scopes are read, write, admin, farm");
        assertThatThrownBy(() -> TokensFile.read(file("{\"anonymous\": {\"team\": \"t\", \"scopes\": [\"farm\"]}}")))
                .hasMessageContaining("anonymous callers cannot have the \"farm\" scope");
        assertThatThrownBy(() -> TokensFile.read(file("{\"tokens\": []}"))).hasMessageContaining("nobody could call");
    }

    @Test
    void aChangedFileIsReadAgainAndABrokenChangeKeepsTheTokensInEffect() throws Exception {
        Path path = file("{\"tokens\": [{\"name\": \"a\", \"team\": \"t\", \"scopes\": [\"read\"], \"sha256\": \""
                + hash("one") + "\"}]}");
        Instant[] now = {Instant.parse("2026-11-28T00:00:00Z")};
        Clock clock = new Clock() {
            public ZoneId getZone() {
                return ZoneOffset.UTC;
            }

            public Clock withZone(ZoneId zone) {
                return this;
            }

            public Instant instant() {
                return now[0];
            }
        };
        ReloadingTokens tokens = ReloadingTokens.open(path, clock);
        assertThat(tokens.get().lookUp("one")).isPresent();

        Files.writeString(
                path,
                "{\"tokens\": [{\"name\": \"b\", \"team\": \"t\", \"scopes\": [\"read\"], \"sha256\": \"" + hash("two")
                        + "\"}]}");
        Files.setLastModifiedTime(path, FileTime.from(Instant.parse("2030-01-01T00:00:00Z")));
        now[0] = now[0].plusSeconds(2);
        assertThat(tokens.get().lookUp("two")).as("added").isPresent();
        assertThat(tokens.get().lookUp("one")).as("revoked").isEmpty();

        Files.writeString(path, "{ broken");
        Files.setLastModifiedTime(path, FileTime.from(Instant.parse("2031-01-01T00:00:00Z")));
        now[0] = now[0].plusSeconds(2);
        assertThat(tokens.get().lookUp("two")).as("a typo locks nobody out").isPresent();
    }
}
