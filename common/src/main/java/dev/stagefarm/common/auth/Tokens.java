package dev.stagefarm.common.auth;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The tokens a server accepts, as read from its tokens file: only their sha256 hashes, each
 * with the caller it stands for, and the caller a request without a token becomes (none:
 * such requests are refused).
 */
public record Tokens(List<Entry> entries, Optional<Caller> anonymous, Map<String, TeamPolicy> teams) {

    /** The key of {@link #teams} whose policy holds for every team not named there. */
    public static final String EVERY_OTHER_TEAM = "*";

    /** One accepted token: the sha256 of its text and who presents it. */
    public record Entry(byte[] sha256, Caller caller) {}

    public Tokens {
        entries = List.copyOf(entries);
        teams = Map.copyOf(teams);
    }

    /** Tokens with every team on the default policy (weight 1, no limit on builds). */
    public Tokens(List<Entry> entries, Optional<Caller> anonymous) {
        this(entries, anonymous, Map.of());
    }

    /** What the file grants {@code team}: its own entry, else the {@code "*"} entry, else the default. */
    public TeamPolicy policy(String team) {
        TeamPolicy own = teams.get(team);
        if (own != null) {
            return own;
        }
        return teams.getOrDefault(EVERY_OTHER_TEAM, TeamPolicy.DEFAULT);
    }

    /**
     * The caller whose token this is. Every entry is compared, in constant time, so the time an
     * answer takes says nothing about how close a guess came to a stored hash.
     */
    public Optional<Caller> lookUp(String token) {
        byte[] presented = sha256(token);
        Caller found = null;
        for (Entry entry : entries) {
            if (MessageDigest.isEqual(entry.sha256(), presented) && found == null) {
                found = entry.caller();
            }
        }
        return Optional.ofNullable(found);
    }

    public static byte[] sha256(String token) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }
}
