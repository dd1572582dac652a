package dev.stagefarm.common.io;

import java.io.IOException;
import java.io.InputStream;
import org.apache.commons.io.input.ProxyInputStream;

/**
 * Tells a {@link Meter} of every byte read through it, skipped bytes included, so that whoever
 * counts (an unpack's budget) can refuse the next read by throwing. The one counting stream of
 * the project: ADD's archive limits and the base-image layer limits both count through it.
 */
public final class MeteredInputStream extends ProxyInputStream {

    /** Counts bytes as they pass; throwing stops the read that brought them. */
    @FunctionalInterface
    public interface Meter {
        void count(long bytes) throws IOException;
    }

    private final Meter meter;

    public MeteredInputStream(InputStream in, Meter meter) {
        super(in);
        this.meter = meter;
    }

    @Override
    protected void afterRead(int n) throws IOException {
        if (n > 0) {
            meter.count(n);
        }
    }

    @Override
    public long skip(long n) throws IOException {
        // ProxyInputStream's skip passes by afterRead: skipped bytes were produced all the same
        long skipped = super.skip(n);
        if (skipped > 0) {
            meter.count(skipped);
        }
        return skipped;
    }

    @Override
    public boolean markSupported() {
        // a reset would count the same bytes twice
        return false;
    }
}
