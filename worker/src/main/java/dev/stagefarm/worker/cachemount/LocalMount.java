package dev.stagefarm.worker.cachemount;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.stagefarm.proto.cache.MountEntry;
import dev.stagefarm.proto.cache.MountHead;
import dev.stagefarm.proto.cache.MountManifest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.TreeMap;
import java.util.concurrent.locks.ReentrantLock;

/**
 * This worker's copy of one shared cache mount: the directory steps bind, what it is known to
 * hold ({@code known}, kept beside it so a restarted worker need not hash it again), which head it
 * was last made equal to, and how many steps on this worker use it now.
 */
final class LocalMount {

    final Path dir;
    final ReentrantLock lock = new ReentrantLock();
    private final Path knownFile;
    /** Entries the directory held after its last sync or publish. */
    TreeMap<String, MountEntry> known;
    /** The manifest the directory equals, when known; null when it may differ from every head. */
    String syncedManifest;
    /** Steps on this worker using the directory now: only the first one syncs it. */
    int users;

    LocalMount(Path dir) {
        this.dir = dir;
        this.knownFile = dir.resolveSibling(dir.getFileName() + ".known");
    }

    /** Reads what a previous run of the worker knew about the directory (under {@link #lock}). */
    void load() throws IOException {
        if (known != null) {
            return;
        }
        known = new TreeMap<>();
        try {
            for (MountEntry e :
                    MountManifest.parseFrom(Files.readAllBytes(knownFile)).getEntriesList()) {
                known.put(e.getPath(), e);
            }
        } catch (NoSuchFileException e) {
            // never synced here: everything the head lists is fetched
        } catch (InvalidProtocolBufferException e) {
            known.clear(); // unreadable: fetch everything again rather than trust it
        }
    }

    /** Records what the directory holds now and which manifest it equals (null: none known). */
    void remember(TreeMap<String, MountEntry> entries, MountHead equalTo) throws IOException {
        known = entries;
        syncedManifest = equalTo == null ? null : equalTo.getManifestDigest();
        Path temp = Files.createTempFile(dir.getParent(), "." + dir.getFileName(), ".known");
        try {
            Files.write(
                    temp,
                    MountManifest.newBuilder()
                            .addAllEntries(entries.values())
                            .build()
                            .toByteArray());
            Files.move(temp, knownFile, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(temp);
        }
    }
}
