package dev.stagefarm.oci.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpResponse;

/** Turns an unexpected registry answer into a sentence: who answered, what, and what to do. */
final class RegistryErrors {

    static final String PUBLISH_HINT = "is the image published, and is its name right?";

    private RegistryErrors() {}

    /** Reads (a bounded part of) the body, closes it, and builds the exception. */
    static RegistryException of(URI base, HttpResponse<InputStream> r, String notFoundHint) {
        int status = r.statusCode();
        String code = null;
        String message = null;
        try (InputStream in = r.body()) {
            byte[] body = in.readNBytes(64 * 1024);
            JsonNode err = new ObjectMapper().readTree(body).path("errors").path(0);
            code = err.path("code").isMissingNode() ? null : err.path("code").asText();
            message = err.path("message").isMissingNode()
                    ? null
                    : err.path("message").asText();
        } catch (IOException | RuntimeException ignored) {
            // not a Distribution error body: the status alone must do
        }
        StringBuilder s =
                new StringBuilder("registry ").append(base).append(" answered ").append(status);
        if (code != null) {
            s.append(' ').append(code);
        }
        if (message != null
                && !message.isBlank()
                && (code == null || !message.equalsIgnoreCase(code.replace('_', ' ')))) {
            s.append(" (").append(message).append(')');
        }
        return new RegistryException(
                s.append(": ").append(hint(base, status, code, notFoundHint)).toString(), status, code, null);
    }

    private static String hint(URI base, int status, String code, String notFoundHint) {
        String host = Authenticator.hostPort(base);
        if (status == 404
                || "MANIFEST_UNKNOWN".equals(code)
                || "NAME_UNKNOWN".equals(code)
                || "BLOB_UNKNOWN".equals(code)) {
            return notFoundHint;
        }
        if (status == 401) {
            return "add credentials for " + host + " to ~/.docker/config.json (docker login " + host + ")";
        }
        if (status == 403 || "DENIED".equals(code)) {
            return "the credentials for " + host + " are not allowed this; check the repository's permissions";
        }
        if (status == 429 || "TOOMANYREQUESTS".equals(code)) {
            return "the registry rate-limits us: configure a mirror with --registry-mirror, or log in";
        }
        if ("DIGEST_INVALID".equals(code) || "SIZE_INVALID".equals(code)) {
            return "the uploaded bytes do not match their digest: the local blob is corrupt, rebuild it";
        }
        if ("MANIFEST_BLOB_UNKNOWN".equals(code) || "MANIFEST_INVALID".equals(code)) {
            return "the manifest names blobs the registry lacks or is malformed: push its blobs first";
        }
        if (status >= 500) {
            return "the registry itself failed; retry later or check its logs";
        }
        return "unexpected answer; check the registry's logs";
    }
}
