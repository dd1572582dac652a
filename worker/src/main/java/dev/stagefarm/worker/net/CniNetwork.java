package dev.stagefarm.worker.net;

import dev.stagefarm.common.fs.FileTrees;
import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One network namespace per RUN step, on a bridge of the worker's own, as BuildKit's CNI provider
 * does: a namespace ({@code ip netns add}) connected by Debian's CNI bridge plugin, NAT to the
 * outside, and {@link BridgeFirewall} keeping steps away from the host, the farm and each other
 * (the bridge ports are isolated, so steps on one bridge cannot even exchange frames).
 *
 * <p>Setting a namespace up and tearing it down costs ~100 ms of ip and plugin runs, so up to
 * {@link Config#poolSize()} namespaces are kept and handed to later steps, as BuildKit's pool
 * does. A step cannot change its namespace (no CAP_NET_ADMIN, read-only /proc/sys) and all its
 * processes are gone when runc returns, so the next step finds what the previous one found.
 * With a pool of 0 every step gets a fresh namespace.
 *
 * <p>Everything is named from a tag derived from the worker's root directory ({@code sfbr-<tag>},
 * {@code sfn-<tag>-<n>}, iptables chains {@code SF-<tag>-*}), so that a restarted worker finds
 * and removes what it left when it died, and several workers on one host never collide.
 */
public final class CniNetwork implements NetworkProvider {

    private static final Logger log = LoggerFactory.getLogger(CniNetwork.class);
    private static final Path NETNS_DIR = Path.of("/var/run/netns");

    /**
     * @param pluginDir the CNI plugins ({@code /usr/lib/cni} on Debian)
     * @param workerKey unique per worker on the host (its root directory): the tag is derived from it
     * @param refused ranges no step may reach beyond the built-in ones ({@code --deny-net}, the farm's)
     * @param allowHost the worker was started with {@code --allow network.host}
     * @param poolSize namespaces kept for reuse; 0 sets up a fresh one per step
     * @param hostResolvConf the host's resolver configuration
     * @param runDir where leases and per-worker state live ({@code /run/stagefarm-net})
     */
    public record Config(
            Path pluginDir,
            String workerKey,
            List<Cidr> refused,
            boolean allowHost,
            int poolSize,
            Path hostResolvConf,
            Path runDir) {

        public Config {
            refused = List.copyOf(refused);
            if (poolSize < 0) {
                throw new IllegalArgumentException("the namespace pool size cannot be negative: " + poolSize);
            }
        }

        /** Shared by every worker on the host: the subnet leases must be. */
        public static final Path RUN_DIR = Path.of("/run/stagefarm-net");
    }

    private record Namespace(String name, Path path, String veth) {}

    private final Config config;
    private final String tag;
    private final SubnetLease lease;
    private final CniBridge cni;
    private final Path resolvFile;
    private final AtomicLong counter = new AtomicLong();
    private final Deque<Namespace> idle = new ArrayDeque<>();
    private final Set<Namespace> inUse = ConcurrentHashMap.newKeySet();
    private boolean closed;

    private CniNetwork(Config config, String tag, SubnetLease lease, Path resolvFile) {
        this.config = config;
        this.tag = tag;
        this.lease = lease;
        this.resolvFile = resolvFile;
        this.cni = new CniBridge(
                config.pluginDir(), "stagefarm-" + tag, bridge(tag), lease.subnet(), ipamDir(config.runDir(), tag));
    }

    /** Takes a subnet, removes what a dead worker with this tag (or the subnet's last holder) left, sets up the bridge. */
    public static CniNetwork open(Config config) throws IOException, InterruptedException {
        CniBridge.check(config.pluginDir());
        String tag = tag(config.workerKey());
        SubnetLease lease = SubnetLease.acquire(config.runDir().resolve("subnets"), tag);
        try {
            Optional<String> previous = lease.previousHolder().filter(p -> !p.equals(tag));
            if (previous.isPresent()
                    && previous.get().matches("[0-9a-f]{8}")
                    && !SubnetLease.heldElsewhere(config.runDir().resolve("subnets"), previous.get())) {
                removeLeftovers(previous.get(), config.runDir());
            }
            removeLeftovers(tag, config.runDir());
            Cidr subnet = lease.subnet();
            removeStrayBridges(subnet);
            String bridge = bridge(tag);
            Commands.run("ip", "link", "add", "name", bridge, "type", "bridge");
            // the bridge's own IPv6 link-local address would be a way to the host: no IPv6 at all
            Path v6 = Path.of("/proc/sys/net/ipv6/conf", bridge, "disable_ipv6");
            if (Files.exists(v6)) {
                Files.writeString(v6, "1");
            }
            Commands.run("ip", "addr", "add", subnet.host(1) + "/" + subnet.prefix(), "dev", bridge);
            Commands.run("ip", "link", "set", bridge, "up");
            ResolvConf resolv = ResolvConf.forSteps(config.hostResolvConf(), ResolvConf.SYSTEMD_UPSTREAM);
            Path resolvFile = config.runDir().resolve("resolv-" + tag + ".conf");
            Files.writeString(resolvFile, resolv.text());
            List<InetAddress> local = localAddresses();
            List<Inet4Address> onHost =
                    resolv.nameservers().stream().filter(local::contains).toList();
            List<Inet4Address> forwarded = resolv.nameservers().stream()
                    .filter(a -> !local.contains(a))
                    .toList();
            BridgeFirewall.install(tag, bridge, subnet, forwarded, onHost, config.refused());
            CniNetwork network = new CniNetwork(config, tag, lease, resolvFile);
            log.info(
                    "step network: bridge {} on {}, resolvers {}, refused {} and the host's own addresses,"
                            + " namespace pool {}, network=host {}",
                    bridge,
                    subnet,
                    resolv.nameservers(),
                    config.refused(),
                    config.poolSize(),
                    config.allowHost() ? "allowed" : "refused");
            return network;
        } catch (IOException | RuntimeException e) {
            lease.close();
            throw e;
        }
    }

    @Override
    public StepNetwork acquire(String mode) throws NetworkException, InterruptedException {
        switch (mode) {
            case "host" -> {
                if (!config.allowHost()) {
                    throw new NetworkException(HOST_REFUSED);
                }
                return StepNetwork.host();
            }
            case "none" -> {
                return new StepNetwork(false, Optional.empty(), Optional.of(resolvFile), () -> {});
            }
            default -> {
                Namespace ns = take();
                inUse.add(ns);
                return new StepNetwork(false, Optional.of(ns.path()), Optional.of(resolvFile), () -> release(ns));
            }
        }
    }

    private Namespace take() throws NetworkException, InterruptedException {
        synchronized (this) {
            if (closed) {
                throw new NetworkException("the worker is shutting down");
            }
            Namespace ns = idle.poll();
            if (ns != null) {
                return ns;
            }
        }
        try {
            return create();
        } catch (IOException e) {
            throw new NetworkException("could not set up the step's network namespace: " + e.getMessage(), e);
        }
    }

    private void release(Namespace ns) {
        inUse.remove(ns);
        synchronized (this) {
            if (!closed && idle.size() < config.poolSize()) {
                idle.push(ns);
                return;
            }
        }
        destroy(ns);
    }

    private Namespace create() throws IOException, InterruptedException {
        String name = "sfn-" + tag + "-" + counter.incrementAndGet();
        Path path = NETNS_DIR.resolve(name);
        Commands.run("ip", "netns", "add", name);
        try {
            Commands.run("ip", "-n", name, "link", "set", "lo", "up");
            String veth = cni.add(name, path);
            // isolated bridge ports exchange no frames with each other, only with the bridge itself;
            // set over netlink, not /sys/class/net (read-only in a container that has CAP_NET_ADMIN)
            Commands.run("ip", "link", "set", "dev", veth, "type", "bridge_slave", "isolated", "on");
            return new Namespace(name, path, veth);
        } catch (IOException | RuntimeException e) {
            destroy(new Namespace(name, path, ""));
            throw e;
        }
    }

    private void destroy(Namespace ns) {
        try {
            try {
                cni.delete(ns.name(), ns.path());
            } catch (IOException e) {
                log.warn(
                        "CNI DEL of {} failed (its address is freed when the worker restarts): {}",
                        ns.name(),
                        e.getMessage());
            }
            if (!Commands.quietly("ip", "netns", "del", ns.name())) {
                log.warn("could not delete network namespace {}", ns.name());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Deletes every namespace, the bridge, its rules and its addresses; gives the subnet back. */
    @Override
    public void close() {
        List<Namespace> all;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            all = new ArrayList<>(idle);
            idle.clear();
        }
        all.addAll(inUse);
        all.forEach(this::destroy);
        try {
            removeLeftovers(tag, config.runDir());
            lease.close();
        } catch (IOException e) {
            log.warn("could not remove the step network of {}: {}", bridge(tag), e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** For tests: what the kernel does when the worker dies (drops the lease), and nothing else. */
    void abandon() throws IOException {
        synchronized (this) {
            closed = true;
        }
        lease.close();
    }

    String tag() {
        return tag;
    }

    Cidr subnet() {
        return lease.subnet();
    }

    static String bridge(String tag) {
        return "sfbr-" + tag;
    }

    static String tag(String workerKey) {
        try {
            byte[] hash = MessageDigest.getInstance("SHA-256").digest(workerKey.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(hash, 0, 4);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Path ipamDir(Path runDir, String tag) {
        return runDir.resolve("ipam").resolve(tag);
    }

    static void removeLeftovers(String tag, Path runDir) throws IOException, InterruptedException {
        if (Files.isDirectory(NETNS_DIR)) {
            List<Path> left;
            try (Stream<Path> list = Files.list(NETNS_DIR)) {
                left = list.filter(p -> p.getFileName().toString().startsWith("sfn-" + tag + "-"))
                        .toList();
            }
            for (Path ns : left) {
                log.warn("removing network namespace {} left by a previous worker", ns.getFileName());
                Commands.quietly("ip", "netns", "del", ns.getFileName().toString());
            }
        }
        if (Files.exists(Path.of("/sys/class/net", bridge(tag)))) {
            Commands.run("ip", "link", "del", bridge(tag));
        }
        BridgeFirewall.remove(tag);
        FileTrees.deleteRecursively(ipamDir(runDir, tag));
        Files.deleteIfExists(runDir.resolve("resolv-" + tag + ".conf"));
    }

    /** A dead worker's bridge may still hold the subnet's gateway address, which would break routing. */
    private static void removeStrayBridges(Cidr subnet) throws IOException, InterruptedException {
        for (String line : Commands.run("ip", "-4", "-o", "addr", "show", "to", subnet.toString())
                .lines()
                .toList()) {
            String[] words = line.split("\\s+");
            if (words.length > 1 && words[1].startsWith("sfbr-")) {
                log.warn("removing bridge {} left on {} by a dead worker", words[1], subnet);
                Commands.quietly("ip", "link", "del", words[1]);
            }
        }
    }

    private static List<InetAddress> localAddresses() throws SocketException {
        List<InetAddress> out = new ArrayList<>();
        for (NetworkInterface itf : Collections.list(NetworkInterface.getNetworkInterfaces())) {
            out.addAll(Collections.list(itf.getInetAddresses()));
        }
        return out;
    }
}
