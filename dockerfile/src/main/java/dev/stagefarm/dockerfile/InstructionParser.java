package dev.stagefarm.dockerfile;

import dev.stagefarm.common.GoDuration;
import dev.stagefarm.dockerfile.Flags.Kind;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Parses one logical line into an {@link Instruction}; one instance per line. */
final class InstructionParser {

    private static final Pattern HEREDOC = Pattern.compile("<<(-?)([\"']?)([A-Za-z0-9_][A-Za-z0-9_.-]*)\\2");
    private static final Map<String, Kind> NO_FLAGS = Map.of();
    private static final Map<String, Kind> FROM_FLAGS = Map.of("platform", Kind.STRING);
    private static final Map<String, Kind> RUN_FLAGS =
            Map.of("mount", Kind.REPEATED, "network", Kind.STRING, "security", Kind.STRING);
    private static final Map<String, Kind> COPY_FLAGS = Map.of(
            "from",
            Kind.STRING,
            "chown",
            Kind.STRING,
            "chmod",
            Kind.STRING,
            "link",
            Kind.BOOL,
            "exclude",
            Kind.REPEATED,
            "parents",
            Kind.BOOL);
    private static final Map<String, Kind> ADD_FLAGS = Map.of(
            "chown",
            Kind.STRING,
            "chmod",
            Kind.STRING,
            "link",
            Kind.BOOL,
            "exclude",
            Kind.REPEATED,
            "checksum",
            Kind.STRING,
            "keep-git-dir",
            Kind.BOOL);
    private static final Map<String, Kind> HEALTHCHECK_FLAGS = Map.of(
            "interval",
            Kind.STRING,
            "timeout",
            Kind.STRING,
            "start-period",
            Kind.STRING,
            "start-interval",
            Kind.STRING,
            "retries",
            Kind.STRING);

    private final String fileName;
    private final int line;
    private final String keyword;
    private final char escape;
    /** Where heredoc bodies come from; null for ONBUILD triggers, which cannot have them. */
    private final LineReader reader;

    private String original;

    private InstructionParser(
            String fileName, int line, String keyword, String original, char escape, LineReader reader) {
        this.fileName = fileName;
        this.line = line;
        this.keyword = keyword;
        this.original = original;
        this.escape = escape;
        this.reader = reader;
    }

    /** Parses {@code text} ("KEYWORD args...") that starts on {@code line}. */
    static Instruction parse(String fileName, int line, String text, char escape, LineReader reader)
            throws DockerfileException {
        String[] parts = text.split("\\s+", 2);
        String written = parts[0];
        String keyword = written.toUpperCase(Locale.ROOT);
        String args = parts.length > 1 ? parts[1] : "";
        if (!Keywords.ALL.contains(keyword)) {
            throw new DockerfileException(
                    fileName,
                    line,
                    Optional.empty(),
                    "unknown instruction: " + written
                            + Keywords.suggest(keyword)
                                    .map(s -> " (did you mean " + s + "?)")
                                    .orElse(""));
        }
        return new InstructionParser(fileName, line, keyword, text, escape, reader).parse(args);
    }

    private Instruction parse(String args) throws DockerfileException {
        return switch (keyword) {
            case "FROM" -> from(args);
            case "ARG" -> arg(args);
            case "ENV" -> new Instruction.Env(line, original, nameValues(noFlags(args)));
            case "LABEL" -> new Instruction.Label(line, original, nameValues(noFlags(args)));
            case "WORKDIR" -> new Instruction.Workdir(line, original, single(noFlags(args)));
            case "USER" -> new Instruction.User(line, original, single(noFlags(args)));
            case "STOPSIGNAL" -> new Instruction.StopSignal(line, original, single(noFlags(args)));
            case "MAINTAINER" -> new Instruction.Maintainer(line, original, single(noFlags(args)));
            case "COPY" -> copy(args, false);
            case "ADD" -> copy(args, true);
            case "RUN" -> run(args);
            case "CMD" -> {
                Command c = command(noFlags(args), true);
                yield new Instruction.Cmd(line, original, c.exec, c.args, c.shell);
            }
            case "ENTRYPOINT" -> {
                Command c = command(noFlags(args), true);
                yield new Instruction.Entrypoint(line, original, c.exec, c.args, c.shell);
            }
            case "EXPOSE" -> new Instruction.Expose(line, original, atLeastOne(Words.split(noFlags(args), escape)));
            case "SHELL" -> shell(noFlags(args));
            case "VOLUME" -> volume(noFlags(args));
            case "HEALTHCHECK" -> healthcheck(args);
            case "ONBUILD" -> onbuild(args);
            default -> throw new AssertionError("keyword list and parser disagree: " + keyword);
        };
    }

    private Instruction from(String args) throws DockerfileException {
        Flags flags = flags(args, FROM_FLAGS);
        List<String> words = Words.splitWhitespace(flags.rest());
        if (words.size() != 1 && words.size() != 3) {
            throw error("requires either one or three arguments: FROM [--platform=<p>] <image> [AS <name>]");
        }
        Optional<String> name = Optional.empty();
        if (words.size() == 3) {
            if (!words.get(1).equalsIgnoreCase("AS")) {
                throw error(
                        "expected \"AS <name>\" after the image, got \"" + words.get(1) + " " + words.get(2) + "\"");
            }
            name = Optional.of(words.get(2).toLowerCase(Locale.ROOT));
        }
        return new Instruction.From(line, original, words.get(0), flags.string("platform"), name);
    }

    private Instruction arg(String args) throws DockerfileException {
        List<ArgDef> defs = new ArrayList<>();
        for (String word : atLeastOne(Words.split(noFlags(args), escape))) {
            int eq = word.indexOf('=');
            String name = eq < 0 ? word : word.substring(0, eq);
            if (name.isEmpty()) {
                throw error("ARG names can not be blank: \"" + word + "\"");
            }
            defs.add(new ArgDef(name, eq < 0 ? Optional.empty() : Optional.of(word.substring(eq + 1))));
        }
        return new Instruction.Arg(line, original, defs);
    }

    /** ENV and LABEL: {@code k=v k2="v 2"}, or the legacy {@code k rest of the line}. */
    private List<KeyValue> nameValues(String args) throws DockerfileException {
        List<String> words = atLeastOne(Words.split(args, escape));
        if (words.get(0).indexOf('=') < 0) {
            String[] legacy = args.split("\\s+", 2);
            if (legacy.length < 2 || legacy[1].isBlank()) {
                throw error("needs a value: write " + keyword + " " + legacy[0] + "=<value>");
            }
            return List.of(new KeyValue(legacy[0], legacy[1].strip()));
        }
        List<KeyValue> pairs = new ArrayList<>();
        for (String word : words) {
            int eq = word.indexOf('=');
            if (eq < 0) {
                throw error("syntax error - can't find = in \"" + word + "\". Must be of the form: name=value");
            }
            if (eq == 0) {
                throw error(keyword + " names can not be blank: \"" + word + "\"");
            }
            pairs.add(new KeyValue(word.substring(0, eq), word.substring(eq + 1)));
        }
        return pairs;
    }

    private Instruction copy(String args, boolean add) throws DockerfileException {
        Flags flags = flags(args, add ? ADD_FLAGS : COPY_FLAGS);
        Optional<List<String>> json = Words.jsonArray(flags.rest());
        List<String> words = json.orElseGet(() -> Words.split(flags.rest(), escape));
        List<Heredoc> heredocs = json.isPresent() ? List.of() : heredocs(words);
        if (words.isEmpty()) {
            throw error("requires at least two arguments: " + keyword + " <source>... <destination>");
        }
        if (words.size() == 1) {
            throw error(
                    "requires at least two arguments, but only one was provided. Destination could not be determined");
        }
        return new Instruction.Copy(
                line,
                original,
                add,
                words.subList(0, words.size() - 1),
                words.getLast(),
                flags.string("from"),
                flags.string("chown"),
                flags.string("chmod"),
                flags.bool("link"),
                flags.repeated("exclude"),
                flags.bool("parents"),
                flags.string("checksum"),
                heredocs,
                flags.bool("keep-git-dir"));
    }

    private Instruction run(String args) throws DockerfileException {
        Flags flags = flags(args, RUN_FLAGS);
        Command c = command(flags.rest(), false);
        List<Heredoc> heredocs = c.exec ? List.of() : heredocs(Words.split(c.shell, escape));
        List<RunMount> mounts = new ArrayList<>();
        for (String raw : flags.repeated("mount")) {
            try {
                mounts.add(RunMount.parse(raw));
            } catch (InvalidValueException e) {
                throw error(e.getMessage());
            }
        }
        Optional<String> network = flags.string("network");
        if (network.isPresent()
                && !network.get().contains("$")
                && !List.of("default", "none", "host").contains(network.get())) {
            throw error("unsupported --network=" + network.get() + " (use default, none or host)");
        }
        Optional<String> security = flags.string("security");
        if (security.isPresent() && !List.of("insecure", "sandbox").contains(security.get())) {
            throw error("unsupported --security=" + security.get() + " (use insecure or sandbox)");
        }
        return new Instruction.Run(line, original, c.exec, c.args, c.shell, network, mounts, heredocs, security);
    }

    private record Command(boolean exec, List<String> args, String shell) {}

    /** Exec form when the arguments are a JSON array of strings, shell form otherwise. */
    private Command command(String args, boolean allowEmptyExec) throws DockerfileException {
        Optional<List<String>> json = Words.jsonArray(args);
        if (json.isPresent()) {
            if (json.get().isEmpty() && !allowEmptyExec) {
                throw error("requires at least one argument");
            }
            return new Command(true, json.get(), "");
        }
        if (args.isBlank()) {
            throw error("requires at least one argument");
        }
        return new Command(false, List.of(), args);
    }

    private Instruction shell(String args) throws DockerfileException {
        List<String> json = Words.jsonArray(args)
                .orElseThrow(
                        () -> error("requires the arguments to be in JSON form, e.g. SHELL [\"/bin/sh\", \"-c\"]"));
        if (json.isEmpty()) {
            throw error("requires at least one argument");
        }
        return new Instruction.Shell(line, original, json);
    }

    private Instruction volume(String args) throws DockerfileException {
        List<String> paths = atLeastOne(Words.jsonArray(args).orElseGet(() -> Words.splitWhitespace(args)));
        for (String path : paths) {
            if (path.isBlank()) {
                throw error("VOLUME specified can not be an empty string");
            }
        }
        return new Instruction.Volume(line, original, paths);
    }

    private Instruction healthcheck(String args) throws DockerfileException {
        Flags flags = flags(args, HEALTHCHECK_FLAGS);
        String[] parts = flags.rest().split("\\s+", 2);
        String type = parts[0].toUpperCase(Locale.ROOT);
        String rest = parts.length > 1 ? parts[1] : "";
        if (type.isEmpty()) {
            throw error("requires at least one argument: HEALTHCHECK NONE or HEALTHCHECK [options] CMD <command>");
        }
        if (type.equals("NONE")) {
            if (!rest.isBlank() || !flags.isEmpty()) {
                throw error("HEALTHCHECK NONE takes no arguments or options");
            }
            return new Instruction.Healthcheck(
                    line,
                    original,
                    true,
                    List.of("NONE"),
                    Optional.empty(),
                    Optional.empty(),
                    Optional.empty(),
                    Optional.empty(),
                    Optional.empty());
        }
        if (!type.equals("CMD")) {
            throw error("unknown type \"" + parts[0] + "\" in HEALTHCHECK (try CMD)");
        }
        Command c = command(rest, false);
        List<String> test = new ArrayList<>();
        if (c.exec) {
            test.add("CMD");
            test.addAll(c.args);
        } else {
            test.add("CMD-SHELL");
            test.add(c.shell);
        }
        Optional<Integer> retries = Optional.empty();
        if (flags.string("retries").isPresent()) {
            String text = flags.string("retries").get();
            try {
                retries = Optional.of(Integer.parseInt(text));
            } catch (NumberFormatException e) {
                throw error("--retries must be a whole number, got \"" + text + "\"");
            }
            if (retries.get() < 0) {
                throw error("--retries cannot be negative (" + text + ")");
            }
        }
        return new Instruction.Healthcheck(
                line,
                original,
                false,
                test,
                duration(flags, "interval"),
                duration(flags, "timeout"),
                duration(flags, "start-period"),
                duration(flags, "start-interval"),
                retries);
    }

    private Optional<Duration> duration(Flags flags, String name) throws DockerfileException {
        Optional<String> text = flags.string(name);
        if (text.isEmpty()) {
            return Optional.empty();
        }
        Duration d;
        try {
            d = GoDuration.parse(text.get());
        } catch (GoDuration.InvalidDurationException e) {
            throw error("--" + name + ": " + e.getMessage());
        }
        // zero means "use the default"; anything else below 1ms is a mistake (Docker rejects it too)
        if (!d.isZero() && d.compareTo(Duration.ofMillis(1)) < 0) {
            throw error("--" + name + " cannot be less than 1ms, got " + text.get());
        }
        return Optional.of(d);
    }

    private Instruction onbuild(String args) throws DockerfileException {
        String expression = args.strip();
        if (expression.isEmpty()) {
            throw error("requires at least one argument: ONBUILD <instruction>");
        }
        String trigger = expression.split("\\s+", 2)[0].toUpperCase(Locale.ROOT);
        switch (trigger) {
            case "ONBUILD" -> throw error("chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
            case "FROM", "MAINTAINER" -> throw error(trigger + " isn't allowed as an ONBUILD trigger");
            default -> {}
        }
        Instruction parsed = InstructionParser.parse(fileName, line, expression, escape, null);
        return new Instruction.Onbuild(line, original, expression, parsed);
    }

    /** Finds {@code <<EOF} words and reads their bodies from the following lines. */
    private List<Heredoc> heredocs(List<String> words) throws DockerfileException {
        if (reader == null) {
            return List.of();
        }
        List<Heredoc> heredocs = new ArrayList<>();
        StringBuilder withBodies = new StringBuilder(original);
        for (String word : words) {
            Matcher m = HEREDOC.matcher(word);
            if (!m.matches()) {
                continue;
            }
            boolean chomp = !m.group(1).isEmpty();
            String name = m.group(3);
            String content = reader.readHeredoc(name, chomp)
                    .orElseThrow(() ->
                            error("heredoc <<" + name + " is not terminated: add a line containing only " + name));
            heredocs.add(new Heredoc(name, content, m.group(2).isEmpty(), chomp));
            withBodies.append('\n').append(content).append(name);
        }
        original = withBodies.toString();
        return heredocs;
    }

    private Flags flags(String args, Map<String, Kind> accepted) throws DockerfileException {
        try {
            return Flags.parse(args, escape, accepted);
        } catch (Flags.FlagException e) {
            throw error(e.getMessage());
        }
    }

    /** Instructions without flags still reject {@code --x} words, as BuildKit does. */
    private String noFlags(String args) throws DockerfileException {
        return flags(args, NO_FLAGS).rest();
    }

    private String single(String args) throws DockerfileException {
        if (args.isBlank()) {
            throw error("requires exactly one argument");
        }
        return args.strip();
    }

    private <T> List<T> atLeastOne(List<T> values) throws DockerfileException {
        if (values.isEmpty()) {
            throw error("requires at least one argument");
        }
        return values;
    }

    private DockerfileException error(String detail) {
        return new DockerfileException(fileName, line, Optional.of(keyword), detail);
    }
}
