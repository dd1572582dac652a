package dev.stagefarm.oci.layer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.stagefarm.common.Digest;
import dev.stagefarm.common.linux.LinuxFiles;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.List;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Runs as root: whiteout devices, trusted.* xattrs and chown need it. */
@Tag("root")
class LayerWriterTest {

    @TempDir
    Path tmp;

    private final LayerWriter writer = new LayerWriter(LayerWriter.Options.defaults());

    /** An upper dir as overlayfs leaves it after: rm /etc/old, rm -rf /var/cache/* + new file, edits elsewhere. */
    static Path upperDir(Path at) throws Exception {
        Path upper = Files.createDirectories(at);
        Files.createDirectories(upper.resolve("etc"));
        LinuxFiles.mknodWhiteout(upper.resolve("etc/old.conf"));
        Files.writeString(upper.resolve("etc/new.conf"), "k=v\n");
        Path cache = Files.createDirectories(upper.resolve("var/cache"));
        LinuxFiles.setOpaque(cache);
        Files.writeString(cache.resolve("fresh"), "fresh");
        Path bin = Files.createDirectories(upper.resolve("usr/local/bin"));
        Path tool = Files.writeString(bin.resolve("tool"), "#!/bin/sh\necho tool\n");
        LinuxFiles.lchown(tool, 1000, 1001);
        Files.setAttribute(tool, "unix:mode", 04755); // after chown, which clears setuid
        Files.createLink(bin.resolve("tool-alias"), tool);
        Files.createSymbolicLink(bin.resolve("t"), Path.of("tool"));
        LinuxFiles.setXattr(tool, "user.origin", "stagefarm".getBytes(StandardCharsets.UTF_8));
        Path sticky = Files.createDirectories(upper.resolve("tmp"));
        Files.setAttribute(sticky, "unix:mode", 01777);
        Files.writeString(upper.resolve("ünïcödé-" + "x".repeat(120)), "long");
        return upper;
    }

    @Test
    void sameTreeGivesIdenticalBytesAndBothDigests() throws Exception {
        Path upper = upperDir(tmp.resolve("upper"));

        LayerBlob a = writer.writeUpperDir(upper, tmp.resolve("a.tgz"));
        LayerBlob b = writer.writeUpperDir(upper, tmp.resolve("b.tgz"));

        assertThat(Files.readAllBytes(a.file())).isEqualTo(Files.readAllBytes(b.file()));
        assertThat(a.digest()).isEqualTo(Digest.of(a.file())).isEqualTo(b.digest());
        assertThat(a.size()).isEqualTo(Files.size(a.file()));
        try (InputStream in = new GZIPInputStream(Files.newInputStream(a.file()))) {
            assertThat(Digest.of(in)).isEqualTo(a.diffId());
        }
        assertThat(a.empty()).isFalse();
        byte[] header = Files.readAllBytes(a.file());
        assertThat(new byte[] {header[4], header[5], header[6], header[7]}).containsOnly(0); // no mtime in gzip header
        assertThat(tmp.toFile().list()).containsExactlyInAnyOrder("upper", "a.tgz", "b.tgz"); // no temp files left
    }

    @Test
    void translatesWhiteoutsAndOpaqueDirectories() throws Exception {
        Path upper = upperDir(tmp.resolve("upper"));

        List<TarListing> entries =
                TarListing.of(writer.writeUpperDir(upper, tmp.resolve("l.tgz")).file());
        List<String> names = entries.stream().map(TarListing::name).toList();

        assertThat(names)
                .contains(
                        "etc/",
                        "etc/.wh.old.conf",
                        "etc/new.conf",
                        "var/cache/",
                        "var/cache/.wh..wh..opq",
                        "var/cache/fresh")
                .doesNotContain("etc/old.conf");
        assertThat(names.indexOf("var/cache/.wh..wh..opq")).isEqualTo(names.indexOf("var/cache/") + 1);
        TarListing wh = TarListing.find(entries, "etc/.wh.old.conf");
        assertThat(wh.type()).isEqualTo('0');
        assertThat(wh.size()).isZero();
        assertThat(TarListing.find(entries, "var/cache/").pax())
                .doesNotContainKey("SCHILY.xattr.trusted.overlay.opaque");
    }

    @Test
    void keepsOwnersModesLinksXattrsAndOrder() throws Exception {
        Path upper = upperDir(tmp.resolve("upper"));

        List<TarListing> entries =
                TarListing.of(writer.writeUpperDir(upper, tmp.resolve("l.tgz")).file());

        TarListing tool = TarListing.find(entries, "usr/local/bin/tool");
        assertThat(tool.mode()).isEqualTo(04755);
        assertThat(tool.uid()).isEqualTo(1000);
        assertThat(tool.gid()).isEqualTo(1001);
        assertThat(tool.pax()).containsEntry("SCHILY.xattr.user.origin", "stagefarm");
        TarListing alias = TarListing.find(entries, "usr/local/bin/tool-alias");
        assertThat(alias.type()).isEqualTo('1');
        assertThat(alias.link()).isEqualTo("usr/local/bin/tool");
        assertThat(TarListing.find(entries, "usr/local/bin/t").link()).isEqualTo("tool");
        assertThat(TarListing.find(entries, "tmp/").mode()).isEqualTo(01777);
        assertThat(TarListing.find(entries, "ünïcödé-" + "x".repeat(120)).size())
                .isEqualTo(4);
        List<String> names = entries.stream().map(TarListing::name).toList();
        assertThat(names.indexOf("usr/"))
                .isLessThan(names.indexOf("usr/local/"))
                .isLessThan(names.indexOf("usr/local/bin/t"));
        assertThat(names.indexOf("usr/local/bin/tool")).isLessThan(names.indexOf("usr/local/bin/tool-alias"));
    }

    @Test
    void clampsMtimesToSourceDateEpoch() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("d"));
        Path old = Files.writeString(dir.resolve("old"), "o");
        Files.setLastModifiedTime(old, FileTime.from(Instant.ofEpochSecond(1000, 999_000_000)));
        Files.writeString(dir.resolve("new"), "n");
        Instant epoch = Instant.ofEpochSecond(1_700_000_000L);

        LayerBlob blob = new LayerWriter(LayerWriter.Options.defaults().withSourceDateEpoch(epoch))
                .writeDirectory(dir, tmp.resolve("l.tgz"));

        List<TarListing> entries = TarListing.of(blob.file());
        assertThat(TarListing.find(entries, "old").mtime()).isEqualTo(1000);
        assertThat(TarListing.find(entries, "new").mtime()).isEqualTo(epoch.getEpochSecond());
    }

    @Test
    void selectedPathsBringTheirParentsAndNothingElse() throws Exception {
        Path root = Files.createDirectories(tmp.resolve("rootfs"));
        Files.createDirectories(root.resolve("go/bin"));
        Files.writeString(root.resolve("go/bin/app"), "binary");
        Files.writeString(root.resolve("go/bin/other"), "not copied");
        Files.createDirectories(root.resolve("etc/ssl/certs"));
        Files.writeString(root.resolve("etc/ssl/certs/ca.pem"), "pem");
        Files.writeString(root.resolve("etc/passwd"), "root");

        LayerBlob blob = writer.writeSelected(root, List.of("/go/bin/app", "etc/ssl"), tmp.resolve("a.tgz"))
                .blob();

        assertThat(TarListing.names(blob.file()))
                .containsExactly(
                        "etc/", "etc/ssl/", "etc/ssl/certs/", "etc/ssl/certs/ca.pem", "go/", "go/bin/", "go/bin/app");
        assertThatThrownBy(() -> writer.writeSelected(root, List.of("/nope"), tmp.resolve("b.tgz")))
                .isInstanceOf(NoSuchFileException.class);
        assertThatThrownBy(() -> writer.writeSelected(root, List.of("../etc"), tmp.resolve("b.tgz")))
                .hasMessageContaining("escapes");
    }

    /** Early cut-off must not hide an ownership change: COPY --from keeps uid and gid. */
    @Test
    void anArtifactsContentDigestFollowsTheOwnerButNotTheMtime() throws Exception {
        Path root = Files.createDirectories(tmp.resolve("rootfs"));
        Path app =
                Files.writeString(Files.createDirectories(root.resolve("out")).resolve("app"), "binary");
        Digest before = writer.writeSelected(root, List.of("/out"), tmp.resolve("o1.tgz"))
                .content();

        Files.setLastModifiedTime(app, FileTime.from(Instant.parse("2020-01-01T00:00:00Z")));
        assertThat(writer.writeSelected(root, List.of("/out"), tmp.resolve("o2.tgz"))
                        .content())
                .isEqualTo(before);
        LinuxFiles.lchown(app, 1000, 0);
        Digest user = writer.writeSelected(root, List.of("/out"), tmp.resolve("o3.tgz"))
                .content();
        LinuxFiles.lchown(app, 0, 1000);
        Digest group = writer.writeSelected(root, List.of("/out"), tmp.resolve("o4.tgz"))
                .content();

        assertThat(List.of(user, group)).doesNotContain(before).doesNotHaveDuplicates();
    }

    /** The issue's escape: a stage's {@code /x/h -> /} must not export the worker's own files. */
    @Test
    void selectedPathsThroughASymlinkedParentAreRefusedAndNeverReadFromTheHost() throws Exception {
        Path host = Files.createDirectories(tmp.resolve("host/etc"));
        String marker = "host-marker-" + System.nanoTime();
        Files.writeString(host.resolve("secret.txt"), marker);
        Path root = Files.createDirectories(tmp.resolve("rootfs"));
        Files.createDirectories(root.resolve("x"));
        Files.createSymbolicLink(root.resolve("x/h"), Path.of("/"));
        Files.createSymbolicLink(root.resolve("x/d"), host);
        Files.createSymbolicLink(root.resolve("x/rel"), Path.of("../../../../../../../../.."));

        for (String asked : List.of(
                "/x/h" + host.resolve("secret.txt"), "/x/d/secret.txt", "/x/rel" + host.resolve("secret.txt"))) {
            assertThatThrownBy(() -> writer.writeSelected(root, List.of(asked), tmp.resolve("c.tgz")))
                    .isInstanceOf(NoSuchFileException.class)
                    .hasMessageContaining("symbolic link");
        }
        // the link itself is an entry like any other, written as a link
        LayerBlob blob =
                writer.writeSelected(root, List.of("/x"), tmp.resolve("d.tgz")).blob();
        assertThat(TarListing.names(blob.file())).containsExactly("x/", "x/d", "x/h", "x/rel");
        try (InputStream in = new GZIPInputStream(Files.newInputStream(blob.file()))) {
            assertThat(new String(in.readAllBytes(), StandardCharsets.ISO_8859_1))
                    .doesNotContain(marker);
        }
    }

    @Test
    void directoriesOnlyCopiedUpStayOutButParentsOfChangesAndChangedDirectoriesStay() throws Exception {
        Path lower = Files.createDirectories(tmp.resolve("lower"));
        for (String d : List.of("etc/ssl", "usr/bin", "var/log", "srv", "opt")) {
            Files.createDirectories(lower.resolve(d));
        }
        Files.setAttribute(lower.resolve("srv"), "unix:mode", 0750);
        Path upper = Files.createDirectories(tmp.resolve("upper"));
        // what runc's /etc/hosts mount point leaves once removed: /etc and below copied up, unchanged
        Files.createDirectories(upper.resolve("etc/ssl"));
        Files.createDirectories(upper.resolve("usr/bin"));
        Files.writeString(upper.resolve("usr/bin/new"), "new");
        Files.createDirectories(upper.resolve("var/log"));
        LinuxFiles.lchown(upper.resolve("var/log"), 0, 4);
        Files.createDirectories(upper.resolve("srv"));
        Files.setAttribute(upper.resolve("srv"), "unix:mode", 0755);
        LinuxFiles.setOpaque(Files.createDirectories(upper.resolve("opt")));
        Files.createDirectories(upper.resolve("home"));

        List<String> names = TarListing.names(
                writer.writeUpperDir(upper, lower, tmp.resolve("l.tgz")).file());

        assertThat(names)
                .containsExactly(
                        "home/",
                        "opt/",
                        "opt/.wh..wh..opq",
                        "srv/",
                        "usr/",
                        "usr/bin/",
                        "usr/bin/new",
                        "var/",
                        "var/log/");
        assertThat(TarListing.names(
                        writer.writeUpperDir(upper, tmp.resolve("all.tgz")).file()))
                .as("without a lower, every directory stays")
                .contains("etc/", "etc/ssl/");
    }

    @Test
    void emptyUpperDirIsAnEmptyLayer() throws Exception {
        LayerBlob blob = writer.writeUpperDir(Files.createDirectories(tmp.resolve("u")), tmp.resolve("e.tgz"));
        assertThat(blob.empty()).isTrue();
        assertThat(TarListing.names(blob.file())).isEmpty();
    }
}
