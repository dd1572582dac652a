package dev.stagefarm.common.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Throw-away certificates made with the openssl CLI for one test: a CA, a server certificate
 * for 127.0.0.1 and localhost, and a client certificate, all signed by the CA. Keys are PKCS#8
 * PEM, as the servers expect; they live in the test's temporary directory only. Shared with
 * other modules' tests through this module's test jar.
 */
public record TestPki(Path ca, Path serverCert, Path serverKey, Path clientCert, Path clientKey) {

    public static TestPki create(Path dir) throws IOException, InterruptedException {
        Files.createDirectories(dir);
        Path ca = dir.resolve("ca.pem");
        Path caKey = dir.resolve("ca.key");
        openssl(
                dir,
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:prime256v1",
                "-nodes",
                "-keyout",
                caKey.toString(),
                "-out",
                ca.toString(),
                "-days",
                "2",
                "-subj",
                "/CN=stagefarm test CA");
        Path ext = dir.resolve("server.ext");
        Files.writeString(ext, "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
        Path serverCert = sign(dir, "server", ca, caKey, ext);
        Path clientExt = dir.resolve("client.ext");
        Files.writeString(clientExt, "extendedKeyUsage=clientAuth\n");
        Path clientCert = sign(dir, "client", ca, caKey, clientExt);
        return new TestPki(ca, serverCert, dir.resolve("server.key"), clientCert, dir.resolve("client.key"));
    }

    private static Path sign(Path dir, String name, Path ca, Path caKey, Path ext)
            throws IOException, InterruptedException {
        Path csr = dir.resolve(name + ".csr");
        Path cert = dir.resolve(name + ".pem");
        openssl(
                dir,
                "req",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:prime256v1",
                "-nodes",
                "-keyout",
                dir.resolve(name + ".key").toString(),
                "-out",
                csr.toString(),
                "-subj",
                "/CN=" + name);
        openssl(
                dir,
                "x509",
                "-req",
                "-in",
                csr.toString(),
                "-CA",
                ca.toString(),
                "-CAkey",
                caKey.toString(),
                "-CAcreateserial",
                "-out",
                cert.toString(),
                "-days",
                "2",
                "-extfile",
                ext.toString());
        return cert;
    }

    private static void openssl(Path dir, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("openssl"));
        command.addAll(List.of(args));
        Process process = new ProcessBuilder(command)
                .directory(dir.toFile())
                .redirectErrorStream(true)
                .start();
        String output = new String(process.getInputStream().readAllBytes());
        if (process.waitFor() != 0) {
            throw new IOException(String.join(" ", command) + " failed: " + output);
        }
    }
}
