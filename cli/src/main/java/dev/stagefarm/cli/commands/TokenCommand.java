package dev.stagefarm.cli.commands;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.stagefarm.common.auth.Caller;
import dev.stagefarm.common.auth.Scopes;
import dev.stagefarm.common.auth.Tokens;
import dev.stagefarm.common.auth.TokensFile;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code stagefarm token new}: a fresh token and the tokens-file entry that accepts it. */
@Command(
        name = "token",
        mixinStandardHelpOptions = true,
        description = "Make tokens for a farm's --tokens file.",
        subcommands = TokenCommand.New.class)
public final class TokenCommand {

    @Command(
            name = "new",
            mixinStandardHelpOptions = true,
            description = "Print a new random token and the JSON entry to add to the servers' tokens file "
                    + "(which stores only its sha256).")
    static final class New implements Callable<Integer> {

        @Spec
        CommandSpec spec;

        @Option(
                names = "--name",
                required = true,
                description = "Who or what holds the token, for logs (unique in the file).")
        String name;

        @Option(names = "--team", required = true, description = "The team whose namespace the token works in.")
        String team;

        @Option(
                names = "--scopes",
                required = true,
                paramLabel = "read,write,admin,farm",
                description =
                        "What the token may do: read, write, admin (stats, prune), farm (coordinators and workers).")
        String scopes;

        @Override
        public Integer call() throws Exception {
            if (!TokensFile.TEAM.matcher(team).matches()) {
                throw new ParameterException(
                        spec.commandLine(),
                        "--team '" + team + "': use 1-63 lower-case letters,"
                                + " digits, '.', '_' or '-', starting with a letter or digit");
            }
            Set<Caller.Scope> parsed;
            try {
                parsed = Scopes.parseList(scopes);
            } catch (IllegalArgumentException e) {
                throw new ParameterException(spec.commandLine(), "--scopes: " + e.getMessage());
            }
            byte[] random = new byte[32];
            new SecureRandom().nextBytes(random);
            String token = "sf_" + Base64.getUrlEncoder().withoutPadding().encodeToString(random);
            ObjectMapper json = new ObjectMapper();
            ObjectNode entry = json.createObjectNode().put("name", name).put("team", team);
            parsed.stream()
                    .sorted()
                    .forEach(s -> entry.withArray("scopes").add(s.name().toLowerCase(Locale.ROOT)));
            entry.put("sha256", HexFormat.of().formatHex(Tokens.sha256(token)));
            System.out.println("token (give it to " + name + "; it is not stored anywhere):");
            System.out.println("  " + token);
            System.out.println("entry for the \"tokens\" list of the --tokens file:");
            System.out.println("  " + json.writeValueAsString(entry));
            return 0;
        }
    }
}
