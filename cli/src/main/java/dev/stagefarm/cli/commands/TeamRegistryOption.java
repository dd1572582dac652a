package dev.stagefarm.cli.commands;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/** {@code --team-registry-auth DIR}: the registry credentials the farm holds for each team. */
public final class TeamRegistryOption {

    @Option(
            names = "--team-registry-auth",
            paramLabel = "DIR",
            description = "A directory of Docker config.json files, one per team (TEAM.json, \"auths\" as docker login"
                    + " writes them): a team's builds pull base images with its own credentials over the farm's,"
                    + " never with another team's. Give coordinator and workers the same directory.")
    Path dir;

    /** The directory, or null when the flag is not given. */
    public Path dir() {
        return dir;
    }
}
