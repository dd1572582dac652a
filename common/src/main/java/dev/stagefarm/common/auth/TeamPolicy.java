package dev.stagefarm.common.auth;

import java.util.OptionalInt;
import java.util.OptionalLong;

/**
 * What a farm grants one team, from the {@code "teams"} section of the tokens file.
 *
 * @param weight the team's share of the worker slots against other teams with queued work: a team
 *     of weight 2 runs twice as many jobs at once as a team of weight 1 when both wait for slots
 * @param maxBuilds how many builds the team may have in flight on the coordinator at once; empty
 *     for no limit. A build over it is refused when submitted.
 * @param cacheQuota the most blob bytes the team may keep in the cache-server; empty for none
 *     (only the server's --max-size). Over it, the team's own least recently used blobs go first.
 */
public record TeamPolicy(double weight, OptionalInt maxBuilds, OptionalLong cacheQuota) {

    /** A team the file says nothing about, and every team of a farm without a tokens file. */
    public static final TeamPolicy DEFAULT = new TeamPolicy(1, OptionalInt.empty());

    public TeamPolicy(double weight, OptionalInt maxBuilds) {
        this(weight, maxBuilds, OptionalLong.empty());
    }

    public TeamPolicy {
        if (!(weight > 0) || Double.isInfinite(weight)) {
            throw new IllegalArgumentException("weight " + weight + " must be a positive number");
        }
        if (maxBuilds.isPresent() && maxBuilds.getAsInt() < 1) {
            throw new IllegalArgumentException("max-builds " + maxBuilds.getAsInt() + " must be at least 1");
        }
        if (cacheQuota.isPresent() && cacheQuota.getAsLong() < 1) {
            throw new IllegalArgumentException("cache-quota " + cacheQuota.getAsLong() + " must be at least 1 byte");
        }
    }
}
