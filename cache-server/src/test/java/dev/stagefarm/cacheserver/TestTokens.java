package dev.stagefarm.cacheserver;

import dev.stagefarm.common.auth.BearerToken;
import dev.stagefarm.common.auth.Tokens;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ClientInterceptors;
import io.grpc.MethodDescriptor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;

/** Tokens files for tests, and channels that present a token (as the real BearerToken credentials). */
public final class TestTokens {

    public static final String ALICE = "alice-secret-token-0001"; // team-a: read, write, admin
    public static final String BOB = "bob-secret-token-0002"; // team-b: read, write, admin
    static final String READER = "reader-secret-token-0003"; // team-a: read
    static final String FARM = "farm-secret-token-0004"; // ops: read, write, farm

    private TestTokens() {}

    /** alice, bob, reader and farm; anonymous callers get {@code anonymous} (a JSON object) or are refused (null). */
    public static Path write(Path dir, String anonymous) throws IOException {
        String json = "{" + (anonymous == null ? "" : "\"anonymous\": " + anonymous + ",")
                + "\"tokens\": ["
                + entry("alice", "team-a", "\"read\",\"write\",\"admin\"", ALICE) + ","
                + entry("bob", "team-b", "\"read\",\"write\",\"admin\"", BOB) + ","
                + entry("reader", "team-a", "\"read\"", READER) + ","
                + entry("farm", "ops", "\"read\",\"write\",\"farm\"", FARM) + "]}";
        Path file = dir.resolve("tokens.json");
        Files.writeString(file, json);
        return file;
    }

    private static String entry(String name, String team, String scopes, String token) {
        return "{\"name\": \"" + name + "\", \"team\": \"" + team + "\", \"scopes\": [" + scopes + "], \"sha256\": \""
                + HexFormat.of().formatHex(Tokens.sha256(token)) + "\"}";
    }

    /** {@code channel} with {@code token} on every call, through gRPC's CallCredentials. */
    static Channel as(Channel channel, String token) {
        BearerToken credentials = BearerToken.of(token);
        return ClientInterceptors.intercept(channel, new ClientInterceptor() {
            @Override
            public <Q, R> ClientCall<Q, R> interceptCall(
                    MethodDescriptor<Q, R> method, CallOptions options, Channel next) {
                return next.newCall(method, options.withCallCredentials(credentials));
            }
        });
    }
}
