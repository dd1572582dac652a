package dev.stagefarm.bench.sim;

import java.util.Set;

/**
 * One stage of a build graph, as the simulation runs it: one job in the coordinator's queue.
 *
 * @param deps the stages whose results it takes (FROM a stage, COPY --from, RUN --mount from=)
 * @param workMillis the time its steps occupy a slot once its inputs are local, recorded on a real farm
 * @param outBytes what a later stage fetches from it: its artifact or, for FROM, its layers
 */
record Stage(int index, String name, Set<Integer> deps, long workMillis, long outBytes) {

    Stage {
        deps = Set.copyOf(deps);
    }
}
