package dev.stagefarm.worker.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.stagefarm.cacheclient.CacheClient;
import dev.stagefarm.cacheserver.CacheServer;
import dev.stagefarm.cacheserver.CacheServerConfig;
import dev.stagefarm.common.Digest;
import dev.stagefarm.common.net.HostPort;
import dev.stagefarm.proto.farm.ContextEntry;
import dev.stagefarm.proto.farm.ContextManifest;
import io.grpc.ManagedChannel;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A context manifest is the client's input: the worker lays it out, and nothing outside it. */
@Tag("root")
class ContextMaterializerTest {

    @TempDir
    Path tmp;

    private CacheServer server;
    private ManagedChannel channel;
    private CacheClient cache;
    private ContextMaterializer contexts;

    @BeforeEach
    void setUp() throws Exception {
        String name = InProcessServerBuilder.generateName();
        server = new CacheServer(
                        new CacheServerConfig(HostPort.parse("127.0.0.1:0"), tmp.resolve("cache")),
                        new SimpleMeterRegistry(),
                        InProcessServerBuilder.forName(name))
                .start();
        channel = InProcessChannelBuilder.forName(name).build();
        cache = new CacheClient(channel);
        contexts = new ContextMaterializer(tmp.resolve("contexts"), cache, new ContentStore(tmp.resolve("content")));
    }

    @AfterEach
    void tearDown() throws Exception {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        server.close();
    }

    @Test
    void filesHardLinksAndSymlinksLandInsideTheContext() throws Exception {
        Digest hello = cache.upload("hello\n".getBytes(StandardCharsets.UTF_8));
        Path dir = contexts.materialize(
                upload(ContextManifest.newBuilder()
                        .addEntries(file("src/a.txt", hello))
                        .addEntries(ContextEntry.newBuilder()
                                .setPath("src/b.txt")
                                .setType(ContextEntry.Type.HARDLINK)
                                .setLinkTarget("src/a.txt"))
                        .addEntries(ContextEntry.newBuilder()
                                .setPath("link")
                                .setType(ContextEntry.Type.SYMLINK)
                                .setLinkTarget("/etc"))
                        .build()),
                new AtomicLong());
        assertThat(dir.resolve("src/a.txt")).hasContent("hello");
        assertThat(Files.getAttribute(dir.resolve("src/b.txt"), "unix:ino"))
                .isEqualTo(Files.getAttribute(dir.resolve("src/a.txt"), "unix:ino"));
        assertThat(Files.readSymbolicLink(dir.resolve("link"))).isEqualTo(Path.of("/etc"));
    }

    @Test
    void anEntryBelowASymlinkIsRefusedAndNothingIsWrittenThroughIt() throws Exception {
        Path outside = Files.createDirectories(tmp.resolve("outside"));
        Digest evil = cache.upload("owned\n".getBytes(StandardCharsets.UTF_8));
        Digest manifest = upload(ContextManifest.newBuilder()
                .addEntries(ContextEntry.newBuilder()
                        .setPath("a")
                        .setType(ContextEntry.Type.SYMLINK)
                        .setLinkTarget(outside.toString()))
                .addEntries(file("a/evil", evil))
                .build());
        assertThatThrownBy(() -> contexts.materialize(manifest, new AtomicLong()))
                .hasMessageContaining("context entry a/evil lies below the symlink a");
        assertThat(outside).isEmptyDirectory();
    }

    @Test
    void aHardLinkCannotReachAHostFileThroughASymlink() throws Exception {
        Path outside = Files.createDirectories(tmp.resolve("host"));
        Files.writeString(outside.resolve("shadow"), "secret\n");
        Digest manifest = upload(ContextManifest.newBuilder()
                .addEntries(ContextEntry.newBuilder()
                        .setPath("a")
                        .setType(ContextEntry.Type.SYMLINK)
                        .setLinkTarget(outside.toString()))
                .addEntries(ContextEntry.newBuilder()
                        .setPath("copy")
                        .setType(ContextEntry.Type.HARDLINK)
                        .setLinkTarget("a/shadow"))
                .build());
        assertThatThrownBy(() -> contexts.materialize(manifest, new AtomicLong()))
                .hasMessageContaining("lies below the symlink a");
    }

    private Digest upload(ContextManifest manifest) throws Exception {
        return cache.upload(manifest.toByteArray());
    }

    private static ContextEntry file(String path, Digest digest) {
        return ContextEntry.newBuilder()
                .setPath(path)
                .setType(ContextEntry.Type.FILE)
                .setMode(0644)
                .setDigest(digest.toString())
                .build();
    }
}
