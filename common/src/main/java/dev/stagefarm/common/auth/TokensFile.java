package dev.stagefarm.common.auth;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * Reads a tokens file (the {@code --tokens FILE} of cache-server and coordinator):
 *
 * <pre>{@code
 * {"anonymous": {"team": "public", "scopes": ["read"]},
 *  "tokens": [{"name": "alice", "team": "team-a", "scopes": ["read", "write"], "sha256": "<64 hex>"}],
 *  "teams": {"team-a": {"weight": 2, "max-builds": 20, "cache-quota": "50GiB"}, "*": {"max-builds": 10}}}
 * }</pre>
 *
 * {@code "teams"} is optional (files without it keep their meaning): per team, its fair-share
 * {@code weight} (default 1), {@code max-builds} in flight (default: no limit) and the bytes of
 * blobs it may keep in the cache-server, {@code cache-quota} (default: none); {@code "*"}
 * stands for every team not named.
 *
 * Every problem is reported with the file, the entry and what to write instead.
 */
public final class TokensFile {

    /** Team names: lower-case letters, digits, '.', '_', '-'; they become RocksDB key prefixes and log fields. */
    public static final Pattern TEAM = Pattern.compile("[a-z0-9][a-z0-9._-]{0,62}");

    private static final ObjectMapper JSON = new ObjectMapper();

    private TokensFile() {}

    public static Tokens read(Path file) throws InvalidTokensException {
        JsonNode root;
        try {
            root = JSON.readTree(Files.readString(file));
        } catch (NoSuchFileException e) {
            throw new InvalidTokensException(file, "the file does not exist");
        } catch (JsonProcessingException e) {
            throw new InvalidTokensException(
                    file,
                    "it is not valid JSON (" + e.getOriginalMessage() + " at line "
                            + e.getLocation().getLineNr() + ")");
        } catch (IOException e) {
            throw new InvalidTokensException(file, "it cannot be read: " + e.getMessage());
        }
        if (root == null || !root.isObject()) {
            throw new InvalidTokensException(
                    file, "it must hold a JSON object with \"tokens\" (and optionally \"anonymous\")");
        }
        for (var names = root.fieldNames(); names.hasNext(); ) {
            String field = names.next();
            if (!field.equals("tokens") && !field.equals("anonymous") && !field.equals("teams")) {
                throw new InvalidTokensException(
                        file, "unknown field \"" + field + "\"; only \"tokens\", \"anonymous\" and \"teams\" are read");
            }
        }
        JsonNode list = root.path("tokens");
        if (!list.isMissingNode() && !list.isArray()) {
            throw new InvalidTokensException(file, "\"tokens\" must be a list of {name, team, scopes, sha256}");
        }
        List<Tokens.Entry> entries = new ArrayList<>();
        Set<String> names = new HashSet<>();
        Set<String> hashes = new HashSet<>();
        for (int i = 0; i < list.size(); i++) {
            JsonNode node = list.get(i);
            String where = "tokens[" + i + "]";
            String name = text(file, node, "name", where);
            where = "token \"" + name + "\"";
            if (!names.add(name)) {
                throw new InvalidTokensException(
                        file, "two tokens are named \"" + name + "\"; names must be unique (they appear in logs)");
            }
            String hex = text(file, node, "sha256", where).toLowerCase(Locale.ROOT);
            if (!hex.matches("[0-9a-f]{64}")) {
                throw new InvalidTokensException(
                        file,
                        where + ": \"sha256\" must be 64 hex digits, the sha256 of the token"
                                + " (stagefarm token new prints a token and its entry)");
            }
            if (!hashes.add(hex)) {
                throw new InvalidTokensException(file, where + " has the same sha256 as another token");
            }
            Caller caller = new Caller(name, team(file, node, where), scopes(file, node, where));
            entries.add(new Tokens.Entry(HexFormat.of().parseHex(hex), caller));
        }
        Optional<Caller> anonymous = Optional.empty();
        JsonNode anon = root.path("anonymous");
        if (!anon.isMissingNode() && !anon.isNull()) {
            anonymous = Optional.of(
                    new Caller("anonymous", team(file, anon, "anonymous"), scopes(file, anon, "anonymous")));
            if (anonymous.get().may(Caller.Scope.FARM)) {
                throw new InvalidTokensException(
                        file, "anonymous callers cannot have the \"farm\" scope: it lets a caller act for any team");
            }
        }
        if (entries.isEmpty() && anonymous.isEmpty()) {
            throw new InvalidTokensException(
                    file, "it lists no tokens and no anonymous access, so nobody could call the server");
        }
        return new Tokens(entries, anonymous, teams(file, root.path("teams")));
    }

    private static final Pattern SIZE = Pattern.compile("(\\d{1,15})\\s*([kmgt]?)(i?b)?");

    /** A size in bytes: a whole number, or a string with a binary unit ("50GiB", "512MB", "1T"). */
    private static OptionalLong cacheQuota(Path file, String where, JsonNode q) throws InvalidTokensException {
        if (q.isMissingNode()) {
            return OptionalLong.empty();
        }
        long bytes = -1;
        if (q.isIntegralNumber()) {
            bytes = q.asLong();
        } else if (q.isTextual()) {
            var m = SIZE.matcher(q.asText().trim().toLowerCase(Locale.ROOT));
            if (m.matches()) {
                int power = m.group(2).isEmpty() ? 0 : "kmgt".indexOf(m.group(2)) + 1;
                bytes = Long.parseLong(m.group(1)) << (10 * power);
            }
        }
        if (bytes < 1) {
            throw new InvalidTokensException(
                    file,
                    where + ": \"cache-quota\" must be a size such as \"50GiB\" or \"512MiB\" (binary units)"
                            + " or a whole number of bytes, at least 1 (leave it out for no quota)");
        }
        return OptionalLong.of(bytes);
    }

    /** The optional {@code "teams"} object: per team name (or "*"), weight and max-builds. */
    private static Map<String, TeamPolicy> teams(Path file, JsonNode teams) throws InvalidTokensException {
        Map<String, TeamPolicy> out = new TreeMap<>();
        if (teams.isMissingNode() || teams.isNull()) {
            return out;
        }
        if (!teams.isObject()) {
            throw new InvalidTokensException(
                    file, "\"teams\" must be an object such as {\"team-a\": {\"weight\": 2, \"max-builds\": 10}}");
        }
        for (var it = teams.fields(); it.hasNext(); ) {
            var e = it.next();
            String team = e.getKey();
            String where = "teams \"" + team + "\"";
            if (!team.equals(Tokens.EVERY_OTHER_TEAM) && !TEAM.matcher(team).matches()) {
                throw new InvalidTokensException(
                        file,
                        where + ": a team name is 1-63 lower-case letters, digits, '.', '_' or '-',"
                                + " or \"*\" for every team not named");
            }
            JsonNode node = e.getValue();
            if (!node.isObject()) {
                throw new InvalidTokensException(
                        file, where + " must be an object with \"weight\" and/or \"max-builds\"");
            }
            for (var names = node.fieldNames(); names.hasNext(); ) {
                String field = names.next();
                if (!field.equals("weight") && !field.equals("max-builds") && !field.equals("cache-quota")) {
                    throw new InvalidTokensException(
                            file,
                            where + ": unknown field \"" + field
                                    + "\"; a team has \"weight\", \"max-builds\" and \"cache-quota\"");
                }
            }
            double weight = 1;
            JsonNode w = node.path("weight");
            if (!w.isMissingNode()) {
                if (!w.isNumber() || !(w.asDouble() > 0) || w.asDouble() > 1000) {
                    throw new InvalidTokensException(
                            file,
                            where + ": \"weight\" must be a number above 0 and at most 1000 (1 is an equal share)");
                }
                weight = w.asDouble();
            }
            OptionalInt maxBuilds = OptionalInt.empty();
            JsonNode m = node.path("max-builds");
            if (!m.isMissingNode()) {
                if (!m.isIntegralNumber() || m.asLong() < 1 || m.asLong() > 1_000_000) {
                    throw new InvalidTokensException(
                            file,
                            where
                                    + ": \"max-builds\" must be a whole number of builds, at least 1 (leave it out for no limit)");
                }
                maxBuilds = OptionalInt.of(m.asInt());
            }
            out.put(team, new TeamPolicy(weight, maxBuilds, cacheQuota(file, where, node.path("cache-quota"))));
        }
        return out;
    }

    private static String text(Path file, JsonNode node, String field, String where) throws InvalidTokensException {
        JsonNode value = node.path(field);
        if (!value.isTextual() || value.asText().isBlank()) {
            throw new InvalidTokensException(file, where + " needs \"" + field + "\" as a non-empty string");
        }
        return value.asText();
    }

    private static String team(Path file, JsonNode node, String where) throws InvalidTokensException {
        String team = text(file, node, "team", where);
        if (!TEAM.matcher(team).matches()) {
            throw new InvalidTokensException(
                    file,
                    where + ": team \"" + team + "\" must be 1-63 lower-case letters,"
                            + " digits, '.', '_' or '-', starting with a letter or digit");
        }
        return team;
    }

    private static Set<Caller.Scope> scopes(Path file, JsonNode node, String where) throws InvalidTokensException {
        JsonNode list = node.path("scopes");
        if (!list.isArray() || list.isEmpty()) {
            throw new InvalidTokensException(file, where + " needs \"scopes\": a list of read, write, admin, farm");
        }
        Set<Caller.Scope> scopes = EnumSet.noneOf(Caller.Scope.class);
        for (JsonNode scope : list) {
            scopes.add(Scopes.parse(scope.asText())
                    .orElseThrow(() -> new InvalidTokensException(
                            file,
                            where + ": unknown scope \"" + scope.asText()
                                    + "\"; scopes are read, write, admin, farm")));
        }
        return scopes;
    }
}
