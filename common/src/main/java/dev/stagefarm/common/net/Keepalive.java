package dev.stagefarm.common.net;

import io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.NettyServerBuilder;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * HTTP/2 pings between workers and the coordinator, both ways: a peer that stops answering
 * (a stopped process, a lost node, a network cut) is found within {@link #DETECTION} instead of
 * TCP's hours, and its jobs go back to the queue. The coordinator permits pings as often as
 * workers send them, or it would end their connections for pinging too often.
 */
public final class Keepalive {

    /** Time between pings on an idle connection. */
    public static final Duration INTERVAL = Duration.ofSeconds(4);

    /** How long an unanswered ping waits before the connection is declared dead. */
    public static final Duration TIMEOUT = Duration.ofSeconds(4);

    /** The longest a silent peer goes unnoticed: one interval and one timeout. */
    public static final Duration DETECTION = INTERVAL.plus(TIMEOUT);

    private Keepalive() {}

    /** The coordinator's side: it pings its workers and permits their pings. */
    public static NettyServerBuilder server(NettyServerBuilder builder) {
        return builder.keepAliveTime(INTERVAL.toMillis(), TimeUnit.MILLISECONDS)
                .keepAliveTimeout(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
                // a little under the clients' interval, so timer jitter never counts as abuse
                .permitKeepAliveTime(INTERVAL.toMillis() / 2, TimeUnit.MILLISECONDS)
                .permitKeepAliveWithoutCalls(true);
    }

    /** A worker's side of its coordinator connection (grpc-java pings at most every 10 s from a client). */
    public static NettyChannelBuilder client(NettyChannelBuilder builder) {
        return builder.keepAliveTime(INTERVAL.toMillis(), TimeUnit.MILLISECONDS)
                .keepAliveTimeout(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
                .keepAliveWithoutCalls(true);
    }
}
