package dev.stagefarm.dockerfile;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * One Dockerfile instruction. Every value is kept as written (unexpanded, quotes in place):
 * the planner expands it with the environment in effect at that point, using {@link ShellWords}.
 *
 * <p>{@code line()} is the 1-based first line; {@code original()} is the source text with
 * continuations joined (and heredoc bodies appended), which becomes the image history's
 * {@code created_by}.
 */
public sealed interface Instruction {

    int line();

    String original();

    /** The instruction keyword, upper-case, e.g. {@code "COPY"}. */
    default String keyword() {
        return switch (this) {
            case From f -> "FROM";
            case Arg a -> "ARG";
            case Env e -> "ENV";
            case Workdir w -> "WORKDIR";
            case Copy c -> c.add() ? "ADD" : "COPY";
            case Run r -> "RUN";
            case Expose e -> "EXPOSE";
            case Cmd c -> "CMD";
            case Entrypoint e -> "ENTRYPOINT";
            case User u -> "USER";
            case Label l -> "LABEL";
            case Shell s -> "SHELL";
            case Volume v -> "VOLUME";
            case StopSignal s -> "STOPSIGNAL";
            case Healthcheck h -> "HEALTHCHECK";
            case Onbuild o -> "ONBUILD";
            case Maintainer m -> "MAINTAINER";
        };
    }

    /** {@code FROM [--platform=p] image [AS name]}; {@code name} is lower-cased. */
    record From(int line, String original, String image, Optional<String> platform, Optional<String> name)
            implements Instruction {}

    record Arg(int line, String original, List<ArgDef> args) implements Instruction {
        public Arg {
            args = List.copyOf(args);
        }
    }

    record Env(int line, String original, List<KeyValue> vars) implements Instruction {
        public Env {
            vars = List.copyOf(vars);
        }
    }

    record Workdir(int line, String original, String path) implements Instruction {}

    /**
     * COPY or ADD. For heredoc sources ({@code COPY <<EOF /dst}) the source word is
     * {@code <<EOF} and its body is in {@code heredocs}.
     *
     * @param checksum ADD only
     * @param keepGitDir ADD only ({@code --keep-git-dir})
     */
    record Copy(
            int line,
            String original,
            boolean add,
            List<String> sources,
            String dest,
            Optional<String> from,
            Optional<String> chown,
            Optional<String> chmod,
            boolean link,
            List<String> excludes,
            boolean parents,
            Optional<String> checksum,
            List<Heredoc> heredocs,
            boolean keepGitDir)
            implements Instruction {
        public Copy {
            sources = List.copyOf(sources);
            excludes = List.copyOf(excludes);
            heredocs = List.copyOf(heredocs);
        }
    }

    /**
     * RUN in exec form ({@code args}, {@code command} empty) or shell form ({@code command},
     * {@code args} empty). A shell-form command that uses heredocs keeps its {@code <<EOF} words;
     * their bodies are in {@code heredocs}.
     *
     * @param security {@code --security=insecure|sandbox}
     */
    record Run(
            int line,
            String original,
            boolean execForm,
            List<String> args,
            String command,
            Optional<String> network,
            List<RunMount> mounts,
            List<Heredoc> heredocs,
            Optional<String> security)
            implements Instruction {
        public Run {
            args = List.copyOf(args);
            mounts = List.copyOf(mounts);
            heredocs = List.copyOf(heredocs);
        }
    }

    record Expose(int line, String original, List<String> ports) implements Instruction {
        public Expose {
            ports = List.copyOf(ports);
        }
    }

    /** Exec form fills {@code args}; shell form fills {@code command}. */
    record Cmd(int line, String original, boolean execForm, List<String> args, String command) implements Instruction {
        public Cmd {
            args = List.copyOf(args);
        }
    }

    /** Exec form fills {@code args}; shell form fills {@code command}. */
    record Entrypoint(int line, String original, boolean execForm, List<String> args, String command)
            implements Instruction {
        public Entrypoint {
            args = List.copyOf(args);
        }
    }

    record User(int line, String original, String user) implements Instruction {}

    record Label(int line, String original, List<KeyValue> labels) implements Instruction {
        public Label {
            labels = List.copyOf(labels);
        }
    }

    record Shell(int line, String original, List<String> shell) implements Instruction {
        public Shell {
            shell = List.copyOf(shell);
        }
    }

    record Volume(int line, String original, List<String> paths) implements Instruction {
        public Volume {
            paths = List.copyOf(paths);
        }
    }

    record StopSignal(int line, String original, String signal) implements Instruction {}

    /**
     * HEALTHCHECK. {@code test} is in image-config form: {@code ["NONE"]},
     * {@code ["CMD", arg...]} (exec form) or {@code ["CMD-SHELL", command]}.
     * Absent options mean "inherit from the base image".
     */
    record Healthcheck(
            int line,
            String original,
            boolean none,
            List<String> test,
            Optional<Duration> interval,
            Optional<Duration> timeout,
            Optional<Duration> startPeriod,
            Optional<Duration> startInterval,
            Optional<Integer> retries)
            implements Instruction {
        public Healthcheck {
            test = List.copyOf(test);
        }
    }

    /**
     * ONBUILD: {@code expression} is the trigger text stored in the image config;
     * {@code trigger} is that text parsed, so mistakes surface at build time of this image.
     */
    record Onbuild(int line, String original, String expression, Instruction trigger) implements Instruction {}

    record Maintainer(int line, String original, String name) implements Instruction {}
}
