package dev.stagefarm.cacheserver.store;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A team's part of the store. Every row of a team (blob chunks and metadata, uploads, LRU
 * entries, action results) starts with its namespace's {@link #prefix()}: one byte holding the
 * team name's length, then the name. The length byte makes prefixes prefix-free, so no key of
 * one team can be read as a key of another, whatever bytes a client puts in an action key.
 *
 * @param team the team name from the caller's token; {@code ""} is the default namespace of a
 *             server without tokens (and where a store from before namespaces was migrated)
 */
public record Namespace(String team) {

    public static final Namespace DEFAULT = new Namespace("");

    /** Longest team name in bytes; the length must fit the prefix's one byte. */
    static final int MAX_TEAM_BYTES = 63;

    public Namespace {
        if (team.getBytes(StandardCharsets.UTF_8).length > MAX_TEAM_BYTES) {
            throw new IllegalArgumentException("team name '" + team + "' is longer than " + MAX_TEAM_BYTES + " bytes");
        }
    }

    /** The key prefix of every row of this namespace. */
    byte[] prefix() {
        byte[] name = team.getBytes(StandardCharsets.UTF_8);
        byte[] prefix = new byte[1 + name.length];
        prefix[0] = (byte) name.length;
        System.arraycopy(name, 0, prefix, 1, name.length);
        return prefix;
    }

    /** The namespace a key starting at {@code offset} belongs to. */
    static Namespace ofKey(byte[] key, int offset) {
        int length = key[offset] & 0xff;
        return length == 0
                ? DEFAULT
                : new Namespace(
                        new String(Arrays.copyOfRange(key, offset + 1, offset + 1 + length), StandardCharsets.UTF_8));
    }

    /** Bytes the prefix takes. */
    int prefixLength() {
        return 1 + team.getBytes(StandardCharsets.UTF_8).length;
    }

    /** Mixed into the in-memory digest filter, so one team's delete never hides another's blob. */
    long salt() {
        return team.isEmpty() ? 0 : (long) team.hashCode() * 0x9E3779B97F4A7C15L;
    }

    @Override
    public String toString() {
        return team.isEmpty() ? "the default namespace" : "team " + team;
    }
}
