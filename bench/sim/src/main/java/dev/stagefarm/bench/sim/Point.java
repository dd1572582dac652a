package dev.stagefarm.bench.sim;

/**
 * One point of the sweep: {@code builds} builds of one graph submitted together to a farm of
 * {@code workers} workers.
 *
 * @param lowerBoundNanos no schedule can finish them sooner: the graph's critical path, or all the
 *                        work spread evenly over every slot, whichever is longer
 */
record Point(
        String graph,
        int workers,
        int slots,
        int builds,
        long criticalPathNanos,
        long lowerBoundNanos,
        long makespanNanos,
        double meanBuildNanos,
        double meanWaitNanos,
        double cpuNanosPerPlacement,
        long placements) {

    /** How far the farm is from the best any scheduler could do: 1.0 is perfect. */
    double ratioToLowerBound() {
        return (double) makespanNanos / lowerBoundNanos;
    }

    /** A build's mean time against the time it would take alone on an idle, endless farm. */
    double meanBuildToCriticalPath() {
        return meanBuildNanos / criticalPathNanos;
    }

    static Point of(Graph graph, int workers, int slots, int builds, SimResult r) {
        long cp = graph.criticalPathMillis() * 1_000_000;
        double spread = (double) graph.totalWorkMillis() * 1_000_000 * builds / ((long) workers * slots);
        return new Point(
                graph.name(),
                workers,
                slots,
                builds,
                cp,
                Math.max(cp, Math.round(spread)),
                r.makespanNanos(),
                r.meanBuildNanos(),
                r.meanWaitNanos(),
                r.cpuNanosPerPlacement(),
                r.placements());
    }
}
