package dev.stagefarm.common.auth;

import io.grpc.CallCredentials;
import io.grpc.Metadata;
import io.grpc.Status;
import java.util.concurrent.Executor;

/**
 * A client's token, sent as {@code authorization: Bearer <token>} on every call of a channel
 * ({@link dev.stagefarm.common.client.GrpcChannels} attaches it). {@link TeamChannel} adds the
 * team a farm token acts for.
 */
public final class BearerToken extends CallCredentials {

    private final String token;

    private BearerToken(String token) {
        if (token == null || token.isBlank() || token.chars().anyMatch(c -> c < 0x21 || c > 0x7e)) {
            throw new IllegalArgumentException("a token is printable ASCII without spaces; check the token you passed");
        }
        this.token = token;
    }

    public static BearerToken of(String token) {
        return new BearerToken(token == null ? null : token.trim());
    }

    @Override
    public void applyRequestMetadata(RequestInfo info, Executor executor, MetadataApplier applier) {
        try {
            Metadata headers = new Metadata();
            headers.put(AuthInterceptor.AUTHORIZATION, "Bearer " + token);
            applier.apply(headers);
        } catch (RuntimeException e) {
            applier.fail(Status.UNAUTHENTICATED
                    .withDescription("could not attach the token")
                    .withCause(e));
        }
    }
}
