package dev.stagefarm.cli.commands;

import dev.stagefarm.cacheclient.Units;
import dev.stagefarm.proto.farm.DrainWorkerRequest;
import dev.stagefarm.proto.farm.ListWorkersRequest;
import dev.stagefarm.proto.farm.WorkerInfo;
import java.io.IOException;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(
        name = "workers",
        mixinStandardHelpOptions = true,
        subcommands = WorkersCommand.Drain.class,
        description = "List the workers connected to a coordinator.")
public final class WorkersCommand implements Callable<Integer> {

    @Option(names = "--coordinator", description = "The coordinator, HOST:PORT.")
    String coordinator;

    @CommandLine.Mixin
    ClientAuthOptions auth;

    @Override
    public Integer call() throws IOException {
        return CoordinatorCall.run(coordinator, auth, null, null, stub -> {
            var reply = stub.listWorkers(ListWorkersRequest.getDefaultInstance());
            System.out.printf("%-20s %-9s %-6s %-13s %s%n", "NAME", "STATE", "SLOTS", "RUNNING JOBS", "DISK");
            for (WorkerInfo w : reply.getWorkersList()) {
                System.out.printf(
                        "%-20s %-9s %-6d %-13d %s%n",
                        w.getName(), w.getDraining() ? "DRAINING" : "READY", w.getSlots(), w.getRunningJobs(), disk(w));
                for (String warning : w.getWarningsList()) {
                    System.out.printf("  warning: %s%n", warning);
                }
            }
            return 0;
        });
    }

    /** {@code 3.2 GiB/20.0 GiB}: the worker's local snapshots and blobs against its --max-local-size. */
    static String disk(WorkerInfo w) {
        String used = Units.formatSize(w.getLocalDiskUsedBytes());
        return w.getLocalDiskBudgetBytes() > 0
                ? used + "/" + Units.formatSize(w.getLocalDiskBudgetBytes())
                : used + "/no budget";
    }

    @Command(
            name = "drain",
            mixinStandardHelpOptions = true,
            description = "Drain a worker (admin token): it takes no new job, finishes those it runs, then exits.")
    static final class Drain implements Callable<Integer> {
        @CommandLine.ParentCommand
        WorkersCommand parent;

        @CommandLine.Parameters(paramLabel = "NAME", description = "The worker's --name.")
        String name;

        @Option(names = "--coordinator", description = "The coordinator, HOST:PORT.")
        String coordinator;

        @CommandLine.Mixin
        ClientAuthOptions auth;

        @Override
        public Integer call() throws IOException {
            return CoordinatorCall.run(coordinator, auth, parent.coordinator, parent.auth, stub -> {
                stub.drainWorker(DrainWorkerRequest.newBuilder().setName(name).build());
                System.out.println(name + ": DRAINING");
                return 0;
            });
        }
    }
}
