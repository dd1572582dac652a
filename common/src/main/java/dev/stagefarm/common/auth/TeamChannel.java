package dev.stagefarm.common.auth;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ClientInterceptors;
import io.grpc.Context;
import io.grpc.ForwardingClientCall;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.function.Supplier;

/**
 * Channels whose calls act for a team: they send {@code stagefarm-team: TEAM} next to the
 * channel's own (farm) token, so the cache-server works in that team's namespace. An empty team
 * (a farm without tokens) sends nothing.
 *
 * <p>{@link #bind} fixes the team (the coordinator, per build). {@link #fromContext} takes it
 * from the gRPC {@link Context} of the calling thread, which a worker sets once per job with
 * {@link #callAs}: every cache call the job makes, by whatever code, is then in the job's team.
 * gRPC runs a call's callbacks in the call's context, so retries and streams keep the team.
 */
public final class TeamChannel {

    /** The team of the job running on this thread. */
    private static final Context.Key<String> TEAM = Context.key("stagefarm-team");

    private TeamChannel() {}

    public static Channel bind(Channel channel, String team) {
        return (team == null || team.isEmpty())
                ? channel
                : ClientInterceptors.intercept(channel, header(() -> team, false));
    }

    /**
     * A channel that sends the team {@link #callAs} set. With {@code required}, a call made
     * outside {@link #callAs} fails instead of falling back to the token's own team, which all
     * teams' jobs would otherwise share.
     */
    public static Channel fromContext(Channel channel, boolean required) {
        return ClientInterceptors.intercept(channel, header(TEAM::get, required));
    }

    /** The team {@link #callAs} set on this thread; {@code ""} outside a job (or for a farm without teams). */
    public static String current() {
        String team = TEAM.get();
        return team == null ? "" : team;
    }

    /** The team of the job running on this thread; empty outside a job ({@code ""} is a farm without teams). */
    public static Optional<String> ofJob() {
        return Optional.ofNullable(TEAM.get());
    }

    /** Runs {@code work} acting for {@code team}: calls through {@link #fromContext} channels send it. */
    public static <T> T callAs(String team, Callable<T> work) throws Exception {
        return Context.current().withValue(TEAM, team == null ? "" : team).call(work);
    }

    private static ClientInterceptor header(Supplier<String> team, boolean required) {
        return new ClientInterceptor() {
            @Override
            public <Q, R> ClientCall<Q, R> interceptCall(
                    MethodDescriptor<Q, R> method, CallOptions options, Channel next) {
                String acting = team.get();
                if (acting == null && required) {
                    return new Refused<>(Status.INTERNAL.withDescription(method.getFullMethodName()
                            + " was called outside a job, so it has no team to act for; this is a stagefarm bug"));
                }
                return new ForwardingClientCall.SimpleForwardingClientCall<>(next.newCall(method, options)) {
                    @Override
                    public void start(Listener<R> listener, Metadata headers) {
                        if (acting != null && !acting.isEmpty()) {
                            headers.put(AuthInterceptor.TEAM, acting);
                        }
                        super.start(listener, headers);
                    }
                };
            }
        };
    }

    /** A call that never reaches the network: it ends with {@code status} as soon as it starts. */
    private static final class Refused<Q, R> extends ClientCall<Q, R> {
        private final Status status;

        Refused(Status status) {
            this.status = status;
        }

        @Override
        public void start(Listener<R> listener, Metadata headers) {
            listener.onClose(status, new Metadata());
        }

        @Override
        public void request(int messages) {}

        @Override
        public void cancel(String message, Throwable cause) {}

        @Override
        public void halfClose() {}

        @Override
        public void sendMessage(Q message) {}
    }
}
