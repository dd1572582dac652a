package dev.stagefarm.worker.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.stagefarm.common.linux.LinuxFiles;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.stream.Stream;
import java.util.zip.GZIPOutputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** COPY and ADD on real directories; the tests run as root so that owners can be set. */
@Tag("root")
class CopyExecutorTest {

    @TempDir
    Path tmp;

    Path context;
    Path rootfs;
    final CopyExecutor copier = new CopyExecutor();

    @BeforeEach
    void dirs() throws IOException {
        context = Files.createDirectories(tmp.resolve("context"));
        rootfs = Files.createDirectories(tmp.resolve("rootfs"));
    }

    @Test
    void aDirectorySourceCopiesItsContentsNotItself() throws Exception {
        write("src/a.txt", "a");
        write("src/sub/b.txt", "b");

        copy(List.of("src"), "/dst");

        assertThat(rootfs.resolve("dst/a.txt")).hasContent("a");
        assertThat(rootfs.resolve("dst/sub/b.txt")).hasContent("b");
        assertThat(rootfs.resolve("dst/src")).doesNotExist();
    }

    @Test
    void severalSourcesGoIntoTheDestinationDirectory() throws Exception {
        write("go.mod", "module m");
        write("go.sum", "sums");

        copy(List.of("go.mod", "go.sum"), "/app/");

        assertThat(rootfs.resolve("app/go.mod")).hasContent("module m");
        assertThat(rootfs.resolve("app/go.sum")).hasContent("sums");
    }

    @Test
    void oneFileToANewPathWithoutSlashBecomesThatFile() throws Exception {
        write("app.conf", "port=80");

        copy(List.of("app.conf"), "/etc/app");

        assertThat(rootfs.resolve("etc/app")).isRegularFile().hasContent("port=80");
        assertThat(rootfs.resolve("etc")).isDirectory();
        assertThat(Files.getAttribute(rootfs.resolve("etc"), "unix:mode")).isEqualTo(040755);
    }

    @Test
    void oneFileToAnExistingDirectoryWithoutSlashGoesInsideIt() throws Exception {
        write("app.conf", "port=80");
        Files.createDirectories(rootfs.resolve("etc"));

        copy(List.of("app.conf"), "/etc");

        assertThat(rootfs.resolve("etc/app.conf")).hasContent("port=80");
    }

    @Test
    void aGlobCopiesOnlyMatchingFilesOfItsLevel() throws Exception {
        write("main.go", "package main");
        write("util.go", "package main // util");
        write("README.md", "docs");
        write("cmd/tool.go", "package cmd");

        copy(List.of("*.go"), "/src/");

        assertThat(list(rootfs.resolve("src"))).containsExactly("main.go", "util.go");
    }

    @Test
    void aGlobMatchingNothingFails() throws IOException {
        write("main.go", "package main");
        assertThatThrownBy(() -> copy(List.of("*.rs"), "/src/"))
                .isInstanceOf(CopyException.class)
                .hasMessageContaining("\"*.rs\" matches nothing");
    }

    @Test
    void aRelativeDestinationIsUnderTheWorkingDirectory() throws Exception {
        write("tool", "#!/bin/sh");
        write("main.go", "package main");

        copier.copy(request(List.of("tool"), "bin/", "/app"), rootfs);
        copier.copy(request(List.of("main.go"), ".", "/app"), rootfs);

        assertThat(rootfs.resolve("app/bin/tool")).hasContent("#!/bin/sh");
        assertThat(rootfs.resolve("app/main.go")).hasContent("package main");
    }

    @Test
    void chownOwnsTheFilesAndTheDirectoriesItCreates() throws Exception {
        write("data/db.json", "{}");
        Files.createDirectories(rootfs.resolve("home"));

        copier.copy(
                new CopyExecutor.Request(
                        context,
                        List.of("data"),
                        "/home/app/data/",
                        "/",
                        Optional.of(new Owner(1000, 1001)),
                        Optional.empty(),
                        false),
                rootfs);

        assertThat(owner(rootfs.resolve("home/app/data/db.json"))).isEqualTo(new Owner(1000, 1001));
        assertThat(owner(rootfs.resolve("home/app/data"))).isEqualTo(new Owner(1000, 1001));
        assertThat(owner(rootfs.resolve("home/app"))).isEqualTo(new Owner(1000, 1001));
        assertThat(owner(rootfs.resolve("home")))
                .as("an existing directory keeps its owner")
                .isEqualTo(Owner.ROOT);
    }

    @Test
    void withoutChownCreatedDirectoriesBelongToRoot() throws Exception {
        write("f", "x");
        copy(List.of("f"), "/opt/app/");
        assertThat(owner(rootfs.resolve("opt/app"))).isEqualTo(Owner.ROOT);
    }

    @Test
    void chmodSetsTheMode() throws Exception {
        write("run.sh", "#!/bin/sh");
        Files.setAttribute(context.resolve("run.sh"), "unix:mode", 0644);

        copier.copy(
                new CopyExecutor.Request(
                        context, List.of("run.sh"), "/usr/local/bin/", "/", Optional.empty(), Optional.of(0750), false),
                rootfs);

        assertThat(mode(rootfs.resolve("usr/local/bin/run.sh"))).isEqualTo(0750);
    }

    @Test
    void modesIncludingSetuidAreKeptWithoutChmod() throws Exception {
        write("su-helper", "#!/bin/sh");
        Files.setAttribute(context.resolve("su-helper"), "unix:mode", 04755);

        copy(List.of("su-helper"), "/bin/");

        assertThat(mode(rootfs.resolve("bin/su-helper"))).isEqualTo(04755);
    }

    @Test
    void aMissingSourceFails() {
        assertThatThrownBy(() -> copy(List.of("go.sum"), "/app/"))
                .isInstanceOf(CopyException.class)
                .hasMessage("source \"go.sum\" not found");
    }

    @Test
    void aLinkToEtcInTheDestinationResolvesInsideTheImage() throws Exception {
        String name = "stagefarm-copy-test-" + UUID.randomUUID();
        write(name, "pwned?");
        Files.createSymbolicLink(rootfs.resolve("config"), Path.of("/etc"));
        Files.createDirectories(rootfs.resolve("etc"));
        Path hostFile = Path.of("/etc", name);
        try {
            copy(List.of(name), "/config/");

            assertThat(hostFile).doesNotExist();
            assertThat(rootfs.resolve("etc").resolve(name)).hasContent("pwned?");
        } finally {
            Files.deleteIfExists(hostFile);
        }
    }

    @Test
    void anExistingLinkAtTheDestinationFileIsNotWrittenThrough() throws Exception {
        Path hostFile = Files.writeString(tmp.resolve("host-file"), "host data");
        Files.createDirectories(rootfs.resolve("app"));
        // a link whose absolute target exists on the host but not in the image
        Files.createSymbolicLink(rootfs.resolve("app/passwd"), hostFile);
        write("passwd", "image data");

        copy(List.of("passwd"), "/app/");

        assertThat(hostFile).hasContent("host data");
        assertThat(rootfs.resolve("app/passwd")).hasContent("image data");
    }

    @Test
    void addExtractsALocalTarGz() throws Exception {
        Files.write(context.resolve("app.tar.gz"), gzip(tar("pkg/", "pkg/bin/tool")));

        copier.copy(
                new CopyExecutor.Request(
                        context, List.of("app.tar.gz"), "/opt/", "/", Optional.empty(), Optional.empty(), true),
                rootfs);

        assertThat(rootfs.resolve("opt/pkg/bin/tool")).hasContent("content of pkg/bin/tool");
        assertThat(rootfs.resolve("opt/app.tar.gz")).doesNotExist();
    }

    @Test
    void addCopiesAFileNamedLikeAnArchiveThatIsNotOne() throws Exception {
        write("notes.tar.gz", "just text, whatever the name says");
        write("big.tar.gz", "x".repeat(4096));

        copier.copy(
                new CopyExecutor.Request(
                        context,
                        List.of("notes.tar.gz", "big.tar.gz"),
                        "/opt/",
                        "/",
                        Optional.empty(),
                        Optional.empty(),
                        true),
                rootfs);

        assertThat(rootfs.resolve("opt/notes.tar.gz")).hasContent("just text, whatever the name says");
        assertThat(rootfs.resolve("opt/big.tar.gz")).hasSize(4096);
    }

    @Test
    void addCopiesACompressedFileThatIsNotATar() throws Exception {
        byte[] gz = gzip("a compressed log line\n".getBytes(StandardCharsets.UTF_8));
        Files.write(context.resolve("app.log.gz"), gz);

        copier.copy(
                new CopyExecutor.Request(
                        context, List.of("app.log.gz"), "/var/log/", "/", Optional.empty(), Optional.empty(), true),
                rootfs);

        assertThat(rootfs.resolve("var/log/app.log.gz")).hasBinaryContent(gz);
    }

    @Test
    void copyNeverExtracts() throws Exception {
        byte[] archive = gzip(tar("pkg/", "pkg/file"));
        Files.write(context.resolve("app.tar.gz"), archive);

        copy(List.of("app.tar.gz"), "/opt/");

        assertThat(rootfs.resolve("opt/app.tar.gz")).hasBinaryContent(archive);
    }

    @Test
    void anArchiveCannotWriteThroughItsOwnLinkToTheHost() throws Exception {
        String name = "stagefarm-add-test-" + UUID.randomUUID();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(bytes)) {
            TarArchiveEntry link = new TarArchiveEntry("etc", TarArchiveEntry.LF_SYMLINK);
            link.setLinkName("/etc");
            tar.putArchiveEntry(link);
            tar.closeArchiveEntry();
            putFile(tar, "etc/" + name);
        }
        Files.write(context.resolve("evil.tar"), bytes.toByteArray());
        Path hostFile = Path.of("/etc", name);
        try {
            copier.copy(
                    new CopyExecutor.Request(
                            context, List.of("evil.tar"), "/", "/", Optional.empty(), Optional.empty(), true),
                    rootfs);
            assertThat(hostFile).doesNotExist();
        } catch (IOException refused) {
            assertThat(hostFile).doesNotExist();
        } finally {
            Files.deleteIfExists(hostFile);
        }
    }

    @Test
    void addKeepsTheOwnersOfEachArchiveEntryWithoutChown() throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(bytes)) {
            TarArchiveEntry dir = new TarArchiveEntry("pkg/");
            dir.setMode(040750);
            dir.setIds(1000, 1000);
            tar.putArchiveEntry(dir);
            tar.closeArchiveEntry();
            TarArchiveEntry conf = new TarArchiveEntry("pkg/conf");
            conf.setMode(0100600);
            conf.setIds(0, 42);
            tar.putArchiveEntry(conf);
            tar.closeArchiveEntry();
        }
        Files.write(context.resolve("pkg.tar"), bytes.toByteArray());

        copier.copy(
                new CopyExecutor.Request(
                        context, List.of("pkg.tar"), "/opt/", "/", Optional.empty(), Optional.empty(), true),
                rootfs);

        assertThat(owner(rootfs.resolve("opt/pkg"))).isEqualTo(new Owner(1000, 1000));
        assertThat(owner(rootfs.resolve("opt/pkg/conf"))).isEqualTo(new Owner(0, 42));
    }

    @Test
    void aCopiedDirectoryKeepsTheOwnersOfItsSubdirectories() throws Exception {
        write("out/cfg/app.conf", "x");
        LinuxFiles.lchown(context.resolve("out/cfg"), 33, 33);
        Files.setAttribute(context.resolve("out/cfg"), "unix:mode", 0700);

        copy(List.of("out"), "/app");

        assertThat(owner(rootfs.resolve("app/cfg"))).isEqualTo(new Owner(33, 33));
        assertThat(mode(rootfs.resolve("app/cfg"))).isEqualTo(0700);
    }

    @Test
    void aSymlinkNamedAsASourceIsFollowedButLinksInsideACopiedDirectoryStayLinks() throws Exception {
        write("out/real.txt", "real");
        Files.createSymbolicLink(context.resolve("out/link.txt"), Path.of("real.txt"));
        Files.createSymbolicLink(context.resolve("abs-link"), Path.of("/out/real.txt"));

        copy(List.of("out/link.txt"), "/copied-link");
        copy(List.of("abs-link", "out/l*.txt"), "/many/");
        copy(List.of("out"), "/tree");

        assertThat(rootfs.resolve("copied-link")).isRegularFile().hasContent("real");
        assertThat(rootfs.resolve("many/abs-link")).isRegularFile().hasContent("real");
        assertThat(rootfs.resolve("many/link.txt")).isRegularFile().hasContent("real");
        assertThat(Files.readSymbolicLink(rootfs.resolve("tree/link.txt"))).isEqualTo(Path.of("real.txt"));
    }

    @Test
    void aSymlinkSourcePointingNowhereFails() throws Exception {
        Files.createSymbolicLink(context.resolve("dangling"), Path.of("missing.txt"));

        assertThatThrownBy(() -> copy(List.of("dangling"), "/x"))
                .isInstanceOf(CopyException.class)
                .hasMessageContaining("missing.txt");
    }

    @Test
    void hardLinkedSourcesStayHardLinkedWithinOneCopy() throws Exception {
        write("ctx/a.txt", "same");
        Files.createLink(context.resolve("ctx/b.txt"), context.resolve("ctx/a.txt"));

        copy(List.of("ctx"), "/both/");
        copy(List.of("ctx/b.txt"), "/alone.txt");

        assertThat(Files.isSameFile(rootfs.resolve("both/a.txt"), rootfs.resolve("both/b.txt")))
                .isTrue();
        assertThat(rootfs.resolve("both/b.txt")).hasContent("same");
        assertThat(Files.getAttribute(rootfs.resolve("alone.txt"), "unix:nlink"))
                .isEqualTo(1);
    }

    // ---- helpers ----

    private void copy(List<String> sources, String dest) throws CopyException, IOException {
        copier.copy(request(sources, dest, "/"), rootfs);
    }

    private CopyExecutor.Request request(List<String> sources, String dest, String cwd) {
        return new CopyExecutor.Request(context, sources, dest, cwd, Optional.empty(), Optional.empty(), false);
    }

    private void write(String rel, String text) throws IOException {
        Path p = context.resolve(rel);
        Files.createDirectories(p.getParent());
        Files.writeString(p, text);
    }

    private static List<String> list(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    private static Owner owner(Path p) throws IOException {
        return new Owner((Integer) Files.getAttribute(p, "unix:uid", LinkOption.NOFOLLOW_LINKS), (Integer)
                Files.getAttribute(p, "unix:gid", LinkOption.NOFOLLOW_LINKS));
    }

    private static int mode(Path p) throws IOException {
        return (Integer) Files.getAttribute(p, "unix:mode") & 07777;
    }

    /** A tar of the given entries; names ending in '/' are directories, files hold "content of NAME". */
    private static byte[] tar(String... names) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(bytes)) {
            for (String name : names) {
                if (name.endsWith("/")) {
                    TarArchiveEntry dir = new TarArchiveEntry(name);
                    dir.setMode(040755);
                    tar.putArchiveEntry(dir);
                    tar.closeArchiveEntry();
                } else {
                    putFile(tar, name);
                }
            }
        }
        return bytes.toByteArray();
    }

    private static void putFile(TarArchiveOutputStream tar, String name) throws IOException {
        byte[] data = ("content of " + name).getBytes(StandardCharsets.UTF_8);
        TarArchiveEntry e = new TarArchiveEntry(name);
        e.setSize(data.length);
        e.setMode(0100644);
        tar.putArchiveEntry(e);
        tar.write(data);
        tar.closeArchiveEntry();
    }

    private static byte[] gzip(byte[] data) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (OutputStream gz = new GZIPOutputStream(bytes)) {
            gz.write(data);
        }
        return bytes.toByteArray();
    }
}
