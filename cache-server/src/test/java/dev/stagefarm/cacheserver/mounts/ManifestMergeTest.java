package dev.stagefarm.cacheserver.mounts;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.stagefarm.common.Digest;
import dev.stagefarm.proto.cache.MountDelta;
import dev.stagefarm.proto.cache.MountEntry;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** The merge rules of cache-mount deltas, path by path. */
class ManifestMergeTest {

    @Test
    void removingADirectoryRemovesWhatAnotherPublisherAddedUnderIt() throws Exception {
        TreeMap<String, MountEntry> entries = new TreeMap<>();
        ManifestMerge.apply(
                entries,
                MountDelta.newBuilder()
                        .addUpserts(dir("a"))
                        .addUpserts(file("a/x"))
                        .addUpserts(file("a-b"))
                        .addUpserts(file("ab"))
                        .build());
        ManifestMerge.apply(
                entries, MountDelta.newBuilder().addUpserts(file("a/y")).build());
        ManifestMerge.apply(entries, MountDelta.newBuilder().addDeletes("a").build());
        assertThat(entries.keySet()).containsExactly("a-b", "ab");
    }

    @Test
    void nothingStaysUnderAPathThatBecameAFileOrALink() throws Exception {
        TreeMap<String, MountEntry> entries = new TreeMap<>();
        ManifestMerge.apply(
                entries,
                MountDelta.newBuilder()
                        .addUpserts(dir("d"))
                        .addUpserts(file("d/f"))
                        .build());
        ManifestMerge.apply(
                entries,
                MountDelta.newBuilder()
                        .addUpserts(MountEntry.newBuilder()
                                .setPath("d")
                                .setType(MountEntry.Type.SYMLINK)
                                .setLinkTarget("/etc"))
                        .build());
        // a publisher that started before the change still adds below d: it must not land under the link
        ManifestMerge.apply(
                entries, MountDelta.newBuilder().addUpserts(file("d/passwd")).build());
        assertThat(entries.keySet()).containsExactly("d");
    }

    @Test
    void pathsThatLeaveTheMountAreRefused() {
        for (String bad : new String[] {"/etc/passwd", "../x", "a/../../x", "a//b", "a/", ""}) {
            MountDelta delta = MountDelta.newBuilder()
                    .addUpserts(file("ok").toBuilder().setPath(bad))
                    .build();
            assertThatThrownBy(() -> ManifestMerge.validate(delta)).as(bad).isInstanceOf(MountException.class);
        }
    }

    private static MountEntry dir(String path) {
        return MountEntry.newBuilder()
                .setPath(path)
                .setType(MountEntry.Type.DIRECTORY)
                .setMode(0755)
                .build();
    }

    private static MountEntry file(String path) {
        return MountEntry.newBuilder()
                .setPath(path)
                .setType(MountEntry.Type.FILE)
                .setMode(0644)
                .setSize(1)
                .setDigest(Digest.of(path.getBytes()).toString())
                .build();
    }
}
