package dev.stagefarm.cli.commands;

import dev.stagefarm.common.client.GrpcChannels;
import dev.stagefarm.proto.farm.CoordinatorGrpc;
import dev.stagefarm.proto.farm.ListWorkersRequest;
import dev.stagefarm.proto.farm.WorkerInfo;
import io.grpc.ManagedChannel;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(
        name = "workers",
        mixinStandardHelpOptions = true,
        description = "List the workers connected to a coordinator.")
public final class WorkersCommand implements Callable<Integer> {

    @Option(names = "--coordinator", required = true, description = "The coordinator, HOST:PORT.")
    String coordinator;

    @picocli.CommandLine.Mixin
    ClientAuthOptions auth;

    @Override
    public Integer call() throws java.io.IOException {
        ManagedChannel channel = GrpcChannels.open(coordinator, auth.security());
        try {
            var reply = CoordinatorGrpc.newBlockingStub(channel).listWorkers(ListWorkersRequest.getDefaultInstance());
            System.out.printf("%-20s %s%n", "NAME", "RUNNING JOBS");
            for (WorkerInfo w : reply.getWorkersList()) {
                System.out.printf("%-20s %d%n", w.getName(), w.getRunningJobs());
                for (String warning : w.getWarningsList()) {
                    System.out.printf("  warning: %s%n", warning);
                }
            }
            return 0;
        } finally {
            channel.shutdownNow();
        }
    }
}
