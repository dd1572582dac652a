package dev.stagefarm.cli.commands;

import dev.stagefarm.common.client.GrpcChannels;
import dev.stagefarm.proto.farm.CoordinatorGrpc;
import io.grpc.ManagedChannel;
import java.io.IOException;

/**
 * One call of a command such as {@code stagefarm builds cancel} or {@code stagefarm workers
 * drain} to the coordinator: its {@code --coordinator} and credentials may be given after the
 * subcommand or before it, on the parent. A refusal or an unreachable coordinator reaches the
 * launcher as a gRPC status, which it turns into one sentence.
 */
final class CoordinatorCall {

    interface Call {
        int run(CoordinatorGrpc.CoordinatorBlockingStub stub);
    }

    private CoordinatorCall() {}

    /**
     * @param coordinator the subcommand's own {@code --coordinator}, or null
     * @param parentCoordinator the parent command's, or null
     */
    static int run(
            String coordinator,
            ClientAuthOptions auth,
            String parentCoordinator,
            ClientAuthOptions parentAuth,
            Call call)
            throws IOException {
        String address = coordinator != null ? coordinator : parentCoordinator;
        ClientAuthOptions security = auth.security().token() == null && parentAuth != null ? parentAuth : auth;
        if (address == null) {
            throw new IllegalArgumentException(
                    "give the coordinator: --coordinator HOST:PORT, or coordinator= in the stagefarm config file");
        }
        ManagedChannel channel = GrpcChannels.open(address, security.security());
        try {
            return call.run(CoordinatorGrpc.newBlockingStub(channel));
        } finally {
            GrpcChannels.close(channel);
        }
    }
}
