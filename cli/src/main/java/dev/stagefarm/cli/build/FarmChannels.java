package dev.stagefarm.cli.build;

import dev.stagefarm.cacheclient.CacheClient;
import dev.stagefarm.common.client.ClientSecurity;
import dev.stagefarm.common.client.GrpcChannels;
import dev.stagefarm.proto.farm.CoordinatorGrpc;
import dev.stagefarm.proto.farm.FarmInfoRequest;
import io.grpc.ManagedChannel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A build's connections to its farm: a channel to the coordinator and a client of the
 * cache-server the coordinator names. A command in a process of its own opens them for its build
 * and closes them after it ({@link #perBuild()}). The resident client keeps them for the builds
 * that follow ({@link #kept()}): a build then skips two connection set-ups, the farm-info call and
 * the channels' orderly shut-down at its end, ~25 ms of every build on a local farm (measured).
 * A build that finds the farm unreachable drops what was kept ({@link Farm#broken()}), so the next
 * one connects afresh and asks again which cache-server to use.
 */
public final class FarmChannels implements AutoCloseable {

    private final boolean keep;
    private final Map<Key, Farm> kept = new ConcurrentHashMap<>();

    private FarmChannels(boolean keep) {
        this.keep = keep;
    }

    /** Connections opened for one build and closed after it. */
    public static FarmChannels perBuild() {
        return new FarmChannels(false);
    }

    /** Connections kept across builds until {@link #close()}. */
    public static FarmChannels kept() {
        return new FarmChannels(true);
    }

    /**
     * The connections to the farm at {@code coordinator}, as {@code security} presents the user.
     * The same address with another token or other TLS files (a rotated certificate) gets
     * connections of its own.
     */
    public Farm open(String coordinator, ClientSecurity security) {
        if (!keep) {
            return new Farm(null, coordinator, security);
        }
        Key key = new Key(coordinator, security, stamps(security));
        return kept.computeIfAbsent(key, k -> new Farm(k, coordinator, security));
    }

    @Override
    public void close() {
        List.copyOf(kept.values()).forEach(Farm::broken);
    }

    /** One farm's connections. Closing them ends them only when they are not kept. */
    public final class Farm implements AutoCloseable {
        private final Key key;
        private final ManagedChannel coordinator;
        private final ClientSecurity security;
        private CacheClient cache;

        private Farm(Key key, String address, ClientSecurity security) {
            this.key = key;
            this.security = security;
            this.coordinator = GrpcChannels.open(address, security);
        }

        public ManagedChannel coordinator() {
            return coordinator;
        }

        /** The cache-server the coordinator names, asked once for as long as the connections live. */
        public synchronized CacheClient cache() {
            if (cache == null) {
                String address = CoordinatorGrpc.newBlockingStub(coordinator)
                        .getFarmInfo(FarmInfoRequest.getDefaultInstance())
                        .getCacheAddress();
                cache = CacheClient.connect(address, security);
            }
            return cache;
        }

        /** The farm did not answer, or answered with an error: the next build connects afresh. */
        public void broken() {
            if (key != null && kept.remove(key, this)) {
                end();
            }
        }

        @Override
        public void close() {
            if (key == null) {
                end();
            }
        }

        /**
         * Waits for the channels to end before the launcher stops the client event loop: a channel
         * still retrying an unreachable farm would otherwise schedule its next attempt on a
         * stopped loop, and gRPC prints that as a "Panic!" stack trace under the one-line error.
         */
        private void end() {
            CacheClient c;
            synchronized (this) {
                c = cache;
                cache = null;
            }
            if (c != null) {
                c.close();
            }
            GrpcChannels.close(coordinator);
        }
    }

    private record Key(String coordinator, ClientSecurity security, List<Long> stamps) {}

    /** When the TLS files were last changed: a rotated certificate or key gets new connections. */
    private static List<Long> stamps(ClientSecurity security) {
        List<Long> out = new ArrayList<>();
        for (Path p : new Path[] {security.ca(), security.cert(), security.key()}) {
            try {
                out.add(p == null ? 0L : Files.getLastModifiedTime(p).toMillis());
            } catch (IOException e) {
                out.add(-1L); // unreadable now: the build's own TLS set-up says why
            }
        }
        return out;
    }
}
