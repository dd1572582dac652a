package dev.stagefarm.worker.exec;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;

/**
 * Where runc bundles go: a tmpfs, because a bundle's config.json carries the step's environment,
 * and with it every secret a RUN takes with {@code --mount=type=secret,env=}. One directory per
 * worker root, so that a restarted worker finds its own leftovers and no other worker's; a dead
 * worker's that never restarts are removed by the next worker to start ({@link BundleOwner}).
 */
final class BundleDirs {

    private static final List<Path> CANDIDATES = List.of(Path.of("/dev/shm"), Path.of("/run"));

    private BundleDirs() {}

    static Path inMemory(Path workerRoot) {
        String tag = tag(workerRoot.toAbsolutePath().normalize().toString());
        for (Path base : CANDIDATES) {
            if (isTmpfs(base) && Files.isWritable(base)) {
                return base.resolve("stagefarm-bundles-" + tag);
            }
        }
        throw new IllegalStateException("neither /dev/shm nor /run is a writable tmpfs: the worker keeps runc"
                + " bundles (which hold secrets) only in memory; mount a tmpfs on /dev/shm");
    }

    static boolean isTmpfs(Path dir) {
        try {
            return Files.isDirectory(dir) && Files.getFileStore(dir).type().equals("tmpfs");
        } catch (IOException e) {
            return false;
        }
    }

    private static String tag(String root) {
        try {
            byte[] h = MessageDigest.getInstance("SHA-256").digest(root.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(h, 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
