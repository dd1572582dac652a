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
