package dev.stagefarm.cli.build;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code --ssh default|ID[=SOCKET|KEY[,KEY...]]}, as buildx spells it: the agent socket or the
 * private keys a {@code RUN --mount=type=ssh,id=ID} may use. Without a path, the agent of
 * {@code $SSH_AUTH_SOCK}.
 *
 * @param id    the id RUN mounts ask for
 * @param paths an agent's socket, or key files to load into a private agent
 */
public record SshSpec(String id, List<Path> paths) {

    public SshSpec {
        paths = List.copyOf(paths);
    }

    /** Parses every {@code --ssh} value; an id given twice is an error. */
    public static List<SshSpec> parseAll(List<String> specs, Map<String, String> environment) {
        Map<String, SshSpec> byId = new LinkedHashMap<>();
        for (String spec : specs) {
            SshSpec parsed = parse(spec, environment);
            if (byId.put(parsed.id(), parsed) != null) {
                throw new IllegalArgumentException("--ssh " + spec + ": id " + parsed.id() + " is given twice");
            }
        }
        return List.copyOf(byId.values());
    }

    static SshSpec parse(String spec, Map<String, String> environment) {
        int eq = spec.indexOf('=');
        String id = eq < 0 ? spec : spec.substring(0, eq);
        if (id.isEmpty() || !id.matches("[A-Za-z0-9_.-]+")) {
            throw new IllegalArgumentException("--ssh " + spec + ": expected default or ID[=SOCKET|KEY[,KEY...]]");
        }
        List<Path> paths = new ArrayList<>();
        if (eq >= 0) {
            for (String p : spec.substring(eq + 1).split(",")) {
                if (!p.isEmpty()) {
                    paths.add(Path.of(p));
                }
            }
        }
        if (paths.isEmpty()) {
            String sock = environment.get("SSH_AUTH_SOCK");
            if (sock == null || sock.isEmpty()) {
                throw new IllegalArgumentException("--ssh " + spec + ": SSH_AUTH_SOCK is not set; start an agent "
                        + "(eval $(ssh-agent) && ssh-add) or name a socket or key: --ssh " + id + "=PATH");
            }
            paths.add(Path.of(sock));
        }
        return new SshSpec(id, paths);
    }
}
