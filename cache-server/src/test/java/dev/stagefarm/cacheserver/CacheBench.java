package dev.stagefarm.cacheserver;

import dev.stagefarm.cacheclient.CacheClient;
import dev.stagefarm.common.Digest;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * bench/cache/run's harness: the cache-server (a separate process, loopback gRPC) against
 * Debian's docker-registry (HTTP API) and against one thread hashing the file, in one run.
 * {@code CacheBench WORK_DIR REGISTRY_URL}; prints a Markdown table with ratios to the targets.
 */
public final class CacheBench {

    private static final int MiB = 1 << 20;
    private static final long LARGE = 1L << 30;
    private static final int SMALL_COUNT = 10_000;
    private static final int SMALL_SIZE = 4096;
    private static final int FIND_MISSING_COUNT = 100_000;
    /**
     * Unmeasured 1 GiB reads before the three measured ones, on every side alike: the JIT of two
     * busy JVMs sharing two cores needs a few GiB before a read reaches its steady pace (the
     * first is about half as fast as the fourth), and a team's long-running server and workers
     * are measured best in that steady state.
     */
    private static final int WARM_UP_READS = 2;

    private final Path work;
    private final URI registry;
    private final HttpClient http =
            HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private final List<String> rows = new ArrayList<>();

    private CacheBench(Path work, URI registry) {
        this.work = work;
        this.registry = registry;
    }

    public static void main(String[] args) throws Exception {
        new CacheBench(Path.of(args[0]), URI.create(args[1])).run();
    }

    private void run() throws Exception {
        Files.createDirectories(work);
        if (registry.toString().equals("none")) {
            quick();
            return;
        }
        if (registry.toString().equals("large-read")) {
            largeRead();
            return;
        }
        Path large = work.resolve("large.bin");
        Digest largeDigest = writeRandomFile(large, LARGE);
        List<byte[]> small = new ArrayList<>();
        Random random = new Random(4);
        for (int i = 0; i < SMALL_COUNT; i++) {
            byte[] b = new byte[SMALL_SIZE];
            random.nextBytes(b);
            small.add(b);
        }

        // The physical limit of a verified read: one thread, the same file, sha256.
        for (int i = 0; i < WARM_UP_READS; i++) {
            hashFile(large, largeDigest);
        }
        double limit = 0;
        for (int i = 0; i < 3; i++) {
            limit = Math.max(limit, mbps(LARGE, time(() -> hashFile(large, largeDigest))));
        }
        progress("verified-read limit: %.0f MB/s", limit);

        Path logFile = work.resolve("cache-server.log");
        // An empty store every run: blobs left over from the last one would turn uploads into no-ops.
        deleteTree(work.resolve("cache-data"));
        CacheServerProcess.Started server =
                CacheServerProcess.start(work.resolve("cache-data"), logFile, "-Xmx1g", "-XX:+UseParallelGC");
        Results cache;
        Results reg;
        try (CacheClient client = CacheClient.connect("127.0.0.1:" + server.port())) {
            warmUpCache(client);
            cache = cacheServer(client, large, largeDigest, small);
            progress("cache-server: %s", cache);
        } finally {
            server.process().destroy();
            server.process().waitFor(30, TimeUnit.SECONDS);
        }
        double floor = socketFloor(large, largeDigest, 3);
        progress("socket floor: %.0f MB/s", floor);
        warmUpRegistry();
        reg = registry(large, largeDigest, small);
        progress("docker-registry: %s", reg);

        print(limit, floor, cache, reg);
    }

    /** Small blobs and FindMissing against the cache-server only: for profiling, not for the table. */
    private void quick() throws Exception {
        deleteTree(work.resolve("cache-data"));
        CacheServerProcess.Started server = CacheServerProcess.start(
                work.resolve("cache-data"), work.resolve("cache-server.log"), "-Xmx1g", "-XX:+UseParallelGC");
        try (CacheClient client = CacheClient.connect("127.0.0.1:" + server.port())) {
            warmUpCache(client);
            List<byte[]> small = new ArrayList<>();
            Random random = new Random(4);
            for (int i = 0; i < SMALL_COUNT; i++) {
                byte[] b = new byte[SMALL_SIZE];
                random.nextBytes(b);
                small.add(b);
            }
            List<Digest> digests = new ArrayList<>();
            progress("small write %.0f/s", SMALL_COUNT / seconds(time(() -> digests.addAll(client.uploadAll(small)))));
            progress("small read %.0f/s", SMALL_COUNT / seconds(time(() -> client.readAll(digests))));
            List<Digest> asked = new ArrayList<>(digests);
            while (asked.size() < FIND_MISSING_COUNT) {
                byte[] b = new byte[32];
                random.nextBytes(b);
                asked.add(Digest.fromBytes(b));
            }
            for (int i = 0; i < 5; i++) {
                progress("FindMissing 100,000: %.0f ms", time(() -> client.findMissing(asked)) / 1e6);
            }
        } finally {
            server.process().destroy();
            server.process().waitFor(30, TimeUnit.SECONDS);
        }
    }

    /**
     * The 1 GiB read alone, five times (or {@code CACHE_BENCH_READS}), with the CPU seconds each side spends per GiB,
     * then the same over the socket floor: for profiling the read path ({@code CACHE_BENCH_SERVER_JVM} adds options to the server's JVM).
     */
    private void largeRead() throws Exception {
        Path large = work.resolve("large.bin");
        Digest digest = writeRandomFile(large, LARGE);
        deleteTree(work.resolve("cache-data"));
        List<String> jvm = new ArrayList<>(List.of("-Xmx1g", "-XX:+UseParallelGC"));
        String extra = System.getenv("CACHE_BENCH_SERVER_JVM");
        if (extra != null && !extra.isBlank()) {
            jvm.addAll(List.of(extra.trim().split("\\s+")));
        }
        int reads = Integer.parseInt(System.getenv().getOrDefault("CACHE_BENCH_READS", "5"));
        CacheServerProcess.Started server = CacheServerProcess.start(
                work.resolve("cache-data"), work.resolve("cache-server.log"), jvm.toArray(String[]::new));
        try (CacheClient client = CacheClient.connect("127.0.0.1:" + server.port())) {
            warmUpCache(client);
            client.upload(digest, LARGE, large);
            progress(
                    "server pid %d, client pid %d",
                    server.process().pid(), ProcessHandle.current().pid());
            for (int i = 0; i < reads; i++) {
                long serverCpu = cpuNanos(server.process().toHandle());
                long clientCpu = cpuNanos(ProcessHandle.current());
                long took = time(() -> drain(client.open(digest)));
                progress(
                        "read 1 GiB: %.0f MB/s; CPU-s per GiB: server %.2f, client %.2f",
                        mbps(LARGE, took),
                        (cpuNanos(server.process().toHandle()) - serverCpu) / 1e9,
                        (cpuNanos(ProcessHandle.current()) - clientCpu) / 1e9);
            }
        } finally {
            server.process().destroy();
            server.process().waitFor(30, TimeUnit.SECONDS);
        }
        socketFloor(large, digest, reads);
    }

    /**
     * The best of {@code reads} verified 1 GiB reads over a plain TCP socket from a process that
     * sends the file ({@link SocketFloor}), after {@link #WARM_UP_READS} unmeasured ones.
     */
    private double socketFloor(Path large, Digest digest, int reads) throws Exception {
        CacheServerProcess.Started floor = CacheServerProcess.launch(
                SocketFloor.class, List.of(large.toString()), work.resolve("socket-floor.log"), "-Xmx256m");
        try {
            for (int i = 0; i < WARM_UP_READS; i++) {
                SocketFloor.read(floor.port(), digest);
            }
            double best = 0;
            for (int i = 0; i < reads; i++) {
                long floorCpu = cpuNanos(floor.process().toHandle());
                long clientCpu = cpuNanos(ProcessHandle.current());
                double mbps = mbps(LARGE, time(() -> SocketFloor.read(floor.port(), digest)));
                best = Math.max(best, mbps);
                if (registry.toString().equals("large-read")) {
                    progress(
                            "socket floor 1 GiB: %.0f MB/s; CPU-s per GiB: sender %.2f, client %.2f",
                            mbps,
                            (cpuNanos(floor.process().toHandle()) - floorCpu) / 1e9,
                            (cpuNanos(ProcessHandle.current()) - clientCpu) / 1e9);
                }
            }
            return best;
        } finally {
            floor.process().destroy();
            floor.process().waitFor(30, TimeUnit.SECONDS);
        }
    }

    private static long cpuNanos(ProcessHandle process) {
        return process.info().totalCpuDuration().orElseThrow().toNanos();
    }

    record Results(
            double largeWrite, double largeRead, double smallWrite, double smallRead, double findMissingMillis) {}

    private Results cacheServer(CacheClient client, Path large, Digest digest, List<byte[]> small) throws Exception {
        double write = mbps(LARGE, time(() -> client.upload(digest, LARGE, large)));
        for (int i = 0; i < WARM_UP_READS; i++) {
            drain(client.open(digest));
        }
        double read = 0;
        for (int i = 0; i < 3; i++) {
            read = Math.max(read, mbps(LARGE, time(() -> drain(client.open(digest)))));
        }
        List<Digest> digests = new ArrayList<>();
        double smallWrite = SMALL_COUNT / seconds(time(() -> digests.addAll(client.uploadAll(small))));
        double smallRead = 0;
        for (int i = 0; i < 3; i++) {
            long took = time(() -> {
                Map<Digest, byte[]> got = client.readAll(digests);
                if (got.size() != SMALL_COUNT) {
                    throw new IllegalStateException("read " + got.size() + " small blobs of " + SMALL_COUNT);
                }
            });
            smallRead = Math.max(smallRead, SMALL_COUNT / seconds(took));
        }
        // 100,000 digests: the 10,000 stored ones and 90,000 the cache lacks.
        List<Digest> asked = new ArrayList<>(digests);
        Random random = new Random(5);
        while (asked.size() < FIND_MISSING_COUNT) {
            byte[] b = new byte[32];
            random.nextBytes(b);
            asked.add(Digest.fromBytes(b));
        }
        long best = Long.MAX_VALUE;
        for (int i = 0; i < 5; i++) {
            Set<Digest> missing = new HashSet<>();
            best = Math.min(best, time(() -> missing.addAll(client.findMissing(asked))));
            if (missing.size() != FIND_MISSING_COUNT - SMALL_COUNT) {
                throw new IllegalStateException("FindMissing said " + missing.size() + " are missing");
            }
        }
        return new Results(write, read, smallWrite, smallRead, best / 1e6);
    }

    private Results registry(Path large, Digest digest, List<byte[]> small) throws Exception {
        double write = mbps(LARGE, time(() -> registryPut(digest, HttpRequest.BodyPublishers.ofFile(large))));
        for (int i = 0; i < WARM_UP_READS; i++) {
            registryGet(digest);
        }
        double read = 0;
        for (int i = 0; i < 3; i++) {
            read = Math.max(read, mbps(LARGE, time(() -> registryGet(digest))));
        }
        List<Digest> digests = small.stream().map(Digest::of).toList();
        double smallWrite = SMALL_COUNT
                / seconds(time(() -> {
                    for (int i = 0; i < SMALL_COUNT; i++) {
                        registryPut(digests.get(i), HttpRequest.BodyPublishers.ofByteArray(small.get(i)));
                    }
                }));
        double smallRead = 0;
        for (int r = 0; r < 3; r++) {
            smallRead = Math.max(
                    smallRead,
                    SMALL_COUNT
                            / seconds(time(() -> {
                                for (Digest d : digests) {
                                    registryGet(d);
                                }
                            })));
        }
        return new Results(write, read, smallWrite, smallRead, Double.NaN);
    }

    /** A monolithic upload: POST for a session, then one PUT with the bytes and the digest. */
    private void registryPut(Digest digest, HttpRequest.BodyPublisher body) throws IOException, InterruptedException {
        HttpResponse<Void> started = http.send(
                HttpRequest.newBuilder(registry.resolve("/v2/bench/blobs/uploads/"))
                        .POST(HttpRequest.BodyPublishers.noBody())
                        .build(),
                HttpResponse.BodyHandlers.discarding());
        expect(started, 202);
        String location = started.headers().firstValue("Location").orElseThrow();
        URI put = registry.resolve(location + (location.contains("?") ? "&" : "?") + "digest=" + digest);
        HttpResponse<Void> done = http.send(
                HttpRequest.newBuilder(put)
                        .header("Content-Type", "application/octet-stream")
                        .PUT(body)
                        .build(),
                HttpResponse.BodyHandlers.discarding());
        expect(done, 201);
    }

    /** Reads the blob and throws the bytes away: the registry verifies nothing, and neither does this. */
    private void registryGet(Digest digest) throws IOException, InterruptedException {
        HttpResponse<InputStream> got = http.send(
                HttpRequest.newBuilder(registry.resolve("/v2/bench/blobs/" + digest))
                        .GET()
                        .build(),
                HttpResponse.BodyHandlers.ofInputStream());
        expect(got, 200);
        try (InputStream in = got.body()) {
            in.transferTo(OutputStream.nullOutputStream());
        }
    }

    private static void expect(HttpResponse<?> response, int status) throws IOException {
        if (response.statusCode() != status) {
            throw new IOException(response.request().method() + " " + response.uri() + " answered "
                    + response.statusCode() + ", expected " + status);
        }
    }

    private void warmUpCache(CacheClient client) throws Exception {
        byte[] blob = new byte[64 * MiB];
        new Random(1).nextBytes(blob);
        Digest d = client.upload(blob);
        for (int i = 0; i < 3; i++) {
            drain(client.open(d));
        }
        List<byte[]> small = new ArrayList<>();
        Random random = new Random(2);
        for (int i = 0; i < 2_000; i++) {
            byte[] b = new byte[SMALL_SIZE];
            random.nextBytes(b);
            small.add(b);
        }
        List<Digest> digests = client.uploadAll(small);
        for (int i = 0; i < 3; i++) {
            client.readAll(digests);
            client.findMissing(digests);
        }
    }

    private void warmUpRegistry() throws Exception {
        Random random = new Random(3);
        for (int i = 0; i < 200; i++) {
            byte[] b = new byte[SMALL_SIZE];
            random.nextBytes(b);
            registryPut(Digest.of(b), HttpRequest.BodyPublishers.ofByteArray(b));
            registryGet(Digest.of(b));
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        if (Files.exists(dir)) {
            try (var paths = Files.walk(dir)) {
                paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    private static void progress(String format, Object... args) {
        System.out.printf(Locale.ROOT, "  " + format + "%n", args);
    }

    private static void drain(InputStream in) throws IOException {
        // The client's stream verifies the digest before it reports the end.
        try (in) {
            in.transferTo(OutputStream.nullOutputStream());
        }
    }

    private static void hashFile(Path file, Digest expected) throws IOException {
        MessageDigest sha256 = Digest.newSha256();
        ByteBuffer buffer = ByteBuffer.allocateDirect(MiB);
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            while (channel.read(buffer) >= 0) {
                buffer.flip();
                sha256.update(buffer);
                buffer.clear();
            }
        }
        if (!Digest.fromBytes(sha256.digest()).equals(expected)) {
            throw new IllegalStateException(file + " changed");
        }
    }

    private static Digest writeRandomFile(Path file, long size) throws IOException {
        MessageDigest sha256 = Digest.newSha256();
        Random random = new Random(6);
        byte[] block = new byte[MiB];
        try (OutputStream out = Files.newOutputStream(file)) {
            for (long written = 0; written < size; written += MiB) {
                random.nextBytes(block);
                sha256.update(block);
                out.write(block);
            }
        }
        return Digest.fromBytes(sha256.digest());
    }

    private void print(double limit, double floor, Results cache, Results reg) {
        System.out.println();
        System.out.println(
                "| measurement | cache-server | docker-registry | verified-read limit | ratio | target | met |");
        System.out.println("|---|---:|---:|---:|---|---|---|");
        row(
                "write 1 GiB blob (MB/s)",
                cache.largeWrite(),
                reg.largeWrite(),
                Double.NaN,
                "cache / registry",
                cache.largeWrite() / reg.largeWrite(),
                "—",
                true);
        double ofLimit = cache.largeRead() / limit;
        double ofRegistry = cache.largeRead() / reg.largeRead();
        row(
                "read 1 GiB blob (MB/s)",
                cache.largeRead(),
                reg.largeRead(),
                limit,
                "cache / limit",
                ofLimit,
                "≥ 0.70",
                ofLimit >= 0.70);
        row("", Double.NaN, Double.NaN, Double.NaN, "cache / registry", ofRegistry, "≥ 0.5", ofRegistry >= 0.5);
        row(
                "socket floor: the same read over a plain TCP socket, no protocol or store (MB/s)",
                floor,
                Double.NaN,
                limit,
                "socket / limit",
                floor / limit,
                "—",
                true);
        row("", Double.NaN, Double.NaN, Double.NaN, "cache / socket", cache.largeRead() / floor, "—", true);
        double smallW = cache.smallWrite() / reg.smallWrite();
        row(
                "write 10,000 × 4 KiB (blobs/s)",
                cache.smallWrite(),
                reg.smallWrite(),
                Double.NaN,
                "cache / registry",
                smallW,
                "≥ 2× and ≥ 2,000/s",
                smallW >= 2 && cache.smallWrite() >= 2_000);
        double smallR = cache.smallRead() / reg.smallRead();
        row(
                "read 10,000 × 4 KiB (blobs/s)",
                cache.smallRead(),
                reg.smallRead(),
                Double.NaN,
                "cache / registry",
                smallR,
                "≥ 2× and ≥ 2,000/s",
                smallR >= 2 && cache.smallRead() >= 2_000);
        System.out.printf(
                Locale.ROOT,
                "| FindMissing 100,000 digests, batches of 10,000 (ms) | %.0f | — | — | — | < 200 ms | %s |%n",
                cache.findMissingMillis(),
                cache.findMissingMillis() < 200 ? "yes" : "**no**");
    }

    private static void row(
            String what,
            double cache,
            double reg,
            double limit,
            String ratioName,
            double ratio,
            String target,
            boolean met) {
        System.out.printf(
                Locale.ROOT,
                "| %s | %s | %s | %s | %s %.2f | %s | %s |%n",
                what,
                num(cache),
                num(reg),
                num(limit),
                ratioName,
                ratio,
                target,
                target.equals("—") ? "—" : met ? "yes" : "**no**");
    }

    private static String num(double v) {
        return Double.isNaN(v) ? "" : String.format(Locale.ROOT, "%,.0f", v);
    }

    private static double mbps(long bytes, long nanos) {
        return bytes / 1e6 / seconds(nanos);
    }

    private static double seconds(long nanos) {
        return nanos / 1e9;
    }

    private interface Step {
        void run() throws Exception;
    }

    private static long time(Step step) throws Exception {
        long start = System.nanoTime();
        step.run();
        return System.nanoTime() - start;
    }
}
