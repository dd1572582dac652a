package dev.stagefarm.worker.snapshot;

import dev.stagefarm.worker.linux.Mounts;
import dev.stagefarm.worker.linux.PathHandle;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Builds overlayfs mount options and mounts them, staying within the kernel's one-page option limit. */
final class OverlayMount {

    /** mount(2) copies at most one page of options, including the terminating NUL. */
    static final int MAX_OPTIONS_LENGTH = 4095;

    /*
     * index=off: with the inode index, overlay ties each lower to the first upper it was used with and
     *   refuses a second mount of the same layers (EBUSY / ESTALE); our lowers are shared by many mounts.
     * redirect_dir=off: a renamed lower directory would be stored as a trusted.overlay.redirect xattr,
     *   which an OCI layer cannot express; off makes rename(2) fail with EXDEV and mv copies instead.
     * metacopy=off: a chmod would otherwise copy up metadata only, leaving an upper file without data.
     * xino=off: all layers live on one filesystem, where overlay already reports the real (unique)
     *   inode numbers; off keeps kernels built with xino=auto from using the high inode bits.
     */
    private static final String FIXED = ",index=off,redirect_dir=off,metacopy=off,xino=off";

    private OverlayMount() {}

    /** Mounts a writable overlay: {@code lowersTopFirst.get(0)} is the top-most lower directory. */
    static void mountWritable(Path target, List<Path> lowersTopFirst, Path upper, Path work) throws IOException {
        String suffix = ",upperdir=" + escape(upper.toString()) + ",workdir=" + escape(work.toString()) + FIXED;
        mount(target, lowersTopFirst, suffix, 0);
    }

    /** Mounts a read-only overlay of at least two lower directories (overlay refuses a single one). */
    static void mountReadOnly(Path target, List<Path> lowersTopFirst) throws IOException {
        if (lowersTopFirst.size() < 2) {
            throw new IllegalArgumentException("a read-only overlay needs at least 2 lower directories");
        }
        mount(target, lowersTopFirst, FIXED, Mounts.MS_RDONLY);
    }

    private static void mount(Path target, List<Path> lowers, String suffix, long flags) throws IOException {
        List<String> plain = lowers.stream().map(Path::toString).toList();
        String options = options(plain, suffix);
        if (options.length() <= MAX_OPTIONS_LENGTH) {
            doMount(target, options, flags, lowers.size());
            return;
        }
        // Too long: name each lower through an O_PATH descriptor, ~17 bytes each whatever the root's depth.
        List<PathHandle> handles = new ArrayList<>(lowers.size());
        try {
            for (Path lower : lowers) {
                handles.add(PathHandle.open(lower));
            }
            String viaFds = options(handles.stream().map(PathHandle::procPath).toList(), suffix);
            if (viaFds.length() > MAX_OPTIONS_LENGTH) {
                throw new IOException("cannot mount " + lowers.size() + " layers in one overlay: the mount options"
                        + " exceed one page even with short names; squash the image to fewer layers");
            }
            doMount(target, viaFds, flags, lowers.size());
        } finally {
            handles.forEach(PathHandle::close); // the mount holds its own references
        }
    }

    static String options(List<String> lowersTopFirst, String suffix) {
        StringBuilder b = new StringBuilder("lowerdir=");
        for (int i = 0; i < lowersTopFirst.size(); i++) {
            if (i > 0) {
                b.append(':');
            }
            b.append(escape(lowersTopFirst.get(i)));
        }
        return b.append(suffix).toString();
    }

    /** overlayfs splits options on ',' and lower directories on ':'; a backslash escapes either. */
    static String escape(String path) {
        return path.replace("\\", "\\\\").replace(":", "\\:").replace(",", "\\,");
    }

    private static void doMount(Path target, String options, long flags, int layers) throws IOException {
        try {
            Mounts.mount("overlay", target, "overlay", flags, options);
        } catch (IOException e) {
            throw new IOException(
                    "overlay mount of " + layers + " lower layer(s) at " + target + " failed: " + e.getMessage(), e);
        }
    }
}
