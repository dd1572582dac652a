package dev.stagefarm.worker.ops;

import dev.stagefarm.common.net.HostPort;
import dev.stagefarm.worker.net.Cidr;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.apache.hc.client5.http.DnsResolver;

/**
 * Where {@code ADD URL} may connect: the fetcher's only name resolver, so every address it
 * connects to (the URL's and each redirect's) is one this class resolved and checked, once. A
 * name that resolves to a public address now and to 127.0.0.1 a moment later (DNS rebinding)
 * gains nothing: the connection goes to the address checked.
 */
final class FetchPolicy implements DnsResolver {

    private final List<HostPort> allowed;
    private final List<Cidr> denied;

    FetchPolicy(List<HostPort> allowed, List<Cidr> denied) {
        this.allowed = List.copyOf(allowed);
        this.denied = List.copyOf(denied);
    }

    @Override
    public List<InetSocketAddress> resolve(String host, int port) throws UnknownHostException {
        InetAddress[] all = InetAddress.getAllByName(host);
        List<InetSocketAddress> usable = new ArrayList<>();
        FetchRefusedException refused = null;
        for (InetAddress a : all) {
            Optional<String> kind = refusedKind(a).or(() -> deniedRange(a));
            if (kind.isEmpty() || allows(host, a, port)) {
                usable.add(new InetSocketAddress(a, port));
            } else if (refused == null) {
                refused = new FetchRefusedException(host, port, a, kind.get());
            }
        }
        if (usable.isEmpty()) {
            throw refused != null ? refused : new UnknownHostException(host);
        }
        return usable;
    }

    /** Only the form with a port is used for connections; without one nothing restricted is allowed. */
    @Override
    public InetAddress[] resolve(String host) throws UnknownHostException {
        return resolve(host, -1).stream().map(InetSocketAddress::getAddress).toArray(InetAddress[]::new);
    }

    @Override
    public String resolveCanonicalHostname(String host) {
        return host; // never used to pick an address; no reverse lookups on a build author's behalf
    }

    private Optional<String> deniedRange(InetAddress a) {
        if (a instanceof Inet4Address v4) {
            for (Cidr range : denied) {
                if (range.contains(v4)) {
                    return Optional.of("in " + range + ", a range this farm refuses (--deny-net, or the farm's own"
                            + " endpoints)");
                }
            }
        }
        return Optional.empty();
    }

    private boolean allows(String host, InetAddress address, int port) {
        for (HostPort a : allowed) {
            if (a.port() == port
                    && (a.host().equalsIgnoreCase(host)
                            || a.host().equalsIgnoreCase(trim(host))
                            || literal(a.host()).map(address::equals).orElse(false))) {
                return true;
            }
        }
        return false;
    }

    /** An IPv6 literal without its URL brackets. */
    static String trim(String host) {
        return host == null
                ? ""
                : host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
    }

    /** An address written as one (no lookup); empty for a name. */
    static Optional<InetAddress> literal(String host) {
        if (!host.matches("[0-9.]+|[0-9a-fA-F:.]*:[0-9a-fA-F:.]*")) {
            return Optional.empty();
        }
        try {
            return Optional.of(InetAddress.getByName(host));
        } catch (UnknownHostException e) {
            return Optional.empty();
        }
    }

    /**
     * Why a build may not fetch from this address, or empty when it may: the worker host's own
     * (loopback, unspecified), link-local (cloud metadata at 169.254.169.254) and private ranges
     * (the farm's own network, a cluster's services).
     */
    static Optional<String> refusedKind(InetAddress a) {
        if (a.isLoopbackAddress()) {
            return Optional.of("a loopback address");
        }
        if (a.isAnyLocalAddress()) {
            return Optional.of("an unspecified address");
        }
        if (a instanceof Inet6Address v6 && v6.isIPv4CompatibleAddress()) {
            // ::127.0.0.1 is how some stacks still write an IPv4 address
            byte[] b = v6.getAddress();
            try {
                a = InetAddress.getByAddress(Arrays.copyOfRange(b, 12, 16));
            } catch (UnknownHostException impossible) {
                throw new AssertionError(impossible);
            }
        }
        byte[] b = a.getAddress();
        if (a.isAnyLocalAddress() || (a instanceof Inet4Address && b[0] == 0)) {
            return Optional.of("an unspecified address");
        }
        if (a.isLoopbackAddress()) {
            return Optional.of("a loopback address");
        }
        if (a.isLinkLocalAddress()) {
            return Optional.of("a link-local address");
        }
        if (a.isSiteLocalAddress() || (a instanceof Inet6Address && (b[0] & 0xfe) == 0xfc)) {
            return Optional.of("a private address");
        }
        if (a instanceof Inet4Address && (b[0] & 0xff) == 100 && (b[1] & 0xc0) == 64) {
            return Optional.of("a private address (carrier-grade NAT)");
        }
        return Optional.empty();
    }

    /** A resolved address a build may not fetch from; {@link UrlFetcher} turns it into the step's sentence. */
    static final class FetchRefusedException extends UnknownHostException {
        final String host;
        final int port;
        final InetAddress address;
        final String kind;

        FetchRefusedException(String host, int port, InetAddress address, String kind) {
            super(trim(host) + " is " + kind);
            this.host = host;
            this.port = port;
            this.address = address;
            this.kind = kind;
        }

        /** The host as the URL names it, without brackets. */
        String host() {
            return trim(host);
        }

        /** What the operator writes to allow it, as the URL names the host. */
        String allowFlag() {
            return "--allow-fetch " + new HostPort(trim(host), port);
        }
    }
}
