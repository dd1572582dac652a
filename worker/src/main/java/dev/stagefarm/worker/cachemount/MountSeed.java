package dev.stagefarm.worker.cachemount;

import dev.stagefarm.common.fs.FileHandle;
import dev.stagefarm.common.fs.RootFs;
import dev.stagefarm.common.linux.FileStat;
import dev.stagefarm.common.linux.LinuxFiles;
import dev.stagefarm.common.linux.Native;
import dev.stagefarm.proto.cache.MountEntry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;

/**
 * Fills a PRIVATE copy from this worker's own copy of the mount instead of the network. Only
 * entries the disk still matches are copied, with their owners, modes and mtimes, so the sync
 * that follows trusts them and fetches only what the head has beyond them.
 */
final class MountSeed {

    private MountSeed() {}

    /**
     * Copies the entries of {@code known} that {@code from} still holds into the empty {@code to}.
     * The caller keeps every step of this worker out of {@code from} meanwhile.
     *
     * @return the entries {@code to} now holds
     */
    static TreeMap<String, MountEntry> copy(Path from, Path to, Map<String, MountEntry> known) throws IOException {
        TreeMap<String, MountEntry> copied = new TreeMap<>();
        // a step wrote "from": each entry is opened beneath it by exactly its name, links never followed
        try (RootFs source = RootFs.open(from)) {
            for (MountEntry e : new TreeMap<>(known).values()) {
                Path target = to.resolve(e.getPath());
                int slash = e.getPath().lastIndexOf('/');
                if (slash > 0 && !copied.containsKey(e.getPath().substring(0, slash))) {
                    continue; // its directory was not copied
                }
                try (FileHandle h = source.handleExact(e.getPath())) {
                    if (!matches(h, e)) {
                        continue; // changed since it was known
                    }
                    switch (e.getType()) {
                        case DIRECTORY -> Files.createDirectory(target);
                        case SYMLINK -> Files.createSymbolicLink(target, Path.of(e.getLinkTarget()));
                        case FILE -> Files.copy(h.procPath(), target);
                        default -> {
                            continue;
                        }
                    }
                } catch (NoSuchFileException | Native.ErrnoException gone) {
                    continue; // removed, or now below a link
                }
                LinuxFiles.lchown(target, e.getUid(), e.getGid());
                if (e.getType() != MountEntry.Type.SYMLINK) {
                    Files.setAttribute(target, "unix:mode", e.getMode(), LinkOption.NOFOLLOW_LINKS);
                }
                if (e.getType() != MountEntry.Type.DIRECTORY) {
                    // directories' times are not compared; files' must match for the sync to trust them
                    LinuxFiles.utimensNoFollow(target, Math.floorDiv(e.getMtimeNanos(), 1_000_000_000L), (int)
                            Math.floorMod(e.getMtimeNanos(), 1_000_000_000L));
                }
                copied.put(e.getPath(), e);
            }
        }
        return copied;
    }

    /** What {@link MountScanner#matches} checks, on the open file rather than a path. */
    private static boolean matches(FileHandle h, MountEntry e) throws IOException {
        FileStat s = h.stat();
        return switch (e.getType()) {
            case FILE ->
                s.isRegular()
                        && s.size() == e.getSize()
                        && s.mtimeSeconds() * 1_000_000_000L + s.mtimeNanos() == e.getMtimeNanos();
            case DIRECTORY -> s.isDirectory();
            case SYMLINK -> s.isSymlink() && h.readlink().equals(e.getLinkTarget());
            default -> false;
        };
    }
}
