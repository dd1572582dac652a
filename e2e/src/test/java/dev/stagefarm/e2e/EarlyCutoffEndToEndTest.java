package dev.stagefarm.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Early cut-off: a builder stage that reruns but yields the same files (new mtimes) leaves the
 * stage that copies from it cached; new bytes or a new mode rerun it. Read from the build's
 * events, as {@code --progress=plain} prints them.
 */
@Tag("e2e")
class EarlyCutoffEndToEndTest {

    private static final String BUILDER_RUN = "RUN echo \"noise $NOISE\"";
    private static final String COPY = "COPY --from=builder /out /app";
    private static final String MOUNT_RUN = "cat /mnt/link > /app/copied";

    @TempDir
    Path dir;

    @Test
    void sameFilesFromARebuiltStageKeepLaterStagesCachedAndNewBytesOrModeDoNot() throws Exception {
        Path ctx = Path.of("src/test/resources/early-cutoff").toAbsolutePath();
        try (Farm farm = new Farm(dir, "w1")) {
            Map<String, Boolean> first = build(farm, ctx, "NOISE=1");
            assertThat(first).containsEntry(BUILDER_RUN, false).containsEntry(COPY, false);

            // the ARG the output does not use: the builder reruns (its files get new mtimes) ...
            Thread.sleep(1100); // ... in a later second than the first build's, whatever the machine's speed
            Map<String, Boolean> noise = build(farm, ctx, "NOISE=2");
            assertThat(noise)
                    .as("the builder ran again")
                    .containsEntry(BUILDER_RUN, false)
                    .as("the same files, so COPY --from and RUN --mount=from stay cached")
                    .containsEntry(COPY, true)
                    .containsEntry(MOUNT_RUN, true);

            // a builder found in the cache, never run, gives the same key through its recorded artifact
            assertThat(build(farm, ctx, "NOISE=1"))
                    .containsEntry(BUILDER_RUN, true)
                    .containsEntry(COPY, true);

            Path oci = dir.resolve("bye.oci.tar");
            Map<String, Boolean> bytes =
                    build(farm, ctx, "TEXT=bye", "-t", "cutoff:e2e", "--output", "type=oci,dest=" + oci);
            assertThat(bytes)
                    .as("new bytes: the copy and the mount rerun")
                    .containsEntry(COPY, false)
                    .containsEntry(MOUNT_RUN, false);
            Path rootfs = Images.unpackOci(oci, Files.createDirectories(dir.resolve("unpack")), "e2e")
                    .resolve("rootfs");
            assertThat(rootfs.resolve("app/greeting")).hasContent("bye");
            assertThat(rootfs.resolve("app/copied")).hasContent("bye");

            Map<String, Boolean> mode = build(farm, ctx, "MODE=0600");
            assertThat(mode)
                    .as("the same bytes with another mode: the copy reruns")
                    .containsEntry(BUILDER_RUN, false)
                    .containsEntry(COPY, false)
                    .containsEntry(MOUNT_RUN, false);
        }
    }

    /** Builds with {@code --build-arg}s; returns, per step (a key of this class), whether it was CACHED. */
    private static Map<String, Boolean> build(Farm farm, Path ctx, String arg, String... more) throws Exception {
        java.util.List<String> args = new java.util.ArrayList<>(java.util.List.of("--progress=plain"));
        args.add("--build-arg");
        args.add(arg);
        args.addAll(java.util.List.of(more));
        args.add(ctx.toString());
        String output = farm.build(args.toArray(String[]::new)).assertOk().output();
        Map<String, Boolean> cached = new LinkedHashMap<>();
        for (String step : java.util.List.of(BUILDER_RUN, COPY, MOUNT_RUN)) {
            String id = vertex(output, step);
            cached.put(step, output.contains("\n#" + id + " CACHED\n"));
            assertThat(cached.get(step) || output.contains("\n#" + id + " DONE"))
                    .as("step %s (#%s) either CACHED or DONE in:%n%s", step, id, output)
                    .isTrue();
        }
        return cached;
    }

    /** The number plain progress gives the step whose description contains {@code step}. */
    private static String vertex(String output, String step) {
        Matcher m = Pattern.compile("(?m)^#(\\d+) \\[[^\\]]+\\] (.*)$").matcher(output);
        while (m.find()) {
            if (("[" + m.group(0).split("\\[", 2)[1]).contains(step)) {
                return m.group(1);
            }
        }
        throw new AssertionError("no step " + step + " in:\n" + output);
    }
}
