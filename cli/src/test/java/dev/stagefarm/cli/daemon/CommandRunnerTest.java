package dev.stagefarm.cli.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CommandRunnerTest {

    private static final Path CALLER = Path.of("/home/user/project");

    @Test
    void everySpellingOfOutputGetsItsDestinationResolvedAgainstTheCallersDirectory() {
        String[] args = CommandRunner.absoluteOutputs(
                new String[] {
                    "build",
                    "-o",
                    "type=docker,dest=a.tar",
                    "--output",
                    "type=oci, dest=out/b.tar",
                    "--output=type=docker,dest=/abs/c.tar",
                    "-otype=docker,dest=d.tar",
                    "-o=type=docker,dest=../e.tar",
                    "-t",
                    "dest=not-an-output",
                    "."
                },
                CALLER);
        assertThat(args)
                .containsExactly(
                        "build",
                        "-o",
                        "type=docker,dest=/home/user/project/a.tar",
                        "--output",
                        "type=oci,dest=/home/user/project/out/b.tar",
                        "--output=type=docker,dest=/abs/c.tar",
                        "-otype=docker,dest=/home/user/project/d.tar",
                        "-o=type=docker,dest=/home/user/project/../e.tar",
                        "-t",
                        "dest=not-an-output",
                        ".");
    }

    @Test
    void whatReadsTheCallersFilesOrHoldsAFarmRunsInAJvmOfItsOwn() throws Exception {
        CommandRunner runner = new CommandRunner();
        assertThat(runner.run("/", new String[] {"build", "--data", "/d", "."}, Map.of()))
                .isEmpty();
        assertThat(runner.run("/", new String[] {"build", "--secret=id=a,src=f", "."}, Map.of()))
                .isEmpty();
        assertThat(runner.run("/", new String[] {"build", "--ssh", "default", "."}, Map.of()))
                .isEmpty();
        assertThat(runner.run("/", new String[] {"workers"}, Map.of())).isEmpty();
        // the caller's DOCKER_HOST
        assertThat(runner.run("/", new String[] {"build", "--load", "."}, Map.of()))
                .isEmpty();
        assertThat(runner.run("/", new String[] {"build", "-o", "type=docker", "."}, Map.of()))
                .isEmpty();
    }

    @Test
    void aBuildContextDirectoryIsTheCallersAndAnImageContextStaysAsItIs() {
        String[] args = CommandRunner.absoluteOutputs(
                new String[] {
                    "build",
                    "--build-context",
                    "assets=../shared",
                    "--build-context=base=docker-image://alpine:3",
                    "--build-context=abs=/srv/x",
                    "."
                },
                CALLER);
        assertThat(args)
                .containsExactly(
                        "build",
                        "--build-context",
                        "assets=/home/user/project/../shared",
                        "--build-context=base=docker-image://alpine:3",
                        "--build-context=abs=/srv/x",
                        ".");
    }
}
