package dev.stagefarm.common.auth;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.grpc.StatusException;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Authenticates every call of a server that has a tokens file and puts the {@link Caller} into
 * the gRPC {@link Context}, where services read it with {@link Caller#current()}.
 *
 * <p>The team comes from the token. Only a token with the {@code farm} scope (coordinators,
 * workers) may name another team, with the {@code stagefarm-team} header, to act for the team
 * whose job it runs. Any other token that sends the header for a team not its own is refused
 * rather than ignored: a client that believes it works in team B while it writes into team A
 * is a misconfiguration the user should hear about.
 */
public final class AuthInterceptor implements ServerInterceptor {

    public static final Metadata.Key<String> AUTHORIZATION =
            Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);
    public static final Metadata.Key<String> TEAM = Metadata.Key.of("stagefarm-team", Metadata.ASCII_STRING_MARSHALLER);

    /** How to pass a token, for every refusal of a call without one. */
    public static final String HOW_TO_PASS_A_TOKEN = "pass one with --token or --token-file, the STAGEFARM_TOKEN"
            + " environment variable, or token= in the stagefarm config file (~/.config/stagefarm/config.properties)";

    private static final Logger log = LoggerFactory.getLogger(AuthInterceptor.class);
    private static final String BEARER = "Bearer ";

    private final String server;
    private final Supplier<Tokens> tokens;
    private final MethodScopes scopes;

    /**
     * @param server what the server calls itself in refusals ({@code cache-server}, {@code coordinator})
     * @param tokens the accepted tokens, asked on every call so that a re-read file takes effect
     */
    public AuthInterceptor(String server, Supplier<Tokens> tokens, MethodScopes scopes) {
        this.server = server;
        this.tokens = tokens;
        this.scopes = scopes;
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(
            ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
        String service = call.getMethodDescriptor().getServiceName();
        if (scopes.isOpen(service)) {
            return next.startCall(call, headers);
        }
        Caller caller;
        try {
            caller = authorize(
                    authenticate(headers), service, call.getMethodDescriptor().getFullMethodName());
        } catch (StatusException refused) {
            log.info(
                    "{}: refused {}: {}",
                    server,
                    call.getMethodDescriptor().getFullMethodName(),
                    refused.getStatus().getDescription());
            call.close(refused.getStatus(), new Metadata());
            return new ServerCall.Listener<>() {};
        }
        return Contexts.interceptCall(Context.current().withValue(Caller.KEY, caller), call, headers, next);
    }

    private Caller authenticate(Metadata headers) throws StatusException {
        Tokens accepted = tokens.get();
        String authorization = headers.get(AUTHORIZATION);
        Caller caller;
        if (authorization == null) {
            caller = accepted.anonymous()
                    .orElseThrow(() -> refuse(
                            Status.UNAUTHENTICATED,
                            "the " + server + " accepts no calls without a token: " + HOW_TO_PASS_A_TOKEN));
        } else if (!authorization.regionMatches(true, 0, BEARER, 0, BEARER.length())) {
            throw refuse(
                    Status.UNAUTHENTICATED,
                    "the " + server + " takes an authorization header of the form" + " 'Bearer <token>'; "
                            + HOW_TO_PASS_A_TOKEN);
        } else {
            caller = accepted.lookUp(authorization.substring(BEARER.length()).trim())
                    .orElseThrow(() -> refuse(
                            Status.UNAUTHENTICATED,
                            "the " + server + " does not know this token (mistyped, or removed from its"
                                    + " tokens file); ask the farm's operator for a valid one"));
        }
        return actingFor(caller, headers.get(TEAM));
    }

    private Caller actingFor(Caller caller, String team) throws StatusException {
        if (team == null || team.equals(caller.team())) {
            return caller;
        }
        if (!caller.may(Caller.Scope.FARM)) {
            throw refuse(
                    Status.PERMISSION_DENIED,
                    "token '" + caller.name() + "' belongs to team " + caller.team()
                            + " and cannot act for team " + team
                            + ": only tokens with the farm scope may send stagefarm-team;"
                            + " drop the header, or use a token of team " + team);
        }
        if (!TokensFile.TEAM.matcher(team).matches()) {
            throw refuse(
                    Status.INVALID_ARGUMENT,
                    "stagefarm-team '" + team + "' is not a team name (1-63 lower-case"
                            + " letters, digits, '.', '_' or '-')");
        }
        return new Caller(caller.name(), team, caller.scopes());
    }

    private Caller authorize(Caller caller, String service, String method) throws StatusException {
        Optional<Caller.Scope> needed = scopes.required(service, method);
        if (needed.isEmpty()) {
            throw refuse(
                    Status.PERMISSION_DENIED,
                    "the " + server + " declares no scope for " + method
                            + ", so it refuses it; this is a stagefarm bug, please report it");
        }
        if (!caller.may(needed.get())) {
            String scope = needed.get().name().toLowerCase(Locale.ROOT);
            boolean anonymous = caller.name().equals("anonymous");
            throw refuse(
                    Status.PERMISSION_DENIED,
                    (anonymous ? "anonymous callers" : "token '" + caller.name() + "'")
                            + " of team " + caller.team() + (anonymous ? " have" : " has") + " the scopes "
                            + Scopes.names(caller.scopes()) + ", but " + method + " needs the " + scope
                            + " scope; use a token that has it");
        }
        return caller;
    }

    private static StatusException refuse(Status status, String sentence) {
        return status.withDescription(sentence).asException();
    }
}
