package dev.stagefarm.coordinator.builds;

import dev.stagefarm.common.auth.Caller;
import dev.stagefarm.proto.farm.ListBuildsRequest;
import dev.stagefarm.proto.farm.ListBuildsResponse;
import dev.stagefarm.proto.farm.StageTimeline;
import dev.stagefarm.proto.farm.TeamBuildCount;
import java.time.InstantSource;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The builds the coordinator remembers: every running or queued one, and the last
 * {@link #FINISHED_KEPT} finished ones (older ones are forgotten). With {@link BuildLog}'s caps
 * this bounds what the record costs: at most 200 × 256 KiB of finished logs.
 *
 * <p>Who sees what: an admin token, and every caller of a farm without tokens, sees every build;
 * any other token sees its own team's builds and the other teams' only as counts.
 */
public final class BuildBook {

    public static final int FINISHED_KEPT = 200;

    private final InstantSource clock;
    private final Map<String, BuildRecord> active = new LinkedHashMap<>();
    private final ArrayDeque<BuildRecord> finished = new ArrayDeque<>();

    public BuildBook(InstantSource clock) {
        this.clock = clock;
    }

    /** A build starts: it is listed from now on. */
    public BuildRecord open(String id, String team, String dockerfileName, String target) {
        BuildRecord[] made = new BuildRecord[1];
        made[0] = new BuildRecord(id, team, dockerfileName, target, clock, () -> ended(made[0]));
        synchronized (this) {
            active.put(id, made[0]);
        }
        return made[0];
    }

    private synchronized void ended(BuildRecord record) {
        if (active.remove(record.id()) != null) {
            finished.addFirst(record);
            while (finished.size() > FINISHED_KEPT) {
                finished.removeLast();
            }
        }
    }

    /** A build by id, running or among those kept. */
    public synchronized Optional<BuildRecord> find(String id) {
        BuildRecord r = active.get(id);
        if (r != null) {
            return Optional.of(r);
        }
        return finished.stream().filter(f -> f.id().equals(id)).findFirst();
    }

    /** Newest first: running and queued builds, then finished ones. */
    private synchronized List<BuildRecord> all(boolean includeFinished) {
        List<BuildRecord> out = new ArrayList<>(active.values());
        out.sort(Comparator.comparing(BuildRecord::submitted).reversed());
        if (includeFinished) {
            out.addAll(finished);
        }
        return out;
    }

    /** Whether {@code caller} sees every team's builds. */
    public static boolean seesAll(Caller caller) {
        return caller.may(Caller.Scope.ADMIN);
    }

    /** Whether {@code caller} may see (and, with write scope, cancel) this build. */
    public static boolean maySee(Caller caller, BuildRecord build) {
        return seesAll(caller) || caller.team().equals(build.team());
    }

    /** The builds {@code caller} may see, as {@code ListBuilds} answers. */
    public ListBuildsResponse list(Caller caller, ListBuildsRequest request) {
        ListBuildsResponse.Builder reply =
                ListBuildsResponse.newBuilder().setViewerTeam(caller.team()).setViewerSeesAll(seesAll(caller));
        Map<String, TeamBuildCount.Builder> others = new TreeMap<>();
        for (BuildRecord b :
                all(request.getIncludeFinished() || !request.getBuildId().isEmpty())) {
            if (!request.getBuildId().isEmpty() && !request.getBuildId().equals(b.id())) {
                continue;
            }
            if (maySee(caller, b)) {
                reply.addBuilds(b.summary(request.getWithStages()));
            } else if (request.getBuildId().isEmpty()) {
                count(
                        others.computeIfAbsent(
                                b.team(), t -> TeamBuildCount.newBuilder().setTeam(t)),
                        b);
            }
        }
        others.values().forEach(reply::addOtherTeams);
        return reply.build();
    }

    private static void count(TeamBuildCount.Builder c, BuildRecord b) {
        switch (b.state()) {
            case QUEUED -> c.setQueued(c.getQueued() + 1);
            case RUNNING -> c.setRunning(c.getRunning() + 1);
            default -> c.setFinished(c.getFinished() + 1);
        }
        c.setQueuedStages(c.getQueuedStages() + b.stagesIn(StageTimeline.State.QUEUED));
        c.setRunningStages(c.getRunningStages() + b.stagesIn(StageTimeline.State.RUNNING));
    }
}
