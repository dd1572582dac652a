package dev.stagefarm.worker.net;

import java.io.IOException;
import java.net.Inet4Address;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The iptables rules that keep a worker's steps to the outside world: chains of their own
 * ({@code SF-<tag>-*}) reached by one jump each from INPUT, FORWARD and POSTROUTING, applied and
 * removed in one {@code iptables-restore} each, so that a worker's rules are found and removed by
 * name after a crash.
 *
 * <p>A step's packet to any of the host's own addresses (every interface, and the bridge's
 * gateway) arrives through INPUT and is rejected there, except DNS to a resolver on the host.
 * Forwarded packets are rejected towards the steps' address pool (other steps, here and in other
 * workers), link-local (cloud metadata), loopback, and the operator's and the farm's ranges;
 * everything else leaves through one MASQUERADE rule for the worker's whole subnet (not one per
 * step, as the bridge plugin's {@code ipMasq} would add: that costs several iptables runs per
 * step). Nothing outside may open a connection to a step. IPv6 from the bridge is dropped.
 */
final class BridgeFirewall {

    private static final List<Cidr> ALWAYS_REFUSED =
            List.of(SubnetLease.POOL, Cidr.parse("169.254.0.0/16"), Cidr.parse("127.0.0.0/8"));

    private BridgeFirewall() {}

    static void install(
            String tag,
            String bridge,
            Cidr subnet,
            List<Inet4Address> forwardedResolvers,
            List<Inet4Address> hostResolvers,
            List<Cidr> refused)
            throws IOException, InterruptedException {
        remove(tag);
        String in = chain(tag, "I");
        String fwd = chain(tag, "F");
        String nat = chain(tag, "N");
        List<String> filter = new ArrayList<>(List.of(
                "*filter",
                ":" + in + " - [0:0]",
                ":" + fwd + " - [0:0]",
                "-I INPUT 1 -i " + bridge + " -j " + in,
                "-I FORWARD 1 -i " + bridge + " -j " + fwd,
                "-I FORWARD 1 -o " + bridge + " -j " + fwd));
        for (Inet4Address r : hostResolvers) {
            filter.addAll(dns(in, r));
        }
        // replies to connections the host opened (none of the worker's own; an operator's ping)
        filter.add("-A " + in + " -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT");
        filter.add("-A " + in + " -j REJECT");
        for (Inet4Address r : forwardedResolvers) {
            filter.addAll(dns(fwd, r).stream()
                    .map(rule -> rule.replace("-A " + fwd + " ", "-A " + fwd + " -i " + bridge + " "))
                    .toList());
        }
        List<Cidr> denied = new ArrayList<>(ALWAYS_REFUSED);
        denied.addAll(refused);
        for (Cidr c : denied) {
            filter.add("-A " + fwd + " -i " + bridge + " -d " + c + " -j REJECT");
        }
        filter.add("-A " + fwd + " -i " + bridge + " -j ACCEPT");
        filter.add("-A " + fwd + " -o " + bridge + " -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT");
        filter.add("-A " + fwd + " -o " + bridge + " -j REJECT");
        filter.add("COMMIT");
        List<String> natRules = List.of(
                "*nat",
                ":" + nat + " - [0:0]",
                "-I POSTROUTING 1 -s " + subnet + " -j " + nat,
                "-A " + nat + " -d " + subnet + " -j RETURN",
                "-A " + nat + " -j MASQUERADE",
                "COMMIT");
        List<String> all = new ArrayList<>(filter);
        all.addAll(natRules);
        restore("iptables-restore", all);
        restore(
                "ip6tables-restore",
                List.of(
                        "*filter",
                        ":" + in + " - [0:0]",
                        "-I INPUT 1 -i " + bridge + " -j " + in,
                        "-I FORWARD 1 -i " + bridge + " -j " + in,
                        "-A " + in + " -j DROP",
                        "COMMIT"));
    }

    /** Removes every rule and chain of {@code tag}, however many times they were added. */
    static void remove(String tag) throws IOException, InterruptedException {
        String prefix = "SF-" + tag + "-";
        for (String tool : List.of("iptables", "ip6tables")) {
            List<String> script = new ArrayList<>();
            for (String table : tool.equals("iptables") ? List.of("filter", "nat") : List.of("filter")) {
                List<String> rules =
                        Commands.run(tool, "-w", "-t", table, "-S").lines().toList();
                List<String> deletes = new ArrayList<>();
                List<String> chains = new ArrayList<>();
                for (String rule : rules) {
                    if (rule.startsWith("-N " + prefix)) {
                        chains.add(rule.substring(3).strip());
                    } else if (rule.startsWith("-A ") && rule.contains("-j " + prefix)) {
                        deletes.add("-D " + rule.substring(3));
                    }
                }
                if (deletes.isEmpty() && chains.isEmpty()) {
                    continue;
                }
                script.add("*" + table);
                script.addAll(deletes);
                chains.forEach(c -> script.add("-F " + c));
                chains.forEach(c -> script.add("-X " + c));
                script.add("COMMIT");
            }
            if (!script.isEmpty()) {
                restore(tool + "-restore", script);
            }
        }
    }

    private static List<String> dns(String chain, Inet4Address resolver) {
        String r = resolver.getHostAddress();
        return List.of(
                "-A " + chain + " -d " + r + "/32 -p udp --dport 53 -j ACCEPT",
                "-A " + chain + " -d " + r + "/32 -p tcp --dport 53 -j ACCEPT");
    }

    static String chain(String tag, String which) {
        return "SF-" + tag + "-" + which;
    }

    private static void restore(String tool, List<String> lines) throws IOException, InterruptedException {
        Commands.run(List.of(tool, "-w", "--noflush"), Map.of(), String.join("\n", lines) + "\n");
    }
}
