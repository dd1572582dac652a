package dev.stagefarm.cli.commands;

import dev.stagefarm.common.client.ClientSecurity;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * How a client command (build, workers, cache du/prune, worker, and the coordinator towards its
 * cache-server) authenticates: a token and TLS. Each option also comes from the stagefarm config
 * file or, for the token, from {@code STAGEFARM_TOKEN} ({@link ConfigDefaults}); a flag wins over
 * the environment, which wins over the file.
 */
public final class ClientAuthOptions {

    @Option(
            names = "--token",
            paramLabel = "TOKEN",
            description = "Bearer token for the farm (default: $STAGEFARM_TOKEN, or token= in the config file).")
    String token;

    @Option(
            names = "--token-file",
            paramLabel = "FILE",
            description = "Read the token from FILE, e.g. a mounted Kubernetes Secret (used when no --token is given).")
    Path tokenFile;

    @Option(names = "--tls-ca", paramLabel = "FILE", description = "PEM CA certificates to trust; turns TLS on.")
    Path tlsCa;

    @Option(
            names = "--tls-client-cert",
            paramLabel = "FILE",
            description = "PEM certificate presented to servers that require client certificates (mutual TLS).")
    Path tlsClientCert;

    @Option(names = "--tls-client-key", paramLabel = "FILE", description = "The PKCS#8 PEM key of --tls-client-cert.")
    Path tlsClientKey;

    /** The token (flag, env, file in that order; see {@link ConfigDefaults}) and TLS settings in effect. */
    public ClientSecurity security() throws IOException {
        String effective = token;
        if ((effective == null || effective.isBlank()) && tokenFile != null) {
            if (!Files.isReadable(tokenFile)) {
                throw new IOException("--token-file " + tokenFile + " does not exist or cannot be read");
            }
            effective = Files.readString(tokenFile).strip();
            if (effective.isEmpty()) {
                throw new IOException("--token-file " + tokenFile + " is empty; it should hold the token on one line");
            }
        }
        if (effective != null && effective.isBlank()) {
            effective = null;
        }
        try {
            return new ClientSecurity(effective, tlsCa, tlsClientCert, tlsClientKey, false);
        } catch (IllegalArgumentException e) {
            throw new IOException(
                    e.getMessage().replace("--tls-cert and --tls-key", "--tls-client-cert and --tls-client-key"), e);
        }
    }
}
