package dev.stagefarm.cli.build;

import dev.stagefarm.cacheclient.CacheClient;
import dev.stagefarm.cacheclient.CacheException;
import dev.stagefarm.common.client.ClientSecurity;
import dev.stagefarm.common.client.GrpcChannels;
import dev.stagefarm.proto.farm.CoordinatorGrpc;
import dev.stagefarm.proto.farm.FarmInfoRequest;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
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
 * that follow ({@link #kept()}): a build then skips two connection set-ups and the channels'
 * orderly shut-down at its end, ~25 ms of every build on a local farm (measured). Each build still
 * asks the coordinator which cache-server to use (one call on a warm channel): a farm restarted at
 * the same coordinator address may name another cache-server, and a build must not spend the cache
 * client's whole retry budget on the old one. Builds running at once share the connections. A
 * build that finds the farm unreachable drops them ({@link Farm#broken()}): the next one connects
 * afresh, while those still running keep them until they end.
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
     * The connections to the farm at {@code coordinator}, as {@code security} presents the user,
     * for one build: close them when it ends. The same address with another token or other TLS
     * files (a rotated certificate) gets connections of its own.
     */
    public Farm open(String coordinator, ClientSecurity security) {
        if (!keep) {
            Farm farm = new Farm(null, coordinator, security);
            farm.users = 1;
            return farm;
        }
        Key key = new Key(coordinator, security, stamps(security));
        while (true) {
            Farm farm = kept.computeIfAbsent(key, k -> new Farm(k, coordinator, security));
            if (farm.use()) {
                return farm;
            }
            kept.remove(key, farm); // dropped meanwhile by a build that found it unreachable
        }
    }

    @Override
    public void close() {
        List.copyOf(kept.values()).forEach(f -> f.drop(true));
    }

    /**
     * Whether {@code failure} says the farm could not be reached (its address moved, it went
     * away) rather than refusing or failing one build: only then are kept connections dropped,
     * and never under the other builds that use them.
     */
    public static boolean unreachable(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            Status.Code code = t instanceof StatusRuntimeException s
                    ? s.getStatus().getCode()
                    : t instanceof CacheException c ? c.code() : null;
            if (code == Status.Code.UNAVAILABLE || code == Status.Code.DEADLINE_EXCEEDED) {
                return true;
            }
        }
        return false;
    }

    /** One farm's connections, shared by the builds that use them at once. */
    public final class Farm implements AutoCloseable {
        private final Key key;
        private final ManagedChannel coordinator;
        private final ClientSecurity security;
        private CacheClient cache;
        /** The address {@link #cache} reaches. */
        private String cacheAddress;
        /** Clients of a cache-server the coordinator no longer names, closed once no build uses them. */
        private final List<CacheClient> retired = new ArrayList<>();
        /** Builds using these connections now. */
        private int users;
        /** No new build takes these connections; the last one using them ends them. */
        private boolean dropped;

        private Farm(Key key, String address, ClientSecurity security) {
            this.key = key;
            this.security = security;
            this.coordinator = GrpcChannels.open(address, security);
        }

        private synchronized boolean use() {
            if (dropped) {
                return false;
            }
            users++;
            return true;
        }

        public ManagedChannel coordinator() {
            return coordinator;
        }

        /**
         * A client of the cache-server the coordinator names now, asked at each build's start: a
         * coordinator restarted at this address may name another one. A client of the one it named
         * before stays open for the builds still using it.
         */
        public CacheClient cache() {
            String address = CoordinatorGrpc.newBlockingStub(coordinator)
                    .getFarmInfo(FarmInfoRequest.getDefaultInstance())
                    .getCacheAddress();
            synchronized (this) {
                if (cache == null || !address.equals(cacheAddress)) {
                    if (cache != null) {
                        retired.add(cache);
                    }
                    cache = CacheClient.connect(address, security);
                    cacheAddress = address;
                }
                return cache;
            }
        }

        /**
         * The build found the farm unreachable: later builds connect afresh (and ask again where
         * the cache is); builds using these connections now keep them until they end.
         */
        public void broken() {
            if (key != null) {
                kept.remove(key, this);
            }
            drop(false);
        }

        /** The build using these connections ended. */
        @Override
        public void close() {
            boolean end;
            List<CacheClient> unused = List.of();
            synchronized (this) {
                users--;
                end = users == 0 && (dropped || key == null);
                if (users == 0) {
                    unused = List.copyOf(retired);
                    retired.clear();
                }
            }
            unused.forEach(CacheClient::close);
            if (end) {
                end();
            }
        }

        private void drop(boolean now) {
            boolean end;
            synchronized (this) {
                dropped = true;
                end = now || users == 0;
            }
            if (end) {
                end();
            }
        }

        /**
         * Waits for the channels to end before the launcher stops the client event loop: a channel
         * still retrying an unreachable farm would otherwise schedule its next attempt on a
         * stopped loop, and gRPC prints that as a "Panic!" stack trace under the one-line error.
         */
        private void end() {
            List<CacheClient> clients;
            synchronized (this) {
                clients = new ArrayList<>(retired);
                if (cache != null) {
                    clients.add(cache);
                }
                cache = null;
                retired.clear();
            }
            clients.forEach(CacheClient::close);
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
