package dev.stagefarm.coordinator.plan;

import com.google.protobuf.ByteString;
import dev.stagefarm.dockerfile.Heredoc;
import dev.stagefarm.dockerfile.Instruction;
import dev.stagefarm.proto.farm.InlineFile;
import dev.stagefarm.proto.farm.RunMount;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** How BuildKit runs heredocs in RUN, and which heredoc a COPY source word names. */
final class Heredocs {

    /** Where a shebang heredoc's script is mounted, as in BuildKit. */
    static final String SCRIPT_DIR = "/dev/pipes/";

    private static final Pattern WORD = Pattern.compile("<<-?([\"']?)([^\"']+)\\1");

    private Heredocs() {}

    /** A RUN's argv, and the script mount when the heredoc runs as its own program. */
    record Run(List<String> argv, Optional<RunMount> script) {}

    /**
     * A lone {@code <<EOF} runs its body, through the shell, or as a program of its own when it
     * starts with {@code #!}; anything else goes to the shell with the bodies put back, and the
     * shell reads them as here-documents (quoting and expansion are then the shell's).
     */
    static Run run(Instruction.Run r, List<String> shell) {
        Heredoc first = r.heredocs().getFirst();
        Matcher word = WORD.matcher(r.command().strip());
        boolean lone =
                r.heredocs().size() == 1 && word.matches() && word.group(2).equals(first.name());
        if (!lone) {
            StringBuilder full = new StringBuilder(r.command());
            for (Heredoc h : r.heredocs()) {
                full.append('\n').append(h.content()).append(h.name());
            }
            return new Run(withShell(shell, full.toString()), Optional.empty());
        }
        if (first.content().startsWith("#!")) {
            String script = SCRIPT_DIR + first.name();
            return new Run(
                    List.of(script),
                    Optional.of(RunMount.newBuilder()
                            .setTarget(script)
                            .setFile(InlineFile.newBuilder()
                                    .setMode(0755)
                                    .setContent(ByteString.copyFromUtf8(first.content())))
                            .build()));
        }
        return new Run(withShell(shell, first.content()), Optional.empty());
    }

    /** The heredoc a COPY source word such as {@code <<EOF} or {@code <<"EOF"} names. */
    static Optional<Heredoc> named(String word, List<Heredoc> heredocs) {
        Matcher m = WORD.matcher(word);
        if (!m.matches()) {
            return Optional.empty();
        }
        return heredocs.stream().filter(h -> h.name().equals(m.group(2))).findFirst();
    }

    /** The first line of a heredoc, shortened, as progress shows it. */
    static String summary(String body) {
        String[] lines = body.strip().split("\n", -1);
        String first = lines[0].length() > 40 ? lines[0].substring(0, 40) + "..." : lines[0];
        return lines.length > 1 ? first + " ..." : first;
    }

    private static List<String> withShell(List<String> shell, String command) {
        List<String> argv = new ArrayList<>(shell);
        argv.add(command);
        return argv;
    }
}
