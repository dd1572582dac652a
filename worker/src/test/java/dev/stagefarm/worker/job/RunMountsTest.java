package dev.stagefarm.worker.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import dev.stagefarm.proto.farm.CacheMount;
import dev.stagefarm.proto.farm.InlineFile;
import dev.stagefarm.proto.farm.Job;
import dev.stagefarm.proto.farm.RunMount;
import dev.stagefarm.proto.farm.SecretMount;
import dev.stagefarm.proto.farm.TmpfsMount;
import dev.stagefarm.worker.exec.BusyboxRootfs;
import dev.stagefarm.worker.exec.ExecResult;
import dev.stagefarm.worker.exec.ProcessSpec;
import dev.stagefarm.worker.exec.RuncExecutor;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** RUN --mount on real runc containers: what the process sees, and that none of it stays in the rootfs. */
@Tag("root")
class RunMountsTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    @TempDir
    static Path tmp;

    static RuncExecutor runc;
    static RunMounts mounts;

    @BeforeAll
    static void setUp() throws Exception {
        runc = RuncExecutor.open(RuncExecutor.Config.defaults(tmp.resolve("worker")));
        // only cache, tmpfs, secret and file mounts here: they need no context, stage or layer
        mounts = new RunMounts(tmp.resolve("cache-mounts"), tmp.resolve("run-scratch"), null, null, null, null);
    }

    @Test
    void aCacheMountPersistsAcrossRunsAndStaysOutOfTheRootfs() throws Exception {
        Path rootfs = rootfs("cache");
        RunMount cache = RunMount.newBuilder()
                .setTarget("/root/.cache/pkg")
                .setCache(CacheMount.newBuilder()
                        .setId("pkg")
                        .setSharing("locked")
                        .setUid(1000)
                        .setGid(1000)
                        .setMode(0750))
                .build();

        run(
                rootfs,
                List.of(cache),
                Job.getDefaultInstance(),
                "echo downloaded > /root/.cache/pkg/a; stat -c '%u %g %a' /root/.cache/pkg");
        List<String> second = run(rootfs, List.of(cache), Job.getDefaultInstance(), "cat /root/.cache/pkg/a");

        assertThat(second).containsExactly("downloaded");
        assertThat(rootfs.resolve("root/.cache"))
                .as("the mount point stub is removed")
                .doesNotExist();
    }

    @Test
    void twoTeamsUsingOneCacheIdOnAWorkerSeeTwoCaches() throws Exception {
        Path rootfs = rootfs("cache-teams");
        RunMount cache = RunMount.newBuilder()
                .setTarget("/cache")
                .setCache(CacheMount.newBuilder().setId("go-build").setSharing("shared"))
                .build();
        Job alice = Job.newBuilder().setTeam("team-a").build();
        Job bob = Job.newBuilder().setTeam("team-b").build();

        run(rootfs, List.of(cache), alice, "echo alice > /cache/planted");
        // bob's build of the same Dockerfile neither reads nor poisons alice's cache
        assertThat(run(rootfs, List.of(cache), bob, "ls -A /cache; echo bob > /cache/planted"))
                .isEmpty();
        assertThat(run(rootfs, List.of(cache), alice, "cat /cache/planted")).containsExactly("alice");
    }

    @Test
    void aCacheMountIsCreatedWithItsOwnerAndMode() throws Exception {
        Path rootfs = rootfs("cache-owner");
        RunMount cache = RunMount.newBuilder()
                .setTarget("/cache")
                .setCache(CacheMount.newBuilder()
                        .setId("owned")
                        .setSharing("shared")
                        .setUid(1000)
                        .setGid(1000)
                        .setMode(0750))
                .build();
        assertThat(run(rootfs, List.of(cache), Job.getDefaultInstance(), "stat -c '%u %g %a' /cache"))
                .containsExactly("1000 1000 750");
    }

    @Test
    void secretsReachTheProcessAsAFileAndAnEnvironmentVariable() throws Exception {
        Path rootfs = rootfs("secret");
        Job job = Job.newBuilder()
                .putSecrets("token", ByteString.copyFromUtf8("s3cr3t"))
                .build();
        List<RunMount> specs = List.of(
                RunMount.newBuilder()
                        .setTarget("/run/secrets/token")
                        .setSecret(SecretMount.newBuilder().setId("token").setMode(0400))
                        .build(),
                RunMount.newBuilder()
                        .setSecret(SecretMount.newBuilder().setId("token").setEnv("TOKEN"))
                        .build());

        List<String> out =
                run(rootfs, specs, job, "cat /run/secrets/token; echo; echo $TOKEN; stat -c %a /run/secrets/token");

        assertThat(out).containsExactly("s3cr3t", "s3cr3t", "400");
        assertThat(rootfs.resolve("run"))
                .as("no trace of the secret in the rootfs")
                .doesNotExist();
        try (Stream<Path> all = Files.walk(rootfs)) {
            assertThat(all.filter(Files::isRegularFile)
                            .filter(p -> !p.toString().contains("/bin/"))
                            .anyMatch(p -> contains(p, "s3cr3t")))
                    .isFalse();
        }
    }

    @Test
    void aMissingRequiredSecretFailsAndAnOptionalOneIsSkipped() throws Exception {
        RunMount required = RunMount.newBuilder()
                .setTarget("/run/secrets/npm")
                .setSecret(SecretMount.newBuilder().setId("npm").setRequired(true))
                .build();
        assertThatThrownBy(() -> mounts.prepare(Job.getDefaultInstance(), List.of(required), new AtomicLong()))
                .hasMessageContaining("secret npm is required but was not given: pass it with --secret id=npm");

        RunMount optional = required.toBuilder()
                .setSecret(required.getSecret().toBuilder().setRequired(false))
                .build();
        try (RunMounts.Prepared p = mounts.prepare(Job.getDefaultInstance(), List.of(optional), new AtomicLong())) {
            assertThat(p.mounts).isEmpty();
        }
    }

    @Test
    void aTmpfsMountHidesWhatIsBelowAndKeepsNothing() throws Exception {
        Path rootfs = rootfs("tmpfs");
        RunMount tmpfs = RunMount.newBuilder()
                .setTarget("/dir")
                .setTmpfs(TmpfsMount.newBuilder().setSizeBytes(1 << 20))
                .build();

        List<String> out =
                run(rootfs, List.of(tmpfs), Job.getDefaultInstance(), "ls /dir; echo new > /dir/new; cat /dir/new");

        assertThat(out).containsExactly("new");
        assertThat(rootfs.resolve("dir/old")).hasContent("old\n");
        assertThat(rootfs.resolve("dir/new")).doesNotExist();
    }

    @Test
    void removingAMountPointStubLeavesItsDirectorysTimeAsTheRunLeftIt() throws Exception {
        Path rootfs = rootfs("stub-times");
        RunMount tmpfs = RunMount.newBuilder()
                .setTarget("/dir/cache")
                .setTmpfs(TmpfsMount.getDefaultInstance())
                .build();

        // the process's last act is touching a marker: removing the stub afterwards must not
        // make /dir look newer than that (BuildKit restores the directory's times)
        run(rootfs, List.of(tmpfs), Job.getDefaultInstance(), "sleep 0.05; touch /tmp/marker");

        assertThat(rootfs.resolve("dir/cache")).doesNotExist();
        assertThat(Files.getLastModifiedTime(rootfs.resolve("dir")))
                .isLessThanOrEqualTo(Files.getLastModifiedTime(rootfs.resolve("tmp/marker")));
    }

    @Test
    void aShebangHeredocRunsFromItsScriptMount() throws Exception {
        Path rootfs = rootfs("script");
        RunMount script = RunMount.newBuilder()
                .setTarget("/dev/pipes/EOF")
                .setFile(InlineFile.newBuilder()
                        .setMode(0755)
                        .setContent(ByteString.copyFromUtf8("#!/bin/sh\necho from the script $0\n")))
                .build();
        try (RunMounts.Prepared p = mounts.prepare(Job.getDefaultInstance(), List.of(script), new AtomicLong())) {
            List<String> out = new ArrayList<>();
            ExecResult r = runc.run(
                    rootfs,
                    new ProcessSpec(List.of("/dev/pipes/EOF"), List.of(), "/", "", "default", p.mounts),
                    out::add,
                    TIMEOUT);
            assertThat(r.exitCode()).isZero();
            assertThat(out).containsExactly("from the script /dev/pipes/EOF");
        }
    }

    private static List<String> run(Path rootfs, List<RunMount> specs, Job job, String script) throws Exception {
        try (RunMounts.Prepared p = mounts.prepare(job, specs, new AtomicLong())) {
            List<String> env = new ArrayList<>(p.secretEnv);
            List<String> out = new ArrayList<>();
            ExecResult r = runc.run(
                    rootfs,
                    new ProcessSpec(List.of("sh", "-c", script), env, "/", "", "default", p.mounts),
                    out::add,
                    TIMEOUT);
            assertThat(r.exitCode()).as(String.join("\n", out)).isZero();
            return out;
        }
    }

    private static Path rootfs(String name) throws Exception {
        return BusyboxRootfs.create(Files.createDirectory(tmp.resolve(name)));
    }

    private static boolean contains(Path p, String text) {
        try {
            return new String(Files.readAllBytes(p), StandardCharsets.ISO_8859_1).contains(text);
        } catch (IOException e) {
            return false;
        }
    }
}
