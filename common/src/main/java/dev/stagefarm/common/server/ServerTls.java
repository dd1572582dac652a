package dev.stagefarm.common.server;

import dev.stagefarm.common.fs.ReadableFile;
import io.grpc.InsecureServerCredentials;
import io.grpc.ServerCredentials;
import io.grpc.TlsServerCredentials;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.JdkSslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import java.io.IOException;
import java.nio.file.Path;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;

/**
 * TLS of a server port ({@code --tls-cert}, {@code --tls-key}, {@code --tls-client-ca}).
 *
 * @param cert     PEM certificate chain the server presents
 * @param key      its PEM private key, PKCS#8 ({@code BEGIN PRIVATE KEY}; {@code openssl genpkey} writes that)
 * @param clientCa PEM CA certificates; when given, clients must present a certificate signed by one
 *                 (mutual TLS), or null
 */
public record ServerTls(Path cert, Path key, Path clientCa) {

    /** No TLS: plaintext HTTP/2. */
    public static final ServerTls NONE = new ServerTls(null, null, null);

    public ServerTls {
        if ((cert == null) != (key == null)) {
            throw new IllegalArgumentException("TLS needs both --tls-cert and --tls-key");
        }
        if (clientCa != null && cert == null) {
            throw new IllegalArgumentException(
                    "--tls-client-ca needs --tls-cert and --tls-key: client certificates are checked only over TLS");
        }
    }

    public boolean enabled() {
        return cert != null;
    }

    /** The gRPC credentials; reads the files now, so a bad path or PEM fails at start with its name. */
    public ServerCredentials credentials() throws IOException {
        if (!enabled()) {
            return InsecureServerCredentials.create();
        }
        try {
            TlsServerCredentials.Builder builder = TlsServerCredentials.newBuilder()
                    .keyManager(
                            ReadableFile.require(cert, "--tls-cert").toFile(),
                            ReadableFile.require(key, "--tls-key").toFile());
            if (clientCa != null) {
                builder.trustManager(ReadableFile.require(clientCa, "--tls-client-ca")
                                .toFile())
                        .clientAuth(TlsServerCredentials.ClientAuth.REQUIRE);
            }
            return builder.build();
        } catch (IOException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new IOException(
                    "cannot use --tls-cert " + cert + " / --tls-key " + key
                            + " (PEM certificate and PKCS#8 PEM key expected): " + e.getMessage(),
                    e);
        }
    }

    /**
     * The same certificate, key and client CA as a JDK SSLContext, for a port that is not gRPC
     * (the cache-server's data port). Whoever binds it requires client certificates when
     * {@link #clientCa()} is set.
     */
    public SSLContext sslContext() throws IOException {
        try {
            SslContextBuilder builder = SslContextBuilder.forServer(
                            ReadableFile.require(cert, "--tls-cert").toFile(),
                            ReadableFile.require(key, "--tls-key").toFile())
                    .sslProvider(SslProvider.JDK);
            if (clientCa != null) {
                builder.trustManager(ReadableFile.require(clientCa, "--tls-client-ca")
                                .toFile())
                        .clientAuth(ClientAuth.REQUIRE);
            }
            return ((JdkSslContext) builder.build()).context();
        } catch (SSLException | RuntimeException e) {
            throw new IOException(
                    "cannot use --tls-cert " + cert + " / --tls-key " + key
                            + " (PEM certificate and PKCS#8 PEM key expected): " + e.getMessage(),
                    e);
        }
    }

    /** How the port is served, for the start log line. */
    public String describe() {
        return !enabled()
                ? "plaintext"
                : clientCa == null ? "TLS" : "mutual TLS (client certificates from " + clientCa + ")";
    }
}
