package dev.stagefarm.worker.exec;

import java.util.List;
import java.util.Set;

/**
 * One process to run in a container.
 *
 * @param args argv; argv[0] is looked up in the container's PATH
 * @param env {@code KEY=value} entries; PATH and HOME get defaults when absent
 * @param cwd absolute working directory, created (owned by the user) when missing; "" means "/"
 * @param user "" (root), name, uid, uid:gid or name:group, resolved in the rootfs's /etc files
 * @param network "default" or "host" (the host's network), or "none" (loopback only)
 * @param mounts extra mounts for this process only (RUN --mount); their targets never reach the layer
 */
public record ProcessSpec(
        List<String> args, List<String> env, String cwd, String user, String network, List<ExtraMount> mounts) {

    /**
     * One extra mount. {@code type} "bind" takes a host path as {@code source}; "tmpfs" none.
     * {@code options} are the runtime's ("ro", "size=65536k", ...).
     */
    public record ExtraMount(String destination, String type, String source, List<String> options) {
        public ExtraMount {
            options = List.copyOf(options);
            if (!destination.startsWith("/")) {
                throw new IllegalArgumentException("mount target must be absolute: " + destination);
            }
        }
    }

    public static final String NETWORK_DEFAULT = "default";
    public static final String NETWORK_NONE = "none";
    public static final String NETWORK_HOST = "host";
    private static final Set<String> NETWORKS = Set.of(NETWORK_DEFAULT, NETWORK_NONE, NETWORK_HOST);

    public ProcessSpec(List<String> args, List<String> env, String cwd, String user, String network) {
        this(args, env, cwd, user, network, List.of());
    }

    public ProcessSpec {
        mounts = mounts == null ? List.of() : List.copyOf(mounts);
        args = List.copyOf(args);
        env = env == null ? List.of() : List.copyOf(env);
        cwd = cwd == null || cwd.isEmpty() ? "/" : cwd;
        user = user == null ? "" : user;
        network = network == null || network.isEmpty() ? NETWORK_DEFAULT : network;
        if (args.isEmpty() || args.getFirst().isEmpty()) {
            throw new IllegalArgumentException("a process needs at least argv[0]");
        }
        if (!cwd.startsWith("/")) {
            throw new IllegalArgumentException("working directory must be absolute: " + cwd);
        }
        if (!NETWORKS.contains(network)) {
            throw new IllegalArgumentException("network must be one of " + NETWORKS + ", not " + network);
        }
        for (String e : env) {
            if (e.indexOf('=') <= 0) {
                throw new IllegalArgumentException("environment entry is not KEY=value: " + e);
            }
        }
    }

    /** Runs {@code args} as root in "/" with an empty environment and the default network. */
    public static ProcessSpec of(String... args) {
        return new ProcessSpec(List.of(args), List.of(), "/", "", NETWORK_DEFAULT);
    }

    public ProcessSpec withUser(String newUser) {
        return new ProcessSpec(args, env, cwd, newUser, network, mounts);
    }

    public ProcessSpec withEnv(List<String> newEnv) {
        return new ProcessSpec(args, newEnv, cwd, user, network, mounts);
    }

    public ProcessSpec withCwd(String newCwd) {
        return new ProcessSpec(args, env, newCwd, user, network, mounts);
    }

    public ProcessSpec withMounts(List<ExtraMount> newMounts) {
        return new ProcessSpec(args, env, cwd, user, network, newMounts);
    }

    public ProcessSpec withNetwork(String newNetwork) {
        return new ProcessSpec(args, env, cwd, user, newNetwork, mounts);
    }
}
