package dev.stagefarm.cli.build;

import dev.stagefarm.common.BlobSource;
import dev.stagefarm.common.fs.FileTrees;
import dev.stagefarm.oci.Descriptor;
import dev.stagefarm.oci.ManifestBlob;
import dev.stagefarm.oci.layer.ConfinedLayerApplier;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;

/**
 * {@code --output type=local,dest=DIR} and {@code type=tar,dest=FILE}: the final stage's
 * filesystem, as buildx's local and tar exporters write it. The layers are applied by
 * {@link ConfinedLayerApplier}, so no path or link of the image can make a write land outside DIR;
 * the tar is that directory, made next to FILE and archived.
 */
final class FilesystemExporter {

    private static final LinkOption NOFOLLOW = LinkOption.NOFOLLOW_LINKS;

    private final BlobSource blobs;

    FilesystemExporter(BlobSource blobs) {
        this.blobs = blobs;
    }

    void writeDirectory(ManifestBlob manifest, Path dir) throws IOException {
        try (ConfinedLayerApplier applier = ConfinedLayerApplier.open(dir)) {
            for (Descriptor layer : manifest.manifest().layers()) {
                try (InputStream in = blobs.open(layer.digest())) {
                    applier.apply(in);
                }
            }
            applier.finish();
        }
    }

    void writeTar(ManifestBlob manifest, Path dest) throws IOException {
        Path parent = Files.createDirectories(dest.toAbsolutePath().getParent());
        Path tree = Files.createTempDirectory(parent, ".stagefarm-tar");
        Path tmp = Files.createTempFile(parent, ".stagefarm-export", ".tmp");
        try {
            writeDirectory(manifest, tree.resolve("rootfs"));
            try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(tmp), 1 << 20)) {
                archive(tree.resolve("rootfs"), out);
            }
            Files.move(tmp, dest, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
            FileTrees.deleteRecursively(tree);
        }
    }

    /** The tree in name order, links as links, a file's further names as hard links. */
    private static void archive(Path root, OutputStream out) throws IOException {
        Map<Object, String> firstNameOfInode = new HashMap<>();
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(out, "UTF-8");
                Stream<Path> walk = Files.walk(root)) {
            tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
            List<Path> paths = walk.filter(p -> !p.equals(root)).sorted().toList();
            for (Path p : paths) {
                String name = root.relativize(p).toString();
                Map<String, Object> a =
                        Files.readAttributes(p, "unix:mode,uid,gid,ino,nlink,lastModifiedTime", NOFOLLOW);
                TarArchiveEntry e;
                boolean content = false;
                if (Files.isSymbolicLink(p)) {
                    e = new TarArchiveEntry(name, TarArchiveEntry.LF_SYMLINK);
                    e.setLinkName(Files.readSymbolicLink(p).toString());
                } else if (Files.isDirectory(p, NOFOLLOW)) {
                    e = new TarArchiveEntry(name + "/");
                } else if (Files.isRegularFile(p, NOFOLLOW)) {
                    String first = (int) a.get("nlink") > 1 ? firstNameOfInode.putIfAbsent(a.get("ino"), name) : null;
                    if (first != null) {
                        e = new TarArchiveEntry(name, TarArchiveEntry.LF_LINK);
                        e.setLinkName(first);
                    } else {
                        e = new TarArchiveEntry(name);
                        e.setSize(Files.size(p));
                        content = true;
                    }
                } else {
                    continue; // devices and FIFOs stay out, as in buildx's tar exporter run without root
                }
                e.setMode((e.getMode() & ~07777) | ((int) a.get("mode") & 07777));
                e.setUserId((int) a.get("uid"));
                e.setGroupId((int) a.get("gid"));
                e.setModTime(((FileTime) a.get("lastModifiedTime")).toMillis());
                tar.putArchiveEntry(e);
                if (content) {
                    Files.copy(p, tar);
                }
                tar.closeArchiveEntry();
            }
        }
    }
}
