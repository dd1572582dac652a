package dev.stagefarm.worker.ops;

import dev.stagefarm.cacheclient.Units;
import dev.stagefarm.common.io.MeteredInputStream;
import java.io.IOException;
import java.io.InputStream;

/**
 * What unpacking one archive has cost so far, counted as the bytes go by (never from a header):
 * compressed bytes read from the file, bytes that came out of the decompressor, bytes written,
 * entries. Past a worker limit the next read or write fails with {@link LimitException}, so a
 * decompression bomb stops after at most a buffer's worth beyond the limit.
 */
final class ExtractBudget {

    /** Headers (long names, PAX records) are read into memory by the tar reader: keep them small. */
    static final long MAX_HEADER_BYTES = 16L << 20;

    private final InputLimits limits;
    private final String archive;
    private long compressed;
    private long expanded;
    private long written;
    private long entries;
    private long headerStart = -1;

    ExtractBudget(InputLimits limits, String archive) {
        this.limits = limits;
        this.archive = archive;
    }

    /** Counts the archive file's own bytes. */
    InputStream compressed(InputStream raw) {
        return new MeteredInputStream(raw, n -> compressed += n);
    }

    /** Counts what the decompressor makes of them (the tar stream, headers and skipped data included). */
    InputStream expanded(InputStream decompressed) {
        return new MeteredInputStream(decompressed, n -> {
            expanded += n;
            if (headerStart >= 0 && expanded - headerStart > MAX_HEADER_BYTES) {
                throw new LimitException("archive " + archive + " has an entry header over "
                        + Units.formatSize(MAX_HEADER_BYTES) + ", which ADD does not extract: repack it");
            }
            check();
        });
    }

    /** Between entries: what is read now is headers, until {@link #entry()}. */
    void headers() {
        headerStart = expanded;
    }

    void entry() throws LimitException {
        headerStart = -1;
        if (++entries > limits.maxExtractEntries()) {
            throw new LimitException("archive " + archive + " holds more than " + limits.maxExtractEntries()
                    + " entries, this worker's --max-extract-entries: raise --max-extract-entries on the workers"
                    + " if it is genuine");
        }
    }

    void wrote(long n) throws LimitException {
        written += n;
        check();
    }

    private void check() throws LimitException {
        long out = Math.max(expanded, written);
        if (out > limits.maxExtractBytes()) {
            throw new LimitException("archive " + archive + " expands to more than "
                    + Units.formatSize(limits.maxExtractBytes())
                    + ", this worker's --max-extract-size: raise --max-extract-size on the workers if it is meant"
                    + " to be this big");
        }
        if (out > InputLimits.RATIO_GRACE_BYTES && out / Math.max(compressed, 1) > limits.maxExtractRatio()) {
            throw new LimitException("archive " + archive + " expands more than " + limits.maxExtractRatio()
                    + " times its own size (a decompression bomb?), this worker's --max-extract-ratio: raise"
                    + " --max-extract-ratio on the workers if it is genuine");
        }
    }

    /** A limit reached inside a stream; {@link ArchiveExtractor} makes it the step's error. */
    static final class LimitException extends IOException {
        LimitException(String message) {
            super(message);
        }
    }
}
