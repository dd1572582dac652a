package dev.stagefarm.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A base image of several layers, pulled from the registry by a farm that holds none of them:
 * the layers after the first download while the ones before them unpack, and the stage still
 * sees every layer, in order.
 */
@Tag("e2e")
class ManyLayersBaseEndToEndTest {

    @TempDir
    Path dir;

    @Test
    void everyLayerOfAPulledBaseArrivesInOrder() throws Exception {
        String image = Farm.REGISTRY + "/e2e/many-layers:" + System.nanoTime();
        Path base = Files.createDirectories(dir.resolve("base"));
        // five layers of 4 MiB each over busybox's; the fourth deletes a file of the second
        Files.writeString(base.resolve("Dockerfile"), """
                FROM busybox
                RUN head -c 4194304 /dev/urandom > /l1 && echo one > /l1.txt
                RUN head -c 4194304 /dev/urandom > /l2 && echo two > /l2.txt && echo doomed > /gone.txt
                RUN head -c 4194304 /dev/urandom > /l3 && echo three > /l3.txt
                RUN rm /gone.txt && echo four > /l3.txt
                RUN head -c 4194304 /dev/urandom > /l5 && echo five > /l5.txt
                """);
        Path app = Files.createDirectories(dir.resolve("app"));
        Files.writeString(app.resolve("Dockerfile"), """
                FROM %s
                RUN cat /l1.txt /l2.txt /l3.txt /l5.txt > /seen.txt && ls /gone.txt 2>/dev/null >> /seen.txt; true
                """.formatted(image));

        try (Farm publisher = new Farm(dir.resolve("publisher"), "w1")) {
            publisher
                    .build(
                            "-t",
                            "many-layers:e2e",
                            "--output",
                            "type=image,name=" + image + ",push=true",
                            base.toString())
                    .assertOk();
        }
        try (Farm fresh = new Farm(dir.resolve("fresh"), "w1")) {
            Path oci = dir.resolve("app.oci.tar");
            fresh.build("-t", "app:e2e", "--output", "type=oci,dest=" + oci, app.toString())
                    .assertOk();
            Path rootfs = Images.unpackOci(oci, Files.createDirectories(dir.resolve("unpack")), "e2e")
                    .resolve("rootfs");

            assertThat(rootfs.resolve("seen.txt")).hasContent("one\ntwo\nfour\nfive");
            for (String big : new String[] {"l1", "l2", "l3", "l5"}) {
                assertThat(Files.size(rootfs.resolve(big))).isEqualTo(4L << 20);
            }
            assertThat(rootfs.resolve("gone.txt")).doesNotExist();
        }
    }
}
