package dev.stagefarm.worker.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import com.sun.net.httpserver.HttpServer;
import dev.stagefarm.common.Digest;
import dev.stagefarm.common.net.HostPort;
import dev.stagefarm.proto.cache.Layer;
import dev.stagefarm.proto.farm.CopyOp;
import dev.stagefarm.proto.farm.CopySource;
import dev.stagefarm.proto.farm.FileMode;
import dev.stagefarm.proto.farm.ImageSource;
import dev.stagefarm.proto.farm.InlineSource;
import dev.stagefarm.proto.farm.Job;
import dev.stagefarm.proto.farm.MkdirOp;
import dev.stagefarm.proto.farm.RunMount;
import dev.stagefarm.proto.farm.RunOp;
import dev.stagefarm.proto.farm.SecretMount;
import dev.stagefarm.proto.farm.Step;
import dev.stagefarm.proto.farm.UrlSource;
import dev.stagefarm.worker.exec.BusyboxRootfs;
import dev.stagefarm.worker.exec.RuncExecutor;
import dev.stagefarm.worker.exec.StepOutput;
import dev.stagefarm.worker.ops.InputLimits;
import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.GZIPOutputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Steps that need neither the cache nor snapshots: heredoc COPY, ADD of a URL, WORKDIR, RUN with secrets. */
@Tag("root")
class StepExecutorTest {

    @TempDir
    static Path tmp;

    static StepExecutor steps;
    static RuncExecutor runc;

    Path rootfs;
    final Job job = Job.newBuilder()
            .setDockerfileName("Dockerfile")
            .putSecrets("token", ByteString.copyFromUtf8("s3cr3t-value"))
            .build();

    @BeforeAll
    static void setUp() throws Exception {
        runc = RuncExecutor.open(RuncExecutor.Config.defaults(tmp.resolve("worker")));
        steps = new StepExecutor(runc, null, null, null, null, tmp.resolve("worker"));
    }

    @BeforeEach
    void rootfs() throws Exception {
        rootfs = BusyboxRootfs.create(Files.createTempDirectory(tmp, "rootfs-"));
    }

    @Test
    void aHeredocCopyWritesTheFileWithItsChmodAndRunsIt() throws Exception {
        execute(Step.newBuilder()
                .setLine(2)
                .setCopy(CopyOp.newBuilder()
                        .addSources("EOF")
                        .setDest("/usr/local/bin/hello")
                        .setCwd("/")
                        .setChmod("u+x")
                        .setMode(FileMode.newBuilder()
                                .setSymbolic(FileMode.Symbolic.newBuilder()
                                        .addActions(FileMode.Action.newBuilder()
                                                .setWho(04700)
                                                .setOp("+")
                                                .setPerms("x"))))
                        .setSource(CopySource.newBuilder()
                                .setInline(InlineSource.newBuilder()
                                        .putFiles(
                                                "EOF",
                                                ByteString.copyFromUtf8("#!/bin/sh\necho hello from heredoc\n")))))
                .build());
        Path hello = rootfs.resolve("usr/local/bin/hello");
        assertThat(hello).hasContent("#!/bin/sh\necho hello from heredoc");
        assertThat((Integer) Files.getAttribute(hello, "unix:mode") & 07777).isEqualTo(0744);

        List<String> out = execute(run(3, "/usr/local/bin/hello"));
        assertThat(out).containsExactly("hello from heredoc");
    }

    @Test
    void workdirIsCreatedOwnedByTheUser() throws Exception {
        execute(Step.newBuilder()
                .setLine(3)
                .setMkdir(MkdirOp.newBuilder().setPath("/home/app/work/src").setUser("app"))
                .build());
        for (String dir : List.of("home/app/work", "home/app/work/src")) {
            assertThat(Files.getAttribute(rootfs.resolve(dir), "unix:uid", LinkOption.NOFOLLOW_LINKS))
                    .isEqualTo(1000);
            assertThat((Integer) Files.getAttribute(rootfs.resolve(dir), "unix:mode") & 07777)
                    .isEqualTo(0755);
        }
    }

    @Test
    void aFailingRunNamesTheLineTheCommandTheExitCodeAndTheLastLinesButNoSecret() {
        Step step = run(7, "echo compiling; echo $TOKEN >/dev/null; exit 3").toBuilder()
                .setRun(run(7, "echo compiling; echo $TOKEN >/dev/null; exit 3").getRun().toBuilder()
                        .addMounts(RunMount.newBuilder()
                                .setSecret(
                                        SecretMount.newBuilder().setId("token").setEnv("TOKEN"))))
                .build();
        assertThatThrownBy(() -> execute(step))
                .isInstanceOf(StepFailedException.class)
                .hasMessageStartingWith("Dockerfile:7: RUN /bin/sh -c echo compiling;")
                .hasMessageContaining("exit code: 3")
                .hasMessageContaining("compiling")
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("s3cr3t-value"));
    }

    @Test
    void addOfAUrlVerifiesTheChecksum() throws Exception {
        byte[] body = "tool v1\n".getBytes(StandardCharsets.UTF_8);
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/dl/tool.txt", ex -> {
            ex.sendResponseHeaders(200, body.length);
            ex.getResponseBody().write(body);
            ex.close();
        });
        server.start();
        try {
            HostPort endpoint = new HostPort("127.0.0.1", server.getAddress().getPort());
            String url = "http://" + endpoint + "/dl/tool.txt";
            // the server is on the worker's loopback: refused unless the farm allows it
            assertThatThrownBy(() -> execute(add(url, Digest.of(body).toString())))
                    .isInstanceOf(StepFailedException.class)
                    .hasMessage("Dockerfile:4: ADD: fetching " + url + " refused: 127.0.0.1 is a loopback address,"
                            + " which builds may not fetch from (a farm operator can allow it with the worker flag"
                            + " --allow-fetch " + endpoint + ")");
            assertThat(rootfs.resolve("opt/tool.txt")).doesNotExist();

            StepExecutor allowing = new StepExecutor(
                    runc,
                    null,
                    null,
                    null,
                    null,
                    tmp.resolve("worker"),
                    null,
                    null,
                    InputLimits.DEFAULTS.withAllowFetch(List.of(endpoint)));
            allowing.execute(
                    job, add(url, Digest.of(body).toString()), rootfs, StepOutput.lines(line -> {}), new AtomicLong());
            assertThat(rootfs.resolve("opt/tool.txt")).hasBinaryContent(body);
            assertThat((Integer) Files.getAttribute(rootfs.resolve("opt/tool.txt"), "unix:mode") & 07777)
                    .isEqualTo(0600);

            assertThatThrownBy(() -> allowing.execute(
                            job,
                            add(url, "sha256:" + "0".repeat(64)),
                            rootfs,
                            StepOutput.lines(line -> {}),
                            new AtomicLong()))
                    .hasMessageStartingWith("Dockerfile:4: ADD: checksum of " + url + " does not match");
        } finally {
            server.stop(0);
        }
    }

    @Test
    void addOfTheCloudMetadataAddressIsRefusedNamingTheLineAndTheFlag() {
        String url = "http://169.254.169.254/latest/meta-data/iam/security-credentials/";
        assertThatThrownBy(() -> execute(add(url, "")))
                .isInstanceOf(StepFailedException.class)
                .hasMessage("Dockerfile:4: ADD: fetching " + url + " refused: 169.254.169.254 is a link-local address,"
                        + " which builds may not fetch from (a farm operator can allow it with the worker flag"
                        + " --allow-fetch 169.254.169.254:80)");
    }

    @Test
    void copyFromAnImageTakesItsLayersFlattenedWhiteoutsApplied() throws Exception {
        Path content = Files.createTempDirectory(tmp, "content-");
        ContentStore blobs = new ContentStore(content);
        LayerStore layers = new LayerStore(blobs, null, null, null, content.resolve("artifacts"));
        StepExecutor withLayers = new StepExecutor(null, null, null, null, layers, tmp.resolve("worker"));
        Layer base =
                store(blobs, Map.of("etc/nginx/nginx.conf", "worker_processes 1;\n", "etc/nginx/old.conf", "old\n"));
        Layer top = store(blobs, Map.of("etc/nginx/.wh.old.conf", "", "etc/nginx/extra.conf", "extra\n"));

        Step step = Step.newBuilder()
                .setLine(5)
                .setCopy(CopyOp.newBuilder()
                        .addSources("/etc/nginx")
                        .setDest("/etc/nginx")
                        .setCwd("/")
                        .setSource(CopySource.newBuilder()
                                .setImage(ImageSource.newBuilder()
                                        .setRegistryRepository("127.0.0.1:5000/library/nginx")
                                        .addLayers(base)
                                        .addLayers(top))))
                .build();
        withLayers.execute(job, step, rootfs, StepOutput.lines(line -> {}), new AtomicLong());

        assertThat(rootfs.resolve("etc/nginx/nginx.conf")).hasContent("worker_processes 1;");
        assertThat(rootfs.resolve("etc/nginx/extra.conf")).hasContent("extra");
        assertThat(rootfs.resolve("etc/nginx/old.conf"))
                .as("deleted by the upper layer")
                .doesNotExist();
        assertThat(Files.getAttribute(rootfs.resolve("etc/nginx/nginx.conf"), "unix:uid"))
                .as("owners kept")
                .isEqualTo(101);
    }

    /** A gzip layer of regular files owned by 101, put in the worker's blob store as if pulled. */
    private static Layer store(ContentStore blobs, Map<String, String> files) throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (var tar = new TarArchiveOutputStream(new GZIPOutputStream(bytes))) {
            for (var e : new TreeMap<>(files).entrySet()) {
                byte[] data = e.getValue().getBytes(StandardCharsets.UTF_8);
                var entry = new TarArchiveEntry(e.getKey());
                entry.setSize(data.length);
                entry.setMode(0100644);
                entry.setIds(101, 101);
                tar.putArchiveEntry(entry);
                tar.write(data);
                tar.closeArchiveEntry();
            }
        }
        byte[] blob = bytes.toByteArray();
        Digest digest = Digest.of(blob);
        Path temp = blobs.tempFile("test");
        Files.write(temp, blob);
        blobs.commit(temp, digest);
        return Layer.newBuilder()
                .setDigest(digest.toString())
                .setSize(blob.length)
                .setMediaType("application/vnd.oci.image.layer.v1.tar+gzip")
                .setSourceRepository("127.0.0.1:5000/library/nginx")
                .build();
    }

    private static Step add(String url, String checksum) {
        return Step.newBuilder()
                .setLine(4)
                .setCopy(CopyOp.newBuilder()
                        .addSources(url)
                        .setDest("/opt/")
                        .setCwd("/")
                        .setExtractArchives(false)
                        .setSource(CopySource.newBuilder()
                                .setUrl(UrlSource.newBuilder().setUrl(url).setChecksum(checksum))))
                .build();
    }

    private static Step run(int line, String script) {
        return Step.newBuilder()
                .setLine(line)
                .setRun(RunOp.newBuilder()
                        .addAllArgs(List.of("/bin/sh", "-c", script))
                        .setCwd("/")
                        .setNetwork("none"))
                .build();
    }

    private List<String> execute(Step step) throws Exception {
        List<String> out = new ArrayList<>();
        steps.execute(job, step, rootfs, StepOutput.lines(out::add), new AtomicLong());
        return out;
    }
}
