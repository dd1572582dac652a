package dev.stagefarm.worker.exec;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;

/** A tiny root filesystem from Debian's busybox-static: every applet a symlink in /bin. */
public final class BusyboxRootfs {

    private static final Path BUSYBOX = Path.of("/bin/busybox");

    private BusyboxRootfs() {}

    /**
     * Fills {@code root} with /bin (busybox + applets), /etc/passwd and /etc/group (root, and app
     * with uid 1000 home /home/app, member of group "extra" 2000), /etc/motd, /tmp and /dir/old.
     * No /proc, /sys or /dev: like an image built FROM scratch.
     */
    public static Path create(Path root) throws IOException, InterruptedException {
        if (!Files.isExecutable(BUSYBOX)) {
            throw new IllegalStateException("/bin/busybox is missing: install the Debian package busybox-static");
        }
        Path bin = Files.createDirectories(root.resolve("bin"));
        Files.copy(BUSYBOX, bin.resolve("busybox"), StandardCopyOption.COPY_ATTRIBUTES);
        for (String applet : applets()) {
            if (!applet.equals("busybox")) {
                Files.createSymbolicLink(bin.resolve(applet), Path.of("busybox"));
            }
        }
        Path etc = Files.createDirectories(root.resolve("etc"));
        Files.writeString(etc.resolve("passwd"), """
                root:x:0:0:root:/root:/bin/sh
                app:x:1000:1000:app:/home/app:/bin/sh
                """);
        Files.writeString(etc.resolve("group"), """
                root:x:0:
                app:x:1000:
                extra:x:2000:app,other
                """);
        Files.writeString(etc.resolve("motd"), "welcome\n");
        Files.createDirectories(root.resolve("root"));
        Path home = Files.createDirectories(root.resolve("home/app"));
        Files.setAttribute(home, "unix:uid", 1000);
        Files.setAttribute(home, "unix:gid", 1000);
        Path tmp = Files.createDirectories(root.resolve("tmp"));
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxrwxrwx"));
        Files.writeString(Files.createDirectories(root.resolve("dir")).resolve("old"), "old\n");
        return root;
    }

    private static List<String> applets() throws IOException, InterruptedException {
        Process p = new ProcessBuilder(BUSYBOX.toString(), "--list").start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
            throw new IOException("busybox --list failed");
        }
        return out.lines().filter(s -> !s.isBlank() && !s.contains("/")).toList();
    }
}
