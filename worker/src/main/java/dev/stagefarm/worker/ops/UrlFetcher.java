package dev.stagefarm.worker.ops;

import com.google.common.base.Supplier;
import com.google.common.base.Suppliers;
import dev.stagefarm.cacheclient.Units;
import dev.stagefarm.common.Digest;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
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
import org.apache.hc.client5.http.classic.methods.HttpGet;
import org.apache.hc.client5.http.config.ConnectionConfig;
import org.apache.hc.client5.http.config.RequestConfig;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.client5.http.impl.classic.HttpClients;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManagerBuilder;
import org.apache.hc.core5.http.ClassicHttpResponse;
import org.apache.hc.core5.http.Header;
import org.apache.hc.core5.http.HttpEntity;
import org.apache.hc.core5.util.Timeout;

/**
 * ADD of an http(s) URL: downloads into a directory under the name BuildKit gives the file (the
 * last path component of the URL), with mode 0600 and the server's Last-Modified time, and
 * checks {@code --checksum} when given. Only public addresses, or those the farm allows
 * ({@link FetchPolicy}), and at most {@code --max-fetch-size} bytes, counted as they arrive.
 */
public final class UrlFetcher {

    /** The longest one download may take, however steadily a slow server trickles bytes. */
    private static final Duration TIMEOUT = Duration.ofMinutes(30);

    private static final int MAX_REDIRECTS = 10;

    private final InputLimits limits;

    /**
     * Built on first use: most builds fetch no URL. No proxy from the environment (it would connect
     * to addresses this fetcher never checked), no transparent decompression (the checksum is of
     * the bytes served, and a gzip Content-Encoding would be a bomb past the size count), no retries.
     */
    private final Supplier<CloseableHttpClient> http;

    public UrlFetcher(InputLimits limits) {
        this.limits = limits;
        this.http = Suppliers.memoize(() -> HttpClients.custom()
                .setConnectionManager(PoolingHttpClientConnectionManagerBuilder.create()
                        .setDnsResolver(new FetchPolicy(limits.allowFetch(), limits.denyFetch()))
                        .setDefaultConnectionConfig(ConnectionConfig.custom()
                                .setConnectTimeout(Timeout.ofSeconds(30))
                                .setSocketTimeout(Timeout.ofMinutes(2))
                                .build())
                        .build())
                .setDefaultRequestConfig(RequestConfig.custom()
                        .setMaxRedirects(MAX_REDIRECTS)
                        .setResponseTimeout(Timeout.ofMinutes(2))
                        .build())
                .disableContentCompression()
                .disableAutomaticRetries()
                .disableCookieManagement()
                .disableAuthCaching()
                .setUserAgent("stagefarm")
                .build());
    }

    public UrlFetcher() {
        this(InputLimits.DEFAULTS);
    }

    /** @return the fetched file's name within {@code dir} */
    public String fetch(String url, Optional<String> checksum, Path dir) throws CopyException, IOException {
        URI uri;
        try {
            uri = URI.create(url);
        } catch (IllegalArgumentException e) {
            throw new CopyException(url + " is not a URL: " + e.getMessage());
        }
        if (!"http".equalsIgnoreCase(uri.getScheme()) && !"https".equalsIgnoreCase(uri.getScheme())) {
            throw new CopyException(url + " is not an http or https URL, the only ones ADD fetches");
        }
        String name = fileName(uri);
        Path file = dir.resolve(name);
        MessageDigest sha = Digest.newSha256();
        Optional<String> modified;
        try (ClassicHttpResponse response = http.get().executeOpen(null, new HttpGet(uri), null)) {
            if (response.getCode() / 100 != 2) {
                throw new CopyException("fetching " + url + ": the server answered HTTP " + response.getCode());
            }
            HttpEntity entity = response.getEntity();
            if (entity != null && entity.getContentLength() > limits.maxFetchBytes()) {
                // the header only lets a refusal come early; the count below is what holds
                throw tooLarge(url);
            }
            try (InputStream in = entity == null ? InputStream.nullInputStream() : entity.getContent();
                    OutputStream out = new DigestOutputStream(Files.newOutputStream(file), sha)) {
                copyBounded(url, in, out);
            }
            Header lastModified = response.getFirstHeader("Last-Modified");
            modified = Optional.ofNullable(lastModified).map(Header::getValue);
        } catch (FetchPolicy.FetchRefusedException e) {
            throw refused(uri, e);
        } catch (CopyException | IOException e) {
            Files.deleteIfExists(file);
            throw e;
        }
        String got = Digest.fromBytes(sha.digest()).toString();
        if (checksum.isPresent() && !checksum.get().equals(got)) {
            Files.deleteIfExists(file);
            throw new CopyException(
                    "checksum of " + url + " does not match: expected " + checksum.get() + ", got " + got);
        }
        Files.setAttribute(file, "unix:mode", 0600);
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

    private void copyBounded(String url, InputStream in, OutputStream out) throws CopyException, IOException {
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        byte[] buffer = new byte[1 << 16];
        long total = 0;
        for (int n; (n = in.read(buffer)) > 0; ) {
            total += n;
            if (total > limits.maxFetchBytes()) {
                throw tooLarge(url);
            }
            if (System.nanoTime() > deadline) {
                throw new CopyException("fetching " + url + " took longer than " + TIMEOUT.toMinutes()
                        + " minutes: use a faster source, or fetch it in a RUN step");
            }
            out.write(buffer, 0, n);
        }
    }

    private CopyException tooLarge(String url) {
        return new CopyException(url + " is larger than this worker's --max-fetch-size of "
                + Units.formatSize(limits.maxFetchBytes())
                + ": raise --max-fetch-size on the workers if it is meant to be this big");
    }

    private static CopyException refused(URI uri, FetchPolicy.FetchRefusedException e) {
        String host = e.host();
        boolean literal = FetchPolicy.literal(host).map(e.address::equals).orElse(false);
        String named = host + (literal ? "" : " (" + e.address.getHostAddress() + ")");
        int port = uri.getPort() >= 0 ? uri.getPort() : "https".equalsIgnoreCase(uri.getScheme()) ? 443 : 80;
        boolean asked = host.equalsIgnoreCase(FetchPolicy.trim(uri.getHost())) && e.port == port;
        return new CopyException("fetching " + uri + " refused: " + (asked ? "" : "a redirect to ") + named + " is "
                + e.kind + ", which builds may not fetch from (a farm operator can allow it with the worker flag "
                + e.allowFlag() + ")");
    }

    static String fileName(URI uri) {
        String path = uri.getPath() == null ? "" : uri.getPath();
        String last = path.substring(path.lastIndexOf('/') + 1);
        return last.isEmpty() || last.equals(".") || last.equals("..") ? "__unnamed__" : last;
    }
}
