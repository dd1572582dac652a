package dev.stagefarm.dockerfile;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Parses Dockerfile text into a {@link Dockerfile}: directives, global ARGs and stages. Nothing
 * is expanded here; that needs build arguments and the environment of each step.
 */
public final class DockerfileParser {

    private static final Pattern STAGE_NAME = Pattern.compile("[a-z][a-z0-9-_.]*");

    private DockerfileParser() {}

    public static Dockerfile parse(String text, String fileName) throws DockerfileException {
        LineReader reader = new LineReader(text, fileName);
        List<Instruction.Arg> globalArgs = new ArrayList<>();
        List<Stage> stages = new ArrayList<>();
        Map<String, Integer> stageNames = new HashMap<>();
        Instruction.From from = null;
        List<Instruction> body = new ArrayList<>();
        int lastLine = 1;
        for (Optional<LineReader.LogicalLine> next = reader.nextLogical();
                next.isPresent();
                next = reader.nextLogical()) {
            LineReader.LogicalLine logical = next.get();
            lastLine = logical.line();
            Instruction instruction =
                    InstructionParser.parse(fileName, logical.line(), logical.text(), reader.escape(), reader);
            if (instruction instanceof Instruction.From f) {
                if (from != null) {
                    stages.add(stage(stages.size(), from, body));
                }
                checkStageName(f, stageNames, stages.size(), fileName);
                from = f;
                body = new ArrayList<>();
            } else if (from != null) {
                body.add(instruction);
            } else if (instruction instanceof Instruction.Arg a) {
                globalArgs.add(a);
            } else {
                throw noFrom(fileName, instruction.line());
            }
        }
        if (from == null) {
            throw noFrom(fileName, lastLine);
        }
        stages.add(stage(stages.size(), from, body));
        return new Dockerfile(globalArgs, stages, reader.directives(), fileName);
    }

    /**
     * Parses one ONBUILD trigger stored in a base image's config, for a build that uses that image
     * as its base. Errors point at {@code line}, the FROM that brought the trigger in.
     */
    public static Instruction parseTrigger(String expression, String fileName, int line, char escape)
            throws DockerfileException {
        String keyword = expression.strip().split("\\s+", 2)[0].toUpperCase(Locale.ROOT);
        if (List.of("ONBUILD", "FROM", "MAINTAINER").contains(keyword)) {
            throw new DockerfileException(
                    fileName, line, Optional.of("ONBUILD"), keyword + " isn't allowed as an ONBUILD trigger");
        }
        return InstructionParser.parse(fileName, line, expression, escape, null);
    }

    private static DockerfileException noFrom(String fileName, int line) {
        return new DockerfileException(
                fileName,
                line,
                Optional.empty(),
                "no FROM instruction: a Dockerfile must start with FROM (ARG may come before it)");
    }

    private static void checkStageName(Instruction.From from, Map<String, Integer> names, int index, String fileName)
            throws DockerfileException {
        if (from.name().isEmpty()) {
            return;
        }
        String name = from.name().get();
        if (!STAGE_NAME.matcher(name).matches()) {
            throw new DockerfileException(
                    fileName,
                    from.line(),
                    Optional.of("FROM"),
                    "invalid name for build stage: \"" + name
                            + "\", name can't start with a number or contain symbols");
        }
        Integer earlier = names.putIfAbsent(name, index);
        if (earlier != null) {
            throw new DockerfileException(
                    fileName,
                    from.line(),
                    Optional.of("FROM"),
                    "duplicate stage name \"" + name + "\": stage " + earlier + " already uses it");
        }
    }

    private static Stage stage(int index, Instruction.From from, List<Instruction> body) {
        return new Stage(index, from.name(), from.image(), from.platform(), from.line(), body, from.original());
    }
}
