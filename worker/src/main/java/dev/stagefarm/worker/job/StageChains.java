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
 * Which snapshots make up each stage this worker has built, by team and stage key, so a later
 * stage here (FROM it, or COPY --from it) uses them directly instead of fetching anything. By
 * team: two teams' builds of one Dockerfile have the same stage keys, but a non-deterministic
 * step (a download, a date, random bytes) leaves each team its own files, and a later stage of
 * one team must never run on the other's.
 */
final class StageChains {

    private final Path dir;

    StageChains(Path dir) throws IOException {
        this.dir = Files.createDirectories(dir);
    }

    void put(String team, String stageKey, List<String> chain) throws IOException {
        Path tmp = Files.createTempFile(dir, "chain", ".tmp");
        Files.writeString(tmp, String.join("\n", chain), StandardCharsets.UTF_8);
        Files.move(tmp, file(team, stageKey), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    Optional<List<String>> get(String team, String stageKey) throws IOException {
        if (stageKey.isEmpty()) {
            return Optional.empty();
        }
        Path f = file(team, stageKey);
        if (!Files.exists(f)) {
            return Optional.empty();
        }
        String text = Files.readString(f, StandardCharsets.UTF_8);
        return Optional.of(text.isEmpty() ? List.of() : List.of(text.split("\n")));
    }

    private Path file(String team, String stageKey) {
        // the empty team (a farm without tokens) keeps the name it always had
        String name = team.isEmpty() ? stageKey : team + "\0" + stageKey;
        return dir.resolve(Digest.of(name.getBytes(StandardCharsets.UTF_8)).encoded());
    }
}
