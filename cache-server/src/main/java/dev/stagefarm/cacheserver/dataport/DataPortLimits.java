package dev.stagefarm.cacheserver.dataport;

import java.time.Duration;

/**
 * What the data port grants a connection before it has shown a ticket.
 *
 * @param ticketTimeout how long a connection may take, from accept, to send the magic and a
 *     whole ticket (over TLS: the handshake too); one that has not is closed, however many bytes
 *     it trickled in meanwhile
 * @param maxConnections connections open at once, waiting for a ticket or transferring; one
 *     remote address holds at most a quarter of them ({@link #maxPerAddress()})
 */
public record DataPortLimits(Duration ticketTimeout, int maxConnections) {

    /**
     * Two seconds: a client connects only after OpenRead has handed it a ticket and sends the
     * ticket's 36 bytes in one write right after the TCP (and TLS) handshake, so a legitimate
     * request needs a few round trips, milliseconds even on a busy machine. Long enough for a
     * stalled JVM (a GC pause, a loaded CI host), short enough that a silent or trickling
     * client pins a connection slot and a thread for two seconds, not ten.
     */
    public static final Duration TICKET_TIMEOUT = Duration.ofSeconds(2);
    /**
     * A valid connection needs a ticket, and no more than this wait at a time
     * ({@link ReadTickets#MAX_OUTSTANDING}); each costs a platform thread.
     */
    public static final int MAX_CONNECTIONS = ReadTickets.MAX_OUTSTANDING;

    public static final DataPortLimits DEFAULTS = new DataPortLimits(TICKET_TIMEOUT, MAX_CONNECTIONS);

    public DataPortLimits {
        if (ticketTimeout.isNegative() || ticketTimeout.isZero()) {
            throw new IllegalArgumentException("the data port's ticket timeout must be positive, not " + ticketTimeout);
        }
        if (maxConnections < 1) {
            throw new IllegalArgumentException(
                    "--data-max-connections must be 1 or more (the data port serves one read per connection), not "
                            + maxConnections);
        }
    }

    /**
     * Connections one remote address may hold: a quarter of all, at least one. By address,
     * because the ticket, the only thing that says who a caller is on this port, arrives after
     * the connection has taken its slot.
     */
    public int maxPerAddress() {
        return Math.max(1, maxConnections / 4);
    }

    public DataPortLimits withTicketTimeout(Duration timeout) {
        return new DataPortLimits(timeout, maxConnections);
    }

    public DataPortLimits withMaxConnections(int max) {
        return new DataPortLimits(ticketTimeout, max);
    }
}
