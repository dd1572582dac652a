package dev.stagefarm.worker.cachemount;

import dev.stagefarm.proto.cache.MountDelta;
import dev.stagefarm.proto.cache.MountEntry;
import java.util.Map;
import java.util.SortedMap;

/** What a step changed in a cache mount: the entries to publish against the state it started from. */
final class MountDeltas {

    private MountDeltas() {}

    static MountDelta between(SortedMap<String, MountEntry> before, SortedMap<String, MountEntry> after) {
        MountDelta.Builder delta = MountDelta.newBuilder();
        for (Map.Entry<String, MountEntry> e : after.entrySet()) {
            MountEntry old = before.get(e.getKey());
            if (old == null || !same(old, e.getValue())) {
                delta.addUpserts(e.getValue());
            }
        }
        String removedDir = null;
        for (String path : before.keySet()) {
            if (after.containsKey(path)) {
                continue;
            }
            // a removed directory takes what is under it along: name it alone
            if (removedDir != null && path.startsWith(removedDir + "/")) {
                continue;
            }
            delta.addDeletes(path);
            removedDir = before.get(path).getType() == MountEntry.Type.DIRECTORY ? path : null;
        }
        return delta.build();
    }

    /** Directories count as unchanged when only their mtime moved: every new file inside moves it. */
    private static boolean same(MountEntry a, MountEntry b) {
        if (a.getType() == MountEntry.Type.DIRECTORY && b.getType() == MountEntry.Type.DIRECTORY) {
            return a.getMode() == b.getMode() && a.getUid() == b.getUid() && a.getGid() == b.getGid();
        }
        return a.equals(b);
    }

    static boolean isEmpty(MountDelta delta) {
        return delta.getUpsertsCount() == 0 && delta.getDeletesCount() == 0;
    }
}
