package dev.stagefarm.coordinator;

import dev.stagefarm.coordinator.schedule.WorkerPool;
import dev.stagefarm.coordinator.schedule.WorkerSession;
import dev.stagefarm.proto.farm.BuildRequest;
import dev.stagefarm.proto.farm.Job;
import dev.stagefarm.proto.farm.Step;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * buildkitd's entitlement model: what lets a build leave its sandbox needs both the farm's
 * grant (a worker's {@code --allow}) and the build's request ({@code build --allow}). The only
 * entitlement is {@value #NETWORK_HOST}, for {@code RUN --network=host}.
 */
final class Entitlements {

    static final String NETWORK_HOST = "network.host";

    static final String HOST_REFUSED = "RUN --network=host needs the entitlement network.host on both sides: start"
            + " the worker with --allow network.host and build with --allow network.host";

    private Entitlements() {}

    /**
     * The first RUN --network=host of {@code steps} that cannot run: the build did not ask, or
     * workers are connected and none of them grants it (with none connected yet, placement waits).
     *
     * @return the line of the refused step
     */
    static Optional<Integer> refusedHostStep(BuildRequest request, List<Step> steps, WorkerPool pool) {
        Optional<Step> host = steps.stream().filter(Entitlements::isHost).findFirst();
        if (host.isEmpty()) {
            return Optional.empty();
        }
        boolean asked = request.getEntitlementsList().contains(NETWORK_HOST);
        List<WorkerSession> alive = pool.alive();
        boolean granted =
                alive.isEmpty() || alive.stream().anyMatch(w -> w.entitlements().contains(NETWORK_HOST));
        return asked && granted ? Optional.empty() : Optional.of(host.get().getLine());
    }

    /** What {@code job} needs of the worker that runs it: the scheduler places it only where granted. */
    static Set<String> needed(Job job) {
        return job.getStepsList().stream().anyMatch(Entitlements::isHost) ? Set.of(NETWORK_HOST) : Set.of();
    }

    private static boolean isHost(Step s) {
        return s.hasRun() && s.getRun().getNetwork().equals("host");
    }
}
