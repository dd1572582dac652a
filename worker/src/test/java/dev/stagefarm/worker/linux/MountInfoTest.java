package dev.stagefarm.worker.linux;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class MountInfoTest {

    @Test
    void parsesOptionalFieldsAndOctalEscapes() {
        List<MountInfo> mounts = MountInfo.parse(List.of(
                "27 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw",
                "45 27 0:39 / /work/snap\\040shots/s/1/merged rw,relatime - overlay overlay rw,lowerdir=/a:/b",
                "garbage"));

        assertThat(mounts).hasSize(2);
        assertThat(mounts.get(0)).isEqualTo(new MountInfo(27, 1, Path.of("/"), "ext4", "/dev/vda"));
        assertThat(mounts.get(1).mountPoint()).isEqualTo(Path.of("/work/snap shots/s/1/merged"));
        assertThat(mounts.get(1).fsType()).isEqualTo("overlay");
    }

    @Test
    void readsThisProcesssMounts() throws Exception {
        assertThat(MountInfo.read()).extracting(MountInfo::mountPoint).contains(Path.of("/"));
    }
}
