package dev.stagefarm.worker.exec;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.common.linux.LinuxFiles;
import dev.stagefarm.oci.layer.LayerWriter;
import dev.stagefarm.worker.linux.MountInfo;
import dev.stagefarm.worker.linux.Mounts;
import dev.stagefarm.worker.snapshot.ActiveSnapshot;
import dev.stagefarm.worker.snapshot.OverlaySnapshotter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** RUN steps as the worker runs them: runc on an overlay snapshot, committed and stacked. */
@Tag("root")
class RuncOnOverlayTest {

    @TempDir
    Path tmp;

    RuncExecutor executor;
    OverlaySnapshotter snapshots;

    @BeforeEach
    void setUp() throws Exception {
        executor = RuncExecutor.open(RuncExecutor.Config.defaults(tmp.resolve("worker")));
        snapshots = OverlaySnapshotter.open(tmp.resolve("worker/snapshots"));
        try (ActiveSnapshot base = snapshots.prepare(List.of())) {
            BusyboxRootfs.create(base.merged());
            base.commit("base");
        }
    }

    @AfterEach
    void noMountsLeft() throws IOException {
        List<MountInfo> left = MountInfo.under(tmp);
        for (MountInfo m : left.reversed()) {
            Mounts.unmountDetached(m.mountPoint());
        }
        assertThat(left).as("mounts left behind").isEmpty();
    }

    @Test
    void runChangesBecomeALayerAndStack() throws Exception {
        Path upper;
        try (ActiveSnapshot step = snapshots.prepare(List.of("base"))) {
            run(step, "rm /etc/motd; mkdir -p /d; echo x > /d/f");
            upper = step.commit("step1");
        }

        assertThat(LinuxFiles.isWhiteout(upper.resolve("etc/motd"))).isTrue();
        assertThat(upper.resolve("d/f")).hasContent("x");
        // only the step's own changes: no /proc, /dev, /sys or /etc/hosts stubs from runc
        assertThat(list(upper)).containsExactly("d", "etc");
        assertThat(list(upper.resolve("etc"))).containsExactly("motd");

        try (ActiveSnapshot next = snapshots.prepare(List.of("base", "step1"))) {
            assertThat(run(next, "test ! -e /etc/motd && cat /d/f")).containsExactly("x");
        }
    }

    @Test
    void directoriesRuncOnlyCopiedUpStayOutOfTheLayer() throws Exception {
        Path upper;
        try (ActiveSnapshot step = snapshots.prepare(List.of("base"))) {
            run(step, "echo hi > /hello.txt");
            upper = step.commit("quiet");
        }
        // runc's /etc/hosts and /etc/resolv.conf mount points made overlayfs copy /etc up
        assertThat(list(upper)).containsExactly("etc", "hello.txt");

        Path blob = tmp.resolve("layer.tgz");
        try (var below = snapshots.mountReadOnly(List.of("base"))) {
            new LayerWriter(LayerWriter.Options.defaults()).writeUpperDir(upper, below.path(), blob);
        }

        List<String> names = new ArrayList<>();
        try (var tar = new TarArchiveInputStream(new GZIPInputStream(Files.newInputStream(blob)))) {
            for (var e = tar.getNextEntry(); e != null; e = tar.getNextEntry()) {
                names.add(e.getName());
            }
        }
        assertThat(names).containsExactly("hello.txt");
    }

    @Test
    void replacingADirectoryMakesItOpaque() throws Exception {
        Path upper;
        try (ActiveSnapshot step = snapshots.prepare(List.of("base"))) {
            run(step, "rm -rf /dir && mkdir /dir && echo new > /dir/new");
            upper = step.commit("replace");
        }

        assertThat(LinuxFiles.isOpaque(upper.resolve("dir"))).isTrue();
        try (ActiveSnapshot next = snapshots.prepare(List.of("base", "replace"))) {
            assertThat(run(next, "ls /dir")).containsExactly("new");
        }
    }

    @Test
    void restartAfterACrashCleansUp() throws Exception {
        ActiveSnapshot abandoned = snapshots.prepare(List.of("base"));
        run(abandoned, "echo half > /half");

        RuncExecutor.open(RuncExecutor.Config.defaults(tmp.resolve("worker")));
        OverlaySnapshotter.open(tmp.resolve("worker/snapshots"));

        assertThat(MountInfo.under(tmp)).isEmpty();
        assertThat(abandoned.upper()).doesNotExist();
    }

    private List<String> run(ActiveSnapshot snapshot, String script) throws Exception {
        List<String> lines = new ArrayList<>();
        ExecResult result =
                executor.run(snapshot.merged(), ProcessSpec.of("sh", "-c", script), lines::add, Duration.ofSeconds(60));
        assertThat(result.exitCode())
                .as("exit code of %s, output %s", script, lines)
                .isZero();
        return lines;
    }

    private static List<String> list(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }
}
