package dev.stagefarm.cacheserver.store;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A shared cache mount: its team's namespace and its id. Two teams using the same id have two
 * mounts that never see each other.
 */
public record MountKey(String team, String id) {

    /** Longest id accepted: ids are user text from Dockerfiles. */
    public static final int MAX_ID_BYTES = 1024;

    public MountKey {
        if (team.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("a team name cannot contain NUL");
        }
    }

    /**
     * The {@code cache_mounts} row key: the team's UTF-8 bytes, NUL, the id's. Teams cannot contain
     * NUL, so one team's rows form one contiguous range that {@link #teamPrefix} bounds.
     */
    byte[] rowKey() {
        byte[] prefix = teamPrefix(team);
        byte[] id = this.id.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(prefix.length + id.length)
                .put(prefix)
                .put(id)
                .array();
    }

    static byte[] teamPrefix(String team) {
        byte[] t = team.getBytes(StandardCharsets.UTF_8);
        return Arrays.copyOf(t, t.length + 1);
    }

    /** The id of a row key of {@code team}. */
    static String idOf(String team, byte[] rowKey) {
        int from = teamPrefix(team).length;
        return new String(rowKey, from, rowKey.length - from, StandardCharsets.UTF_8);
    }

    @Override
    public String toString() {
        return team.isEmpty() ? id : team + "/" + id;
    }
}
