package dev.stagefarm.worker.ops;

import com.google.common.base.Supplier;
import com.google.common.base.Suppliers;
import dev.stagefarm.common.Digest;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Optional;

/**
 * ADD of an http(s) URL: downloads into a directory under the name BuildKit gives the file (the
 * last path component of the URL), with mode 0600 and the server's Last-Modified time, and
 * checks {@code --checksum} when given.
 */
public final class UrlFetcher {

    private static final Duration TIMEOUT = Duration.ofMinutes(30);

    /**
     * Built on first use: an HTTP client starts a selector thread that waits in a system call,
     * and a JVM asked to exit waits up to 300 ms for such threads; most builds fetch no URL.
     */
    private final Supplier<HttpClient> http;

    public UrlFetcher(HttpClient http) {
        this.http = () -> http;
    }

    public UrlFetcher() {
        this.http = Suppliers.memoize(() -> HttpClient.newBuilder()
                .followRedirects(HttpClient.Redirect.NORMAL)
                .connectTimeout(Duration.ofSeconds(30))
                .build());
    }

    /** @return the fetched file's name within {@code dir} */
    public String fetch(String url, Optional<String> checksum, Path dir) throws CopyException, IOException {
        URI uri = URI.create(url);
        String name = fileName(uri);
        Path file = dir.resolve(name);
        HttpResponse<InputStream> response;
        try {
            response = http.get()
                    .send(
                            HttpRequest.newBuilder(uri).timeout(TIMEOUT).GET().build(),
                            HttpResponse.BodyHandlers.ofInputStream());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("fetching " + url + " was interrupted", e);
        }
        MessageDigest sha = Digest.newSha256();
        try (InputStream in = response.body()) {
            if (response.statusCode() / 100 != 2) {
                throw new CopyException("fetching " + url + ": the server answered HTTP " + response.statusCode());
            }
            try (OutputStream out = new DigestOutputStream(Files.newOutputStream(file), sha)) {
                in.transferTo(out);
            }
        }
        String got = Digest.fromBytes(sha.digest()).toString();
        if (checksum.isPresent() && !checksum.get().equals(got)) {
            Files.deleteIfExists(file);
            throw new CopyException(
                    "checksum of " + url + " does not match: expected " + checksum.get() + ", got " + got);
        }
        Files.setAttribute(file, "unix:mode", 0600);
        Optional<String> modified = response.headers().firstValue("Last-Modified");
        if (modified.isPresent()) {
            try {
                Files.setLastModifiedTime(
                        file,
                        FileTime.from(ZonedDateTime.parse(modified.get(), DateTimeFormatter.RFC_1123_DATE_TIME)
                                .toInstant()));
            } catch (DateTimeParseException e) {
                // an unreadable date leaves the download time; the content is what matters
            }
        }
        return name;
    }

    static String fileName(URI uri) {
        String path = uri.getPath() == null ? "" : uri.getPath();
        String last = path.substring(path.lastIndexOf('/') + 1);
        return last.isEmpty() || last.equals(".") || last.equals("..") ? "__unnamed__" : last;
    }
}
