package dev.stagefarm.cli.build;

import dev.stagefarm.proto.cache.ImageResult;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * The image id of {@code --iidfile} and {@code -q}: as in buildx, the digest of the image config
 * (what {@code docker images} shows), falling back to the manifest digest.
 */
final class ImageId {

    private ImageId() {}

    static String of(ImageResult image) {
        return image.getConfigDigest().isEmpty() ? image.getManifestDigest() : image.getConfigDigest();
    }

    /**
     * @param iidFile written when not null (no newline, as buildx writes it)
     * @param quietOut prints the id alone when not null
     */
    static void report(ImageResult image, Path iidFile, PrintStream quietOut) throws IOException {
        String id = of(image);
        if (iidFile != null) {
            Path parent = iidFile.toAbsolutePath().getParent();
            Files.createDirectories(parent);
            Path tmp = Files.createTempFile(parent, ".iidfile", ".tmp");
            Files.writeString(tmp, id);
            Files.move(tmp, iidFile, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        }
        if (quietOut != null) {
            quietOut.println(id);
            quietOut.flush();
        }
    }
}
