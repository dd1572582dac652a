package dev.stagefarm.worker.ops;

import dev.stagefarm.common.net.HostPort;
import dev.stagefarm.worker.net.Cidr;
import java.util.List;

/**
 * How much an ADD may bring into a step, and from where; each has a worker flag. The defaults are
 * in SECURITY.md with why.
 *
 * @param maxFetchBytes the largest download of {@code ADD URL} ({@code --max-fetch-size})
 * @param maxExtractBytes the most one archive of {@code ADD archive} may write ({@code --max-extract-size})
 * @param maxExtractEntries the most entries one archive may hold ({@code --max-extract-entries})
 * @param maxExtractRatio the most one archive may expand, in bytes written per compressed byte read,
 *     once {@link #RATIO_GRACE_BYTES} have been written ({@code --max-extract-ratio})
 * @param allowFetch loopback, link-local or private endpoints {@code ADD URL} may fetch from all the
 *     same ({@code --allow-fetch HOST:PORT}); a host matches by name or by address
 * @param denyFetch public ranges refused too: the worker's {@code --deny-net} and the farm's own
 *     endpoints, as for RUN steps
 */
public record InputLimits(
        long maxFetchBytes,
        long maxExtractBytes,
        long maxExtractEntries,
        long maxExtractRatio,
        List<HostPort> allowFetch,
        List<Cidr> denyFetch) {

    /** Small archives may compress well (a text file of zeros): the ratio counts only past this. */
    public static final long RATIO_GRACE_BYTES = 32L << 20;

    public static final InputLimits DEFAULTS =
            new InputLimits(2L << 30, 8L << 30, 1_000_000, 100, List.of(), List.of());

    public InputLimits {
        allowFetch = List.copyOf(allowFetch);
        denyFetch = List.copyOf(denyFetch);
        positive(maxFetchBytes, "--max-fetch-size");
        positive(maxExtractBytes, "--max-extract-size");
        positive(maxExtractEntries, "--max-extract-entries");
        positive(maxExtractRatio, "--max-extract-ratio");
    }

    private static void positive(long value, String flag) {
        if (value <= 0) {
            throw new IllegalArgumentException(flag + " must be above 0, not " + value);
        }
    }

    public InputLimits withAllowFetch(List<HostPort> endpoints) {
        return new InputLimits(
                maxFetchBytes, maxExtractBytes, maxExtractEntries, maxExtractRatio, endpoints, denyFetch);
    }

    public InputLimits withFetchSize(long bytes) {
        return new InputLimits(bytes, maxExtractBytes, maxExtractEntries, maxExtractRatio, allowFetch, denyFetch);
    }

    public InputLimits withExtract(long bytes, long entries, long ratio) {
        return new InputLimits(maxFetchBytes, bytes, entries, ratio, allowFetch, denyFetch);
    }

    public InputLimits withDenyFetch(List<Cidr> ranges) {
        return new InputLimits(maxFetchBytes, maxExtractBytes, maxExtractEntries, maxExtractRatio, allowFetch, ranges);
    }
}
