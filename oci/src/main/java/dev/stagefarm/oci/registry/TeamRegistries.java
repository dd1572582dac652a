package dev.stagefarm.oci.registry;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The registry client each team's builds pull through: with the team's own registry credentials
 * (a Docker {@code config.json} per team, held by the farm) over the farm's own, so a team's
 * private base images are pulled with that team's credentials and never with another's, while
 * public images and the farm's own registries work for everyone. A team without a file of its
 * own uses the farm's client.
 */
public final class TeamRegistries implements AutoCloseable {

    /** {@code <team>.json}: team names as the tokens file allows them. */
    private static final Pattern FILE = Pattern.compile("([a-z0-9][a-z0-9._-]{0,62})\\.json");

    private final RegistryClient farm;
    private final Map<String, RegistryClient> byTeam;

    private TeamRegistries(RegistryClient farm, Map<String, RegistryClient> byTeam) {
        this.farm = farm;
        this.byTeam = Map.copyOf(byTeam);
    }

    /** Every team pulls with the farm's credentials. */
    public static TeamRegistries farmOnly(RegistryClient farm) {
        return new TeamRegistries(farm, Map.of());
    }

    /**
     * Reads {@code dir/<team>.json} for each team (Docker's config.json format, {@code auths}),
     * once, at start: a file that does not parse stops the server with its name.
     *
     * @param farmCredentials the farm's own, used for hosts a team's file does not name
     */
    public static TeamRegistries fromDirectory(
            Path dir, RegistryConfig config, CredentialStore farmCredentials, RegistryClient farm) throws IOException {
        if (!Files.isDirectory(dir)) {
            throw new IOException("--team-registry-auth " + dir
                    + " is not a directory: give a directory holding one Docker config.json per team, named TEAM.json");
        }
        Map<String, RegistryClient> byTeam = new HashMap<>();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path file : files.sorted().toList()) {
                var m = FILE.matcher(file.getFileName().toString());
                if (m.matches()) {
                    CredentialStore own = CredentialStore.fromDockerConfig(file);
                    byTeam.put(m.group(1), new RegistryClient(config, own.withFallback(farmCredentials)));
                }
            }
        }
        return new TeamRegistries(farm, byTeam);
    }

    /** The client for {@code team}'s pulls; the farm's for a team without credentials of its own. */
    public RegistryClient forTeam(String team) {
        return byTeam.getOrDefault(team == null ? "" : team, farm);
    }

    /**
     * What to tell a team whose pull {@code host} refused for want of credentials: on a farm the
     * operator holds them (the user's own {@code docker login} plays no part), so the sentence says
     * who can add or fix them. Empty on a farm without teams, where the farm's own advice stands.
     */
    public Optional<String> credentialsHint(String team, String host) {
        if (team == null || team.isEmpty()) {
            return Optional.empty();
        }
        if (byTeam.containsKey(team)) {
            return Optional.of(host + " does not accept the registry credentials this farm holds for team " + team
                    + " (" + team + ".json in --team-registry-auth): ask the farm's operator to renew them");
        }
        return Optional.of("this farm holds no registry credentials for team " + team + " on " + host
                + ": ask the farm's operator to add them as " + team
                + ".json in the --team-registry-auth directory of the coordinator and the workers");
    }

    /** The teams with credentials of their own, for the start-up log. */
    public java.util.Set<String> teams() {
        return new java.util.TreeSet<>(byTeam.keySet());
    }

    /** Closes the teams' clients; the farm's belongs to the caller. */
    @Override
    public void close() {
        byTeam.values().forEach(RegistryClient::close);
    }
}
