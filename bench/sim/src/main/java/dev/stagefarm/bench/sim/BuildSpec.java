package dev.stagefarm.bench.sim;

/**
 * One build the simulation submits.
 *
 * @param content what the build's sources are: two builds of one team with the same content
 *                ask for identical work, which the scheduler runs once
 * @param submitNanos when the build arrives, on the simulated clock
 */
record BuildSpec(String id, String team, Graph graph, String content, long submitNanos) {

    /** A build of its own content: it shares no work with any other. */
    static BuildSpec unique(String id, String team, Graph graph, long submitNanos) {
        return new BuildSpec(id, team, graph, id, submitNanos);
    }
}
