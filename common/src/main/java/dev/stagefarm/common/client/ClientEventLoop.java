package dev.stagefarm.common.client;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.util.concurrent.TimeUnit;

/**
 * The Netty event loop that a process's client channels of one kind share, started with the
 * first channel and stoppable before the process exits (a later channel starts a new one).
 *
 * <p>Why stop it: HotSpot's exit waits up to 300 ms for Java threads blocked in a system call,
 * and an idle event loop waits in select(2). gRPC's own shared loop for TCP channels is let go
 * only a second after the last channel closes, which a command-line process never waits for.
 */
final class ClientEventLoop {

    private final String threadName;
    private final int threads;
    private EventLoopGroup group;

    /** @param threads 0 for Netty's default (twice the cores, as gRPC's shared loop) */
    ClientEventLoop(String threadName, int threads) {
        this.threadName = threadName;
        this.threads = threads;
    }

    synchronized EventLoopGroup group() {
        if (group == null) {
            group = new MultiThreadIoEventLoopGroup(
                    threads, new DefaultThreadFactory(threadName, true), NioIoHandler.newFactory());
        }
        return group;
    }

    /** Stops the loop, if one runs; for after the channels on it are closed. */
    void stop() {
        EventLoopGroup running;
        synchronized (this) {
            running = group;
            group = null;
        }
        if (running != null) {
            running.shutdownGracefully(0, 0, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
        }
    }
}
