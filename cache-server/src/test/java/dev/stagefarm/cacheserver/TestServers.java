package dev.stagefarm.cacheserver;

import dev.stagefarm.common.net.HostPort;
import io.grpc.ManagedChannel;
import io.grpc.ServerInterceptor;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/** An in-process cache-server on a real RocksDB directory, and a channel to it. */
public final class TestServers implements AutoCloseable {

    final CacheServer server;
    final ManagedChannel channel;

    private TestServers(CacheServer server, ManagedChannel channel) {
        this.server = server;
        this.channel = channel;
    }

    static TestServers start(Path dataDir, MeterRegistry registry, ServerInterceptor... interceptors)
            throws IOException {
        String name = InProcessServerBuilder.generateName();
        InProcessServerBuilder builder = InProcessServerBuilder.forName(name);
        for (ServerInterceptor interceptor : interceptors) {
            builder.intercept(interceptor);
        }
        CacheServer server = new CacheServer(
                        new CacheServerConfig(HostPort.parse("127.0.0.1:0"), dataDir), registry, builder)
                .start();
        return new TestServers(server, InProcessChannelBuilder.forName(name).build());
    }

    /** With a --tokens file: callers authenticate, and each team works in its own namespace. */
    static TestServers withTokens(Path dataDir, Path tokensFile, MeterRegistry registry) throws IOException {
        String name = InProcessServerBuilder.generateName();
        CacheServer server = new CacheServer(
                        new CacheServerConfig(HostPort.parse("127.0.0.1:0"), dataDir, 0, tokensFile),
                        registry,
                        InProcessServerBuilder.forName(name))
                .start();
        return new TestServers(server, InProcessChannelBuilder.forName(name).build());
    }

    public static byte[] randomBytes(int size, long seed) {
        byte[] data = new byte[size];
        new Random(seed).nextBytes(data);
        return data;
    }

    @Override
    public void close() {
        try {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            server.close();
        }
    }
}
