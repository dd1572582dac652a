package dev.stagefarm.oci.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.stagefarm.common.Digest;
import dev.stagefarm.oci.Descriptor;
import dev.stagefarm.oci.ImageIndex;
import dev.stagefarm.oci.ImageReference;
import dev.stagefarm.oci.MediaTypes;
import dev.stagefarm.oci.Platform;
import dev.stagefarm.oci.archive.RegistryPusher;
import dev.stagefarm.oci.json.ManifestJson;
import dev.stagefarm.oci.testing.LocalRegistry;
import dev.stagefarm.oci.testing.TestImages;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Against a real docker-registry started for this class on a loopback port. */
class RegistryClientTest {

    @TempDir
    static Path shared;

    @TempDir
    Path tmp;

    static LocalRegistry registry;
    static RegistryClient client;

    @BeforeAll
    static void startRegistry() throws Exception {
        registry = LocalRegistry.start(shared);
        client = new RegistryClient(
                RegistryConfig.fromFlags(List.of(), List.of(registry.hostPort())), CredentialStore.none());
    }

    @AfterAll
    static void stopRegistry() throws Exception {
        client.close();
        registry.close();
    }

    private ImageReference ref(String s) {
        return ImageReference.parse(registry.hostPort() + "/" + s);
    }

    @Test
    void pushedImageResolvesAndItsLayerDownloads() throws Exception {
        TestImages img = TestImages.hello(tmp, "hi\n", "amd64", false);
        ImageReference target = ref("stagefarm/hello:v1");

        Digest pushed = new RegistryPusher(client).push(img.blobs(), img.manifest(), List.of(target));
        ResolvedImage resolved = client.resolve(target, Platform.LINUX_AMD64);

        assertThat(pushed).isEqualTo(img.manifest().digest());
        assertThat(resolved.manifestDigest()).isEqualTo(pushed);
        assertThat(resolved.ref()).isEqualTo(target.withDigest(pushed));
        assertThat(resolved.manifestMediaType()).isEqualTo(MediaTypes.OCI_MANIFEST);
        assertThat(resolved.manifestBytes()).isEqualTo(img.manifest().bytes());
        assertThat(resolved.configBytes()).isEqualTo(img.config());
        assertThat(resolved.config().cmd()).containsExactly("/bin/cat", "/hello.txt");
        assertThat(resolved.config().diffIds()).containsExactly(img.layer().diffId());

        Descriptor layer = resolved.manifest().layers().getFirst();
        Path dest = tmp.resolve("cas/layer");
        client.fetchBlob(target, layer, dest);
        assertThat(Files.readAllBytes(dest))
                .isEqualTo(Files.readAllBytes(img.layer().file()));
        assertThat(client.blobExists(target, layer.digest())).isTrue();
        assertThat(client.blobExists(target, Digest.of(new byte[] {42}))).isFalse();
        assertThat(client.resolve(resolved.ref(), Platform.LINUX_AMD64).manifestDigest())
                .isEqualTo(pushed);
    }

    @Test
    void indexResolvesToTheRequestedPlatform() throws Exception {
        TestImages amd = TestImages.hello(tmp.resolve("a"), "amd\n", "amd64", true);
        TestImages arm = TestImages.hello(tmp.resolve("b"), "arm\n", "arm64", true);
        ImageReference repo = ref("stagefarm/multi:latest");
        RegistryPusher pusher = new RegistryPusher(client);
        pusher.push(amd.blobs(), amd.manifest(), List.of(repo.withTag("amd64")));
        pusher.push(arm.blobs(), arm.manifest(), List.of(repo.withTag("arm64")));
        byte[] list = ManifestJson.toJson(new ImageIndex(
                MediaTypes.DOCKER_MANIFEST_LIST,
                List.of(
                        new Descriptor(
                                MediaTypes.DOCKER_MANIFEST,
                                amd.manifest().digest(),
                                amd.manifest().bytes().length,
                                Map.of(),
                                Platform.LINUX_AMD64),
                        new Descriptor(
                                MediaTypes.DOCKER_MANIFEST,
                                arm.manifest().digest(),
                                arm.manifest().bytes().length,
                                Map.of(),
                                Platform.parse("linux/arm64/v8")))));
        client.pushManifest(repo, MediaTypes.DOCKER_MANIFEST_LIST, list);

        ResolvedImage resolved = client.resolve(repo, Platform.parse("linux/arm64"));

        assertThat(resolved.manifestDigest()).isEqualTo(arm.manifest().digest());
        assertThat(resolved.manifestMediaType()).isEqualTo(MediaTypes.DOCKER_MANIFEST);
        assertThat(resolved.config().architecture()).isEqualTo("arm64");
        assertThatThrownBy(() -> client.resolve(repo, Platform.parse("linux/s390x")))
                .hasMessageContaining("no manifest for linux/s390x");
    }

    @Test
    void dockerHubNamesResolveThroughTheMirror() throws Exception {
        TestImages img = TestImages.hello(tmp, "mirrored\n", "amd64", true);
        new RegistryPusher(client).push(img.blobs(), img.manifest(), List.of(ref("library/mirrored:1")));
        RegistryClient viaMirror = new RegistryClient(
                RegistryConfig.fromFlags(List.of("docker.io=" + registry.url()), List.of()), CredentialStore.none());

        ResolvedImage resolved = viaMirror.resolve(ImageReference.parse("mirrored:1"), Platform.LINUX_AMD64);

        assertThat(resolved.manifestDigest()).isEqualTo(img.manifest().digest());
        assertThat(resolved.ref().registry()).isEqualTo("docker.io");
    }

    @Test
    void missingImageSaysWhatToDo() {
        ImageReference missing = ref("nothing/here:v1");

        assertThatThrownBy(() -> client.resolve(missing, Platform.LINUX_AMD64))
                .isInstanceOf(RegistryException.class)
                .hasMessageStartingWith("pull " + registry.hostPort() + "/nothing/here:v1: registry " + registry.url()
                        + " answered 404")
                .hasMessageContaining("UNKNOWN")
                .hasMessageEndingWith("is the image published, and is its name right?");
    }

    @Test
    void plainHttpRegistryWithoutTheFlagPointsAtIt() {
        RegistryClient tlsOnly = new RegistryClient(RegistryConfig.defaults(), CredentialStore.none());
        assertThatThrownBy(() -> tlsOnly.resolve(ref("x/y:1"), Platform.LINUX_AMD64))
                .hasMessageContaining("--insecure-registry " + registry.hostPort());
    }

    @Test
    void tamperedBlobIsRefusedAndNothingIsWritten() throws Exception {
        TestImages img = TestImages.hello(tmp, "precious\n", "amd64", false);
        ImageReference target = ref("stagefarm/tamper:v1");
        new RegistryPusher(client).push(img.blobs(), img.manifest(), List.of(target));
        Path data = registry.blobData(img.layer().digest());
        byte[] bytes = Files.readAllBytes(data);
        bytes[bytes.length / 2] ^= 0x55; // same size, different content
        Files.write(data, bytes);
        Path dest = tmp.resolve("cas/layer");

        assertThatThrownBy(() -> client.fetchBlob(
                        target, img.manifest().manifest().layers().getFirst(), dest))
                .isInstanceOf(RegistryException.class)
                .hasMessageContaining("corrupt");
        assertThat(dest).doesNotExist();
        assertThat(dest.getParent().toFile().list()).isEmpty();
    }

    @Test
    void aConfigIsReadOnceButATagIsResolvedEveryTime() throws Exception {
        TestImages first = TestImages.hello(tmp.resolve("first"), "v1\n", "amd64", false);
        TestImages second = TestImages.hello(tmp.resolve("second"), "v2\n", "amd64", false);
        ImageReference target = ref("stagefarm/config-once:latest");
        new RegistryPusher(client).push(first.blobs(), first.manifest(), List.of(target));
        assertThat(client.resolve(target, Platform.LINUX_AMD64).configBytes()).isEqualTo(first.config());

        // the registry would now serve corrupt bytes for that config: the client does not ask again
        Path config = registry.blobData(first.manifest().manifest().config().digest());
        byte[] corrupt = Files.readAllBytes(config);
        corrupt[corrupt.length / 2] ^= 0x55;
        Files.write(config, corrupt);
        ResolvedImage again = client.resolve(target, Platform.LINUX_AMD64);
        assertThat(again.configBytes()).isEqualTo(first.config());
        assertThat(again.config().diffIds()).containsExactly(first.layer().diffId());

        // ...but another repository naming the same config reads it from the registry, and is refused
        ImageReference other = ref("stagefarm/config-once-other:latest");
        Files.write(config, first.config());
        new RegistryPusher(client).push(first.blobs(), first.manifest(), List.of(other));
        Files.write(config, corrupt);
        assertThatThrownBy(() -> client.resolve(other, Platform.LINUX_AMD64))
                .isInstanceOf(RegistryException.class)
                .hasMessageContaining("corrupt");

        // and a tag pushed again resolves to its new image at once
        new RegistryPusher(client).push(second.blobs(), second.manifest(), List.of(target));
        ResolvedImage moved = client.resolve(target, Platform.LINUX_AMD64);
        assertThat(moved.manifestDigest()).isEqualTo(second.manifest().digest());
        assertThat(moved.configBytes()).isEqualTo(second.config());
    }

    @Test
    void tamperedManifestIsRefused() throws Exception {
        TestImages img = TestImages.hello(tmp, "m\n", "amd64", false);
        ImageReference target = ref("stagefarm/tampered-manifest:v1");
        new RegistryPusher(client).push(img.blobs(), img.manifest(), List.of(target));
        Path data = registry.blobData(img.manifest().digest());
        Files.writeString(
                data, new String(img.manifest().bytes(), StandardCharsets.UTF_8).replace("\"size\"", " \"size\""));

        assertThatThrownBy(() -> client.resolve(target, Platform.LINUX_AMD64))
                .isInstanceOf(RegistryException.class)
                .hasMessageContaining("altered");
    }

    @Test
    void registryRejectsBytesThatDoNotMatchTheirDigest() {
        Digest claimed = Digest.of("what we claim".getBytes(StandardCharsets.UTF_8));
        byte[] actual = "what we send!".getBytes(StandardCharsets.UTF_8);

        assertThatThrownBy(() -> client.pushBlob(
                        ref("stagefarm/lie:v1"), claimed, actual.length, d -> new ByteArrayInputStream(actual)))
                .isInstanceOf(RegistryException.class)
                .hasMessageContaining("DIGEST_INVALID");
    }

    @Test
    void closingAClientStopsItsHttpThreadsSoAProcessCanExitAtOnce() throws Exception {
        Set<Thread> before = Thread.getAllStackTraces().keySet();
        ImageReference target = ref("stagefarm/close:v1");
        TestImages img = TestImages.hello(tmp, "bye\n", "amd64", false);
        try (RegistryClient own = new RegistryClient(
                RegistryConfig.fromFlags(List.of(), List.of(registry.hostPort())), CredentialStore.none())) {
            new RegistryPusher(own).push(img.blobs(), img.manifest(), List.of(target));
            assertThat(own.resolve(target, Platform.LINUX_AMD64).manifestDigest())
                    .isEqualTo(img.manifest().digest());
        }
        // The JDK's HTTP client keeps a selector thread waiting in a system call until closed,
        // and a JVM asked to exit waits up to 300 ms for such threads. (Its pool's idle workers
        // only park, which holds up nothing, and may take a moment longer to go.)
        assertThat(Thread.getAllStackTraces().keySet())
                .filteredOn(t -> !before.contains(t) && t.isAlive())
                .extracting(Thread::getName)
                .noneMatch(name -> name.startsWith("HttpClient-") && name.endsWith("SelectorManager"));
    }
}
