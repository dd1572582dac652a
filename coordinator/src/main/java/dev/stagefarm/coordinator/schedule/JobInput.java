package dev.stagefarm.coordinator.schedule;

import java.util.List;

/**
 * One input of a job that a worker may already hold: a base layer, a stage's snapshot, a
 * {@code COPY --from} artifact, the build context. A worker that holds any of {@code keys} for
 * the job's team need not fetch it.
 *
 * @param bytes what fetching the input costs (its compressed size, as the job names it); 0 or
 *              less when the job does not know, and then the size the worker reported counts
 * @param keys the names a worker reports it under (see {@link LocalityIndex}), any one suffices:
 *             e.g. a layer's blob digest and the key of its unpacked snapshot
 */
public record JobInput(long bytes, List<String> keys) {

    public JobInput {
        keys = List.copyOf(keys);
    }

    public static JobInput of(long bytes, String... keys) {
        return new JobInput(bytes, List.of(keys));
    }
}
