package dev.stagefarm.common.client;

import dev.stagefarm.common.auth.BearerToken;
import dev.stagefarm.common.fs.ReadableFile;
import io.grpc.ChannelCredentials;
import io.grpc.CompositeChannelCredentials;
import io.grpc.InsecureChannelCredentials;
import io.grpc.TlsChannelCredentials;
import io.netty.handler.ssl.JdkSslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;

/**
 * How a client reaches a stagefarm server: its token (or none) and TLS. A CA to trust
 * ({@code --tls-ca}) turns TLS on; a client certificate and key identify the client to a server
 * that requires them (mutual TLS).
 *
 * @param token bearer token, or null for none
 * @param ca    PEM CA certificates to trust instead of the JDK's, or null
 * @param cert  PEM client certificate chain, or null
 * @param key   its PKCS#8 PEM key, or null
 * @param tls   TLS even without {@code ca} (trusting the JDK's CAs)
 */
public record ClientSecurity(String token, Path ca, Path cert, Path key, boolean tls) {

    /** Plaintext, no token: the embedded farm, tests, servers without tokens. */
    public static final ClientSecurity NONE = new ClientSecurity(null, null, null, null, false);

    public ClientSecurity {
        if ((cert == null) != (key == null)) {
            throw new IllegalArgumentException("a client certificate needs both --tls-cert and --tls-key");
        }
        tls = tls || ca != null || cert != null;
    }

    public static ClientSecurity token(String token) {
        return new ClientSecurity(token, null, null, null, false);
    }

    public ClientSecurity withToken(String newToken) {
        return new ClientSecurity(newToken, ca, cert, key, tls);
    }

    /**
     * The same trust and client certificate as a JDK SSLContext, for a connection that is not
     * gRPC (the cache-server's data port); null without TLS.
     */
    public SSLContext sslContext() throws IOException {
        if (!tls) {
            return null;
        }
        try {
            SslContextBuilder builder = SslContextBuilder.forClient().sslProvider(SslProvider.JDK);
            if (ca != null) {
                builder.trustManager(ReadableFile.require(ca, "--tls-ca").toFile());
            }
            if (cert != null) {
                builder.keyManager(
                        ReadableFile.require(cert, "--tls-cert").toFile(),
                        ReadableFile.require(key, "--tls-key").toFile());
            }
            return ((JdkSslContext) builder.build()).context();
        } catch (SSLException | RuntimeException e) {
            throw new IOException(
                    "cannot use the TLS files (--tls-ca " + ca + ", --tls-cert " + cert
                            + "; PEM certificates and a PKCS#8 PEM key expected): " + e.getMessage(),
                    e);
        }
    }

    /** The channel credentials: TLS or plaintext, with the token on every call when there is one. */
    public ChannelCredentials credentials() {
        ChannelCredentials transport = InsecureChannelCredentials.create();
        if (tls) {
            try {
                TlsChannelCredentials.Builder builder = TlsChannelCredentials.newBuilder();
                if (ca != null) {
                    builder.trustManager(ReadableFile.require(ca, "--tls-ca").toFile());
                }
                if (cert != null) {
                    builder.keyManager(
                            ReadableFile.require(cert, "--tls-cert").toFile(),
                            ReadableFile.require(key, "--tls-key").toFile());
                }
                transport = builder.build();
            } catch (IOException e) {
                throw new UncheckedIOException(e.getMessage(), e);
            } catch (RuntimeException e) {
                throw new IllegalArgumentException(
                        "cannot use the TLS files (--tls-ca " + ca + ", --tls-cert " + cert
                                + "; PEM certificates and a PKCS#8 PEM key expected): " + e.getMessage(),
                        e);
            }
        }
        return token == null ? transport : CompositeChannelCredentials.create(transport, BearerToken.of(token));
    }
}
