package dev.stagefarm.coordinator;

import dev.stagefarm.common.auth.TeamPolicy;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Function;

/**
 * Counts each team's builds in flight against the team's {@code max-builds} from the tokens file.
 * A build over the limit is refused when submitted, not held: a waiting build would still hold
 * what the limit is there to bound (a stream, a thread, its plan in the coordinator's memory), and
 * the jobs of admitted builds already wait their turn in the fair-share queue. The limit is read
 * on each submission, so a changed tokens file applies to the next build.
 */
final class BuildAdmission {

    /** A build its team may not start now; the message is what its submitter reads. */
    static final class TooManyBuilds extends Exception {
        TooManyBuilds(String message) {
            super(message, null, false, false);
        }
    }

    private final Function<String, TeamPolicy> policies;
    private final Map<String, Integer> inFlight = new HashMap<>();

    /** @param policies each team's policy, as the tokens file in effect says */
    BuildAdmission(Function<String, TeamPolicy> policies) {
        this.policies = policies;
    }

    /** Every team unlimited: a farm without a tokens file. */
    static BuildAdmission unlimited() {
        return new BuildAdmission(team -> TeamPolicy.DEFAULT);
    }

    /** Counts a build of {@code team} in, or refuses it; every admitted build is {@link #release}d once. */
    synchronized void admit(String team) throws TooManyBuilds {
        int running = inFlight.getOrDefault(team, 0);
        var limit = policies.apply(team).maxBuilds();
        if (limit.isPresent() && running >= limit.getAsInt()) {
            throw new TooManyBuilds("team " + team + " already has " + running + " builds in flight, its limit"
                    + " (max-builds in the farm's tokens file): submit again when one has finished,"
                    + " or ask the farm's operators to raise it");
        }
        inFlight.put(team, running + 1);
    }

    synchronized void release(String team) {
        inFlight.computeIfPresent(team, (t, n) -> n <= 1 ? null : n - 1);
    }
}
