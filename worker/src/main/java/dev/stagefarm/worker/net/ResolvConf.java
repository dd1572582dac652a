package dev.stagefarm.worker.net;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The resolv.conf a step gets: the host's, minus what a step's namespace cannot reach. A loopback
 * resolver (systemd-resolved's 127.0.0.53, a local dnsmasq) lives in the host's namespace, so it
 * is replaced by systemd-resolved's upstream servers when there are any, else by public ones, as
 * BuildKit does. IPv6 servers are dropped: steps have no IPv6.
 */
record ResolvConf(String text, List<Inet4Address> nameservers) {

    static final Path SYSTEMD_UPSTREAM = Path.of("/run/systemd/resolve/resolv.conf");
    static final List<String> PUBLIC_FALLBACK = List.of("8.8.8.8", "8.8.4.4");

    static ResolvConf forSteps(Path hostFile, Path upstreamFile) throws IOException {
        List<String> lines = Files.isReadable(hostFile) ? Files.readAllLines(hostFile) : List.of();
        List<String> kept = new ArrayList<>();
        List<Inet4Address> servers = new ArrayList<>();
        for (String line : lines) {
            String[] words = line.strip().split("\\s+");
            if (words.length >= 2 && words[0].equals("nameserver")) {
                reachable(words[1]).ifPresent(servers::add);
            } else if (!line.isBlank() && !line.startsWith("#")) {
                kept.add(line.strip());
            }
        }
        if (servers.isEmpty() && Files.isReadable(upstreamFile) && !upstreamFile.equals(hostFile)) {
            servers.addAll(forSteps(upstreamFile, upstreamFile).nameservers().stream()
                    .filter(a -> !PUBLIC_FALLBACK.contains(a.getHostAddress()))
                    .toList());
        }
        if (servers.isEmpty()) {
            for (String s : PUBLIC_FALLBACK) {
                servers.add((Inet4Address) InetAddress.ofLiteral(s));
            }
        }
        StringBuilder text = new StringBuilder();
        servers.forEach(
                s -> text.append("nameserver ").append(s.getHostAddress()).append('\n'));
        kept.forEach(l -> text.append(l).append('\n'));
        return new ResolvConf(text.toString(), List.copyOf(servers));
    }

    private static Optional<Inet4Address> reachable(String literal) {
        try {
            InetAddress a = InetAddress.ofLiteral(literal.replaceFirst("%.*$", ""));
            if (a instanceof Inet4Address a4 && !a4.isLoopbackAddress() && !a4.isAnyLocalAddress()) {
                return Optional.of(a4);
            }
        } catch (IllegalArgumentException e) {
            // not an address: the resolver would ignore the line too
        }
        return Optional.empty();
    }
}
