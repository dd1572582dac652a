package dev.stagefarm.worker.net;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The farm's own servers as ranges a step may not reach: the coordinator and the cache-server
 * (whose data port is on the same host). On the worker's host they are refused anyway with every
 * host address; elsewhere they would be reachable through NAT without this.
 */
public final class FarmEndpoints {

    private static final Logger log = LoggerFactory.getLogger(FarmEndpoints.class);

    private FarmEndpoints() {}

    /** {@code deny} plus the IPv4 addresses of each {@code HOST:PORT} endpoint (in-process and unix ones have none). */
    public static List<Cidr> refused(List<Cidr> deny, String... endpoints) {
        Set<Cidr> out = new LinkedHashSet<>(deny);
        for (String endpoint : endpoints) {
            host(endpoint).ifPresent(host -> {
                try {
                    for (InetAddress a : InetAddress.getAllByName(host)) {
                        if (a instanceof Inet4Address a4 && !a4.isLoopbackAddress()) {
                            out.add(Cidr.of(a4));
                        }
                    }
                } catch (UnknownHostException e) {
                    log.warn("cannot resolve {} to keep steps away from it: {}", endpoint, e.getMessage());
                }
            });
        }
        return new ArrayList<>(out);
    }

    static Optional<String> host(String endpoint) {
        String e = endpoint.replaceFirst("^(dns|tcp)://?/?", "");
        if (e.contains("://") || e.startsWith("unix:") || e.startsWith("in-process:") || e.startsWith("inprocess:")) {
            return Optional.empty();
        }
        int colon = e.lastIndexOf(':');
        String host = colon > 0 ? e.substring(0, colon) : e;
        host = host.replace("[", "").replace("]", "");
        return host.isEmpty() ? Optional.empty() : Optional.of(host);
    }
}
