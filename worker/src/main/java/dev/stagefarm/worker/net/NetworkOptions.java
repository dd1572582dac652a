package dev.stagefarm.worker.net;

import java.nio.file.Path;
import java.util.List;
import java.util.Set;

/**
 * How a worker gives its steps a network; each has a worker flag.
 *
 * @param deny ranges no step may reach, beyond the host's own addresses, link-local and the farm's
 *     endpoints ({@code --deny-net}, e.g. a cluster's pod and service CIDRs)
 * @param allow entitlements this worker grants ({@code --allow}); only {@value #NETWORK_HOST}
 * @param poolSize namespaces kept for reuse ({@code --net-pool}); 0: a fresh one per step
 * @param cniPlugins where Debian's containernetworking-plugins put the plugins
 */
public record NetworkOptions(List<Cidr> deny, Set<String> allow, int poolSize, Path cniPlugins) {

    /** The entitlement for RUN --network=host, as in buildkitd and buildx. */
    public static final String NETWORK_HOST = "network.host";

    public NetworkOptions {
        deny = List.copyOf(deny);
        allow = Set.copyOf(allow);
        for (String e : allow) {
            if (!e.equals(NETWORK_HOST)) {
                throw new IllegalArgumentException(
                        "unknown entitlement " + e + " for --allow: the only one is " + NETWORK_HOST);
            }
        }
        if (poolSize < 0) {
            throw new IllegalArgumentException("--net-pool cannot be negative: " + poolSize);
        }
    }

    public static NetworkOptions defaults() {
        return new NetworkOptions(List.of(), Set.of(), 4, Path.of("/usr/lib/cni"));
    }

    public NetworkOptions withAllow(Set<String> entitlements) {
        return new NetworkOptions(deny, entitlements, poolSize, cniPlugins);
    }

    public boolean allowsHost() {
        return allow.contains(NETWORK_HOST);
    }
}
