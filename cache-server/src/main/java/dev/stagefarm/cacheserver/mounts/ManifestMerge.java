package dev.stagefarm.cacheserver.mounts;

import dev.stagefarm.common.Digest;
import dev.stagefarm.proto.cache.MountDelta;
import dev.stagefarm.proto.cache.MountEntry;
import dev.stagefarm.proto.cache.MountManifest;
import java.util.Collection;
import java.util.Map;
import java.util.TreeMap;

/**
 * Applies a step's delta to a mount's manifest. The merge is by path, so concurrent publishers
 * each keep their own additions and, for one path, the later publish wins.
 */
public final class ManifestMerge {

    private ManifestMerge() {}

    static TreeMap<String, MountEntry> byPath(MountManifest manifest) {
        TreeMap<String, MountEntry> entries = new TreeMap<>();
        for (MountEntry e : manifest.getEntriesList()) {
            entries.put(e.getPath(), e);
        }
        return entries;
    }

    /** Checks every path and entry of a delta before anything is merged. */
    static void validate(MountDelta delta) throws MountException {
        for (MountEntry e : delta.getUpsertsList()) {
            checkPath(e.getPath());
            switch (e.getType()) {
                case FILE -> {
                    if (!Digest.isValid(e.getDigest()) || e.getSize() < 0) {
                        throw invalid("file " + e.getPath() + " has no valid digest and size");
                    }
                }
                case SYMLINK -> {
                    if (e.getLinkTarget().isEmpty()) {
                        throw invalid("symlink " + e.getPath() + " has no target");
                    }
                }
                case DIRECTORY -> {}
                default -> throw invalid("entry " + e.getPath() + " has no type");
            }
        }
        for (String path : delta.getDeletesList()) {
            checkPath(path);
        }
    }

    /** Deletions first (a step that removed a directory and made it again sends both). */
    static void apply(TreeMap<String, MountEntry> entries, MountDelta delta) {
        for (String path : delta.getDeletesList()) {
            entries.remove(path);
            below(entries, path).clear();
        }
        for (MountEntry e : delta.getUpsertsList()) {
            MountEntry before = entries.put(e.getPath(), e);
            if (before != null
                    && before.getType() == MountEntry.Type.DIRECTORY
                    && e.getType() != MountEntry.Type.DIRECTORY) {
                // a directory another publisher filled became a file or a link here: its contents go
                below(entries, e.getPath()).clear();
            }
        }
        // a path under a file or symlink another publisher made would make workers write through
        // a link: it goes
        entries.values().removeIf(e -> underNonDirectory(entries, e.getPath()));
    }

    private static boolean underNonDirectory(TreeMap<String, MountEntry> entries, String path) {
        for (int slash = path.indexOf('/'); slash > 0; slash = path.indexOf('/', slash + 1)) {
            MountEntry parent = entries.get(path.substring(0, slash));
            if (parent != null && parent.getType() != MountEntry.Type.DIRECTORY) {
                return true;
            }
        }
        return false;
    }

    static MountManifest manifest(Collection<MountEntry> entries) {
        return MountManifest.newBuilder().addAllEntries(entries).build();
    }

    /** The entries strictly under directory {@code path} ("a/" up to "a0": '0' follows '/'). */
    private static Map<String, MountEntry> below(TreeMap<String, MountEntry> entries, String path) {
        return entries.subMap(path + "/", true, path + "0", false);
    }

    private static void checkPath(String path) throws MountException {
        if (path.isEmpty() || path.startsWith("/") || path.endsWith("/") || path.indexOf('\0') >= 0) {
            throw invalid("bad path in a cache-mount delta: \"" + path + "\"");
        }
        for (String part : path.split("/", -1)) {
            if (part.isEmpty() || part.equals(".") || part.equals("..")) {
                throw invalid("bad path in a cache-mount delta: \"" + path + "\"");
            }
        }
    }

    private static MountException invalid(String message) {
        return new MountException(MountException.Reason.INVALID, message);
    }
}
