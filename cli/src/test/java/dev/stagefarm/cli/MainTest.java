package dev.stagefarm.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class MainTest {

    @Test
    void aNamedSubcommandIsTheOnlyOneBuilt() {
        assertThat(Main.commandLine(new String[] {"build", "--help"}).getSubcommands())
                .containsOnlyKeys("build");
        assertThat(Main.commandLine(new String[] {"farm", "status"}).getSubcommands())
                .containsOnlyKeys("farm");
    }

    @Test
    void topLevelHelpListsEveryCommand() {
        StringWriter out = new StringWriter();
        CommandLine cli = Main.commandLine(new String[] {"--help"});
        cli.setOut(new PrintWriter(out));
        assertThat(cli.execute("--help")).isZero();
        assertThat(out.toString())
                .contains("build", "cache", "cache-server", "coordinator", "farm", "token", "worker", "workers");
    }

    @Test
    void aMistypedCommandStillGetsASuggestion() {
        StringWriter err = new StringWriter();
        CommandLine cli = Main.commandLine(new String[] {"biuld"});
        cli.setErr(new PrintWriter(err));
        assertThat(cli.execute("biuld")).isNotZero();
        assertThat(err.toString()).contains("Did you mean", "build");
    }

    @Test
    void completionCoversEverySubcommandAndOption() {
        StringWriter out = new StringWriter();
        CommandLine cli = Main.commandLine(new String[] {"completion", "bash"});
        cli.setOut(new PrintWriter(out));
        assertThat(cli.execute("completion", "bash")).isZero();
        assertThat(out.toString())
                .startsWith("#!/usr/bin/env bash")
                .contains("complete -F _complete_stagefarm", "--build-context", "--iidfile", "cache-server", "show");
    }
}
