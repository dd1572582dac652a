package dev.stagefarm.common.auth;

import io.grpc.Context;
import java.util.EnumSet;
import java.util.Set;

/**
 * Who is calling a stagefarm server: the team whose namespace the call works in and what the
 * caller may do there. Servers read it from the gRPC {@link Context} that their authenticating
 * interceptor fills; a server without a tokens file treats every caller as {@link #OPEN}.
 *
 * @param name  the token's name (for logs and metrics), or {@code anonymous}
 * @param team  the namespace of blobs, action results and cache mounts; {@code ""} is the
 *              default namespace of a server without tokens
 * @param scopes what the caller may do in {@code team}
 */
public record Caller(String name, String team, Set<Scope> scopes) {

    /** What a token allows. */
    public enum Scope {
        /** find-missing, reads, action-cache lookups, cache-mount reads. */
        READ,
        /** uploads, action-cache updates, cache-mount publishes and leases. */
        WRITE,
        /** stats and prune. */
        ADMIN,
        /** coordinators and workers: may act for the team a job belongs to. */
        FARM
    }

    /** The caller of a server that has no tokens file: everything, in the default namespace. */
    public static final Caller OPEN = new Caller("anonymous", "", EnumSet.allOf(Scope.class));

    /** Where an authenticating interceptor puts the caller of the current call. */
    public static final Context.Key<Caller> KEY = Context.key("stagefarm-caller");

    public Caller {
        scopes = Set.copyOf(scopes);
    }

    /** The caller of the gRPC call running on this thread, {@link #OPEN} when none was set. */
    public static Caller current() {
        Caller caller = KEY.get();
        return caller == null ? OPEN : caller;
    }

    public boolean may(Scope scope) {
        return scopes.contains(scope);
    }
}
