package dev.stagefarm.worker.job;

import dev.stagefarm.common.Digest;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Optional;

/**
 * Which snapshots make up each stage this worker has built, by stage key, so a later stage here
 * (FROM it, or COPY --from it) uses them directly instead of fetching anything.
 */
final class StageChains {

    private final Path dir;

    StageChains(Path dir) throws IOException {
        this.dir = Files.createDirectories(dir);
    }

    void put(String stageKey, List<String> chain) throws IOException {
        Path tmp = Files.createTempFile(dir, "chain", ".tmp");
        Files.writeString(tmp, String.join("\n", chain), StandardCharsets.UTF_8);
        Files.move(tmp, file(stageKey), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    Optional<List<String>> get(String stageKey) throws IOException {
        if (stageKey.isEmpty()) {
            return Optional.empty();
        }
        Path f = file(stageKey);
        if (!Files.exists(f)) {
            return Optional.empty();
        }
        String text = Files.readString(f, StandardCharsets.UTF_8);
        return Optional.of(text.isEmpty() ? List.of() : List.of(text.split("\n")));
    }

    private Path file(String stageKey) {
        return dir.resolve(Digest.of(stageKey.getBytes(StandardCharsets.UTF_8)).encoded());
    }
}
