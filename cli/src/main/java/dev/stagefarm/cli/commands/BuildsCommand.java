package dev.stagefarm.cli.commands;

import dev.stagefarm.cli.progress.ProgressPrinter;
import dev.stagefarm.proto.farm.BuildEvent;
import dev.stagefarm.proto.farm.BuildLogsRequest;
import dev.stagefarm.proto.farm.BuildSummary;
import dev.stagefarm.proto.farm.CancelBuildRequest;
import dev.stagefarm.proto.farm.ListBuildsRequest;
import dev.stagefarm.proto.farm.ListBuildsResponse;
import dev.stagefarm.proto.farm.TeamBuildCount;
import java.io.IOException;
import java.io.PrintStream;
import java.time.Duration;
import java.time.Instant;
import java.util.Iterator;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

@Command(
        name = "builds",
        mixinStandardHelpOptions = true,
        description = "List a coordinator's running and queued builds (your team's; other teams' as counts).",
        subcommands = {BuildsCommand.Cancel.class, BuildsCommand.Logs.class})
public final class BuildsCommand implements Callable<Integer> {

    @Option(names = "--coordinator", description = "The coordinator, HOST:PORT.")
    String coordinator;

    @Mixin
    ClientAuthOptions auth;

    @Option(
            names = {"-a", "--all"},
            description = "Also the finished builds the coordinator keeps (the last 200).")
    boolean all;

    @Override
    public Integer call() throws IOException {
        return withStub(coordinator, auth, null, stub -> {
            ListBuildsResponse reply = stub.listBuilds(
                    ListBuildsRequest.newBuilder().setIncludeFinished(all).build());
            print(reply, Instant.now(), System.out);
            return 0;
        });
    }

    static void print(ListBuildsResponse reply, Instant now, PrintStream out) {
        out.printf("%-10s %-16s %-10s %-22s %-8s %s%n", "ID", "TEAM", "STATE", "PROGRESS", "AGE", "WORKERS");
        for (BuildSummary b : reply.getBuildsList()) {
            out.printf(
                    "%-10s %-16s %-10s %-22s %-8s %s%n",
                    b.getBuildId(),
                    b.getTeam().isEmpty() ? "-" : b.getTeam(),
                    b.getState().name(),
                    b.getStepsDone() + "/" + b.getStepsTotal() + " steps, " + b.getStagesDone() + "/"
                            + b.getStagesTotal() + " stages",
                    age(b.getSubmittedAt(), now),
                    String.join(",", b.getWorkersList()));
        }
        for (TeamBuildCount t : reply.getOtherTeamsList()) {
            if (t.getRunning() + t.getQueued() > 0) {
                out.printf(
                        "team %s: %d running, %d queued (builds you may not see)%n",
                        t.getTeam(), t.getRunning(), t.getQueued());
            }
        }
    }

    static String age(String since, Instant now) {
        if (since.isEmpty()) {
            return "";
        }
        long s = Math.max(0, Duration.between(Instant.parse(since), now).toSeconds());
        return s < 60 ? s + "s" : s < 3600 ? s / 60 + "m" + s % 60 + "s" : s / 3600 + "h" + s % 3600 / 60 + "m";
    }

    @Command(
            name = "cancel",
            mixinStandardHelpOptions = true,
            description = "Cancel a build (a write token of its team, or admin): its queued stages leave the queue,"
                    + " its running steps are stopped.")
    static final class Cancel implements Callable<Integer> {
        @ParentCommand
        BuildsCommand parent;

        @Parameters(paramLabel = "ID", description = "The build's id, as `stagefarm builds` lists it.")
        String id;

        @Option(names = "--coordinator", description = "The coordinator, HOST:PORT.")
        String coordinator;

        @Mixin
        ClientAuthOptions auth;

        @Override
        public Integer call() throws IOException {
            return withStub(coordinator, auth, parent, stub -> {
                stub.cancelBuild(CancelBuildRequest.newBuilder().setBuildId(id).build());
                System.out.println(id + ": CANCELLED");
                return 0;
            });
        }
    }

    @Command(
            name = "logs",
            mixinStandardHelpOptions = true,
            description = "Print a build's progress and output as the coordinator kept it (the last 4 MiB, 256 KiB"
                    + " once finished; 2 MiB per step).")
    static final class Logs implements Callable<Integer> {
        @ParentCommand
        BuildsCommand parent;

        @Parameters(paramLabel = "ID", description = "The build's id, as `stagefarm builds` lists it.")
        String id;

        @Option(
                names = {"-f", "--follow"},
                description = "Keep printing while the build runs.")
        boolean follow;

        @Option(names = "--coordinator", description = "The coordinator, HOST:PORT.")
        String coordinator;

        @Mixin
        ClientAuthOptions auth;

        @Override
        public Integer call() throws IOException {
            return withStub(coordinator, auth, parent, stub -> {
                Iterator<BuildEvent> events = stub.buildLogs(BuildLogsRequest.newBuilder()
                        .setBuildId(id)
                        .setFollow(follow)
                        .build());
                ProgressPrinter printer = new ProgressPrinter(System.out);
                int code = 0;
                while (events.hasNext()) {
                    BuildEvent e = events.next();
                    switch (e.getKindCase()) {
                        case RESULT -> {
                            printer.finish();
                            System.out.println("build " + id + ": done");
                        }
                        case ERROR -> {
                            printer.finish();
                            System.out.println(
                                    "build " + id + ": " + e.getError().getMessage());
                            code = 1;
                        }
                        default -> printer.accept(e);
                    }
                }
                printer.finish(); // a running build's log read without -f ends inside a line
                return code;
            });
        }
    }

    private static int withStub(
            String coordinator, ClientAuthOptions auth, BuildsCommand parent, CoordinatorCall.Call call)
            throws IOException {
        return CoordinatorCall.run(
                coordinator,
                auth,
                parent == null ? null : parent.coordinator,
                parent == null ? null : parent.auth,
                call);
    }
}
