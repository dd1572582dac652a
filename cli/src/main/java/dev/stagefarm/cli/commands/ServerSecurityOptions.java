package dev.stagefarm.cli.commands;

import dev.stagefarm.common.server.ServerTls;
import java.io.IOException;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** {@code --tokens} and TLS of a server port (cache-server, coordinator). */
public final class ServerSecurityOptions {

    @Option(
            names = "--tokens",
            paramLabel = "FILE",
            description =
                    "JSON tokens file: who may call, with which team and scopes (without it every caller is accepted). "
                            + "Re-read when it changes.")
    Path tokens;

    @Option(names = "--tls-cert", paramLabel = "FILE", description = "PEM certificate chain to serve TLS with.")
    Path tlsCert;

    @Option(names = "--tls-key", paramLabel = "FILE", description = "The PKCS#8 PEM key of --tls-cert.")
    Path tlsKey;

    @Option(
            names = "--tls-client-ca",
            paramLabel = "FILE",
            description = "Require client certificates signed by these PEM CAs (mutual TLS).")
    Path tlsClientCa;

    public ServerTls tls() throws IOException {
        try {
            return new ServerTls(tlsCert, tlsKey, tlsClientCa);
        } catch (IllegalArgumentException e) {
            throw new IOException(e.getMessage(), e);
        }
    }

    /** The tokens file, or null. */
    public Path tokens() {
        return tokens;
    }
}
