package dev.stagefarm.worker.net;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Debian's CNI {@code bridge} plugin with {@code host-local} addresses: puts a veth pair between a
 * namespace and the worker's bridge, gives it an address of the worker's subnet and a default
 * route through the bridge.
 */
final class CniBridge {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path pluginDir;
    private final String config;
    private final String bridge;

    CniBridge(Path pluginDir, String networkName, String bridge, Cidr subnet, Path ipamDir) {
        this.pluginDir = pluginDir;
        this.bridge = bridge;
        ObjectNode conf = JSON.createObjectNode()
                .put("cniVersion", "1.0.0")
                .put("name", networkName)
                .put("type", "bridge")
                .put("bridge", bridge)
                .put("isGateway", true)
                .put("ipMasq", false) // one MASQUERADE rule per worker instead: see BridgeFirewall
                .put("hairpinMode", false);
        ObjectNode ipam = conf.putObject("ipam").put("type", "host-local").put("dataDir", ipamDir.toString());
        ipam.putArray("ranges").addArray().addObject().put("subnet", subnet.toString());
        ipam.putArray("routes").addObject().put("dst", "0.0.0.0/0");
        this.config = conf.toString();
    }

    /** Checks that the plugins are there, with a sentence that says what to install. */
    static void check(Path pluginDir) throws IOException {
        for (String plugin : List.of("bridge", "host-local")) {
            if (!Files.isExecutable(pluginDir.resolve(plugin))) {
                throw new IOException("the CNI plugin " + plugin + " is missing from " + pluginDir
                        + ": install Debian's containernetworking-plugins package (or pass --cni-plugins DIR)");
            }
        }
    }

    /** Connects {@code netns} to the bridge; returns the host end of its veth pair. */
    String add(String id, Path netns) throws IOException, InterruptedException {
        JsonNode result = JSON.readTree(invoke("ADD", id, netns));
        for (JsonNode itf : result.path("interfaces")) {
            String name = itf.path("name").asText();
            if (!itf.has("sandbox") && !name.equals(bridge)) {
                return name;
            }
        }
        throw new IOException("the CNI bridge plugin named no host-side veth for " + netns + ": " + result);
    }

    /** Gives the namespace's address back and deletes its veth pair. */
    void delete(String id, Path netns) throws IOException, InterruptedException {
        invoke("DEL", id, netns);
    }

    private String invoke(String command, String id, Path netns) throws IOException, InterruptedException {
        Map<String, String> env = Map.of(
                "CNI_COMMAND",
                command,
                "CNI_CONTAINERID",
                id,
                "CNI_NETNS",
                netns.toString(),
                "CNI_IFNAME",
                "eth0",
                "CNI_PATH",
                pluginDir.toString());
        return Commands.run(List.of(pluginDir.resolve("bridge").toString()), env, config);
    }
}
