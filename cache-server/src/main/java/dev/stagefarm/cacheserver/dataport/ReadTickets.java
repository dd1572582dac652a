package dev.stagefarm.cacheserver.dataport;

import dev.stagefarm.cacheserver.store.BlobReader;
import dev.stagefarm.common.Digest;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * The reads OpenRead has authorised and the data port has not yet served. Each is an open
 * {@link BlobReader} (a RocksDB snapshot of the caller's namespace, taken when the call was
 * authorised) behind a random ticket: whoever presents the ticket within {@link #LIFETIME}
 * gets that range once. The ticket is the only credential the data port asks for, so it is
 * unguessable (256 random bits), good for one connection, and short-lived; a reader nobody
 * came for is closed when its ticket expires, so its snapshot does not hold back compaction.
 */
public final class ReadTickets implements AutoCloseable {

    public static final int TICKET_BYTES = 32;
    public static final Duration LIFETIME = Duration.ofSeconds(30);
    /** Tickets outstanding at once: each holds a snapshot and a chunk buffer's worth of reader. */
    static final int MAX_OUTSTANDING = 1024;

    private static final HexFormat HEX = HexFormat.of();

    /** An authorised read waiting for its connection. */
    record Pending(Digest digest, BlobReader reader, long size, long expiresAtNanos) {}

    private final SecureRandom random = new SecureRandom();
    private final LongSupplier nanoTime;
    /** Insertion order is expiry order: every ticket lives equally long. Guarded by itself. */
    private final Map<String, Pending> outstanding = new LinkedHashMap<>();

    public ReadTickets(LongSupplier nanoTime) {
        this.nanoTime = nanoTime;
    }

    /**
     * A ticket for {@code size} bytes from {@code reader}, which this now owns until redeemed.
     *
     * @throws TooManyReadsException when {@link #MAX_OUTSTANDING} tickets are waiting (the reader is closed)
     */
    public byte[] issue(Digest digest, BlobReader reader, long size) throws TooManyReadsException {
        byte[] ticket = new byte[TICKET_BYTES];
        random.nextBytes(ticket);
        synchronized (outstanding) {
            expire();
            if (outstanding.size() >= MAX_OUTSTANDING) {
                reader.close();
                throw new TooManyReadsException(MAX_OUTSTANDING);
            }
            outstanding.put(
                    HEX.formatHex(ticket),
                    new Pending(digest, reader, size, nanoTime.getAsLong() + LIFETIME.toNanos()));
        }
        return ticket;
    }

    /** The read behind {@code ticket}, which is used up by this; null when unknown or expired. */
    public Pending redeem(byte[] ticket) {
        Pending pending;
        synchronized (outstanding) {
            expire();
            pending = outstanding.remove(HEX.formatHex(ticket));
        }
        return pending;
    }

    int outstanding() {
        synchronized (outstanding) {
            return outstanding.size();
        }
    }

    /** Closes the readers of expired tickets. */
    public void expire() {
        List<Pending> expired = new ArrayList<>();
        synchronized (outstanding) {
            long now = nanoTime.getAsLong();
            for (Iterator<Pending> it = outstanding.values().iterator(); it.hasNext(); ) {
                Pending p = it.next();
                if (now - p.expiresAtNanos() < 0) {
                    break;
                }
                expired.add(p);
                it.remove();
            }
        }
        expired.forEach(p -> p.reader().close());
    }

    @Override
    public void close() {
        List<Pending> all;
        synchronized (outstanding) {
            all = new ArrayList<>(outstanding.values());
            outstanding.clear();
        }
        all.forEach(p -> p.reader().close());
    }

    /** More reads waiting for the data port than the server holds open. */
    public static final class TooManyReadsException extends Exception {
        TooManyReadsException(int max) {
            super(max + " reads are waiting for their data-port connection; retry shortly");
        }
    }
}
