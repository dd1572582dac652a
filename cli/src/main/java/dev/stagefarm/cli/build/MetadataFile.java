package dev.stagefarm.cli.build;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.stagefarm.proto.farm.BuildResult;
import dev.stagefarm.proto.farm.StageReport;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;

/** {@code --metadata-file}: buildx's keys where buildx has them, ours ({@code stagefarm.*}) beside. */
final class MetadataFile {

    private MetadataFile() {}

    static void write(Path file, BuildResult result, List<String> names) throws IOException {
        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode root = json.createObjectNode();
        if (result.hasImage()) {
            root.put("containerimage.digest", result.getImage().getManifestDigest());
            root.put("containerimage.config.digest", result.getImage().getConfigDigest());
        }
        if (!names.isEmpty()) {
            root.put("image.name", String.join(",", names));
        }
        ArrayNode stages = root.putArray("stagefarm.stages");
        for (StageReport s : result.getStagesList()) {
            stages.addObject()
                    .put("name", s.getName())
                    .put("index", s.getIndex())
                    .put("worker", s.getWorker())
                    .put("cached", s.getCached())
                    .put("startedAt", s.getStartedAt())
                    .put("finishedAt", s.getFinishedAt())
                    .put("fetchedBytes", s.getFetchedBytes());
        }
        Path parent = file.toAbsolutePath().getParent();
        Files.createDirectories(parent);
        Path tmp = Files.createTempFile(parent, ".metadata", ".json");
        json.writeValue(tmp.toFile(), root);
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
    }
}
