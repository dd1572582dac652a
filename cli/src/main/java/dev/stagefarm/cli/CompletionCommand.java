package dev.stagefarm.cli;

import java.util.concurrent.Callable;
import picocli.AutoComplete;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code stagefarm completion bash}: picocli's completion script for every subcommand and option,
 * generated from the same command model the launcher parses with. zsh runs it too, after
 * {@code autoload -U +X bashcompinit && bashcompinit}.
 */
@Command(
        name = "completion",
        mixinStandardHelpOptions = true,
        description = {
            "Print a shell completion script. Load it now with  source <(stagefarm completion bash)",
            "or keep it: stagefarm completion bash > /etc/bash_completion.d/stagefarm",
            "(zsh: autoload -U +X bashcompinit && bashcompinit first)."
        })
public final class CompletionCommand implements Callable<Integer> {

    @Parameters(paramLabel = "SHELL", description = "bash (zsh with bashcompinit uses the same script).")
    String shell;

    @Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        if (!shell.equals("bash") && !shell.equals("zsh")) {
            spec.commandLine().getErr().println("error: completion " + shell + ": supported shells are bash and zsh");
            return 1;
        }
        // every subcommand: a run of this command alone was built with only this one
        spec.commandLine().getOut().print(AutoComplete.bash("stagefarm", Main.commandLine(new String[0])));
        spec.commandLine().getOut().flush();
        return 0;
    }
}
