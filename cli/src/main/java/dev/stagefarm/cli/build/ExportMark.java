package dev.stagefarm.cli.build;

import dev.stagefarm.common.Digest;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.UserDefinedFileAttributeView;
import java.util.List;

/**
 * What an archive written by {@code --output} holds, kept in a user extended attribute of the
 * file itself: the export (type, image manifest, names) and the file's size and modification time
 * when it was written. A rebuild whose archive is already at its destination, untouched since,
 * skips writing it again, as BuildKit's image store skips an image it has. Any change to the file
 * (its size or modification time), another image or other names, and the archive is written.
 * File systems without user extended attributes simply always write.
 */
final class ExportMark {

    private static final String ATTRIBUTE = "stagefarm.export";

    private final String export;

    private ExportMark(String export) {
        this.export = export;
    }

    static ExportMark of(String type, Digest manifest, List<?> refs) {
        return new ExportMark(Digest.of((type + "\n" + manifest + "\n" + refs).getBytes(StandardCharsets.UTF_8))
                .toString());
    }

    /** Whether {@code dest} is a regular file this export wrote and nothing changed since. */
    boolean isAt(Path dest) {
        try {
            if (!Files.isRegularFile(dest, LinkOption.NOFOLLOW_LINKS)) {
                return false;
            }
            UserDefinedFileAttributeView view =
                    Files.getFileAttributeView(dest, UserDefinedFileAttributeView.class, LinkOption.NOFOLLOW_LINKS);
            if (view == null || !view.list().contains(ATTRIBUTE)) {
                return false;
            }
            ByteBuffer stored = ByteBuffer.allocate(view.size(ATTRIBUTE));
            view.read(ATTRIBUTE, stored);
            return new String(stored.array(), 0, stored.position(), StandardCharsets.UTF_8).equals(value(dest));
        } catch (IOException | UnsupportedOperationException e) {
            return false;
        }
    }

    /** Marks {@code file}, just written and not to be written again, as holding this export. */
    void mark(Path file) {
        try {
            UserDefinedFileAttributeView view =
                    Files.getFileAttributeView(file, UserDefinedFileAttributeView.class, LinkOption.NOFOLLOW_LINKS);
            if (view != null) {
                view.write(ATTRIBUTE, ByteBuffer.wrap(value(file).getBytes(StandardCharsets.UTF_8)));
            }
        } catch (IOException | UnsupportedOperationException e) {
            // no user xattrs here (e.g. some tmpfs): the next build writes the archive again
        }
    }

    private String value(Path file) throws IOException {
        BasicFileAttributes a = Files.readAttributes(file, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        return export + " " + a.size() + " " + a.lastModifiedTime().toInstant();
    }
}
