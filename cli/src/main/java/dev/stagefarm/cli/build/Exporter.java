package dev.stagefarm.cli.build;

import dev.stagefarm.cacheclient.CacheClient;
import dev.stagefarm.common.Digest;
import dev.stagefarm.oci.ImageReference;
import dev.stagefarm.oci.ManifestBlob;
import dev.stagefarm.oci.archive.DockerArchiveWriter;
import dev.stagefarm.oci.archive.OciLayoutWriter;
import dev.stagefarm.oci.archive.RegistryPusher;
import dev.stagefarm.oci.json.ManifestJson;
import dev.stagefarm.oci.registry.CredentialStore;
import dev.stagefarm.oci.registry.RegistryClient;
import dev.stagefarm.oci.registry.RegistryConfig;
import dev.stagefarm.oci.registry.RegistryException;
import dev.stagefarm.proto.farm.BuildResult;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** Writes a finished image, read from the cache-server, to where {@code --output} says. */
final class Exporter {

    private final CacheClient cache;
    private final RegistryConfig registries;
    private final PrintStream out;

    Exporter(CacheClient cache, RegistryConfig registries, PrintStream out) {
        this.cache = cache;
        this.registries = registries;
        this.out = out;
    }

    void export(BuildResult result, List<String> tags, List<OutputSpec> outputs) throws IOException {
        if (outputs.isEmpty()) {
            return;
        }
        if (!result.hasImage()) {
            throw new IOException("the build produced no image to export");
        }
        Digest manifestDigest = Digest.parse(result.getImage().getManifestDigest());
        byte[] bytes = cache.readBytes(manifestDigest);
        ManifestBlob manifest =
                new ManifestBlob(bytes, ManifestJson.parseManifest(bytes, ManifestJson.mediaTypeOf(bytes, null)));
        for (OutputSpec spec : outputs) {
            long t0 = System.nanoTime();
            List<ImageReference> refs = new ArrayList<>();
            spec.name().ifPresent(n -> {
                for (String name : n.split(",")) {
                    refs.add(ImageReference.parse(name.strip()));
                }
            });
            if (spec.type() == OutputSpec.Type.DOCKER || spec.type() == OutputSpec.Type.OCI) {
                tags.forEach(t -> refs.add(ImageReference.parse(t)));
            }
            String where = spec.dest().map(Path::toString).orElse(spec.name().orElse(""));
            ExportMark mark = ExportMark.of(spec.type().name(), manifestDigest, refs);
            boolean archive = spec.type() == OutputSpec.Type.DOCKER || spec.type() == OutputSpec.Type.OCI;
            if (archive
                    && !spec.load()
                    && spec.dest().isPresent()
                    && mark.isAt(spec.dest().get())) {
                out.printf(
                        "#export %s %s unchanged: it holds this image already%n",
                        spec.type().name().toLowerCase(Locale.ROOT), spec.dest().get());
                continue;
            }
            switch (spec.type()) {
                case DOCKER -> {
                    if (spec.load()) {
                        where = load(manifest, refs);
                    } else {
                        writeFile(
                                spec.dest().orElseThrow(),
                                mark,
                                o -> new DockerArchiveWriter().write(cache, manifest, refs, o));
                    }
                }
                case OCI ->
                    writeFile(
                            spec.dest().orElseThrow(),
                            mark,
                            o -> new OciLayoutWriter().write(cache, manifest, refs, o));
                case LOCAL ->
                    new FilesystemExporter(cache)
                            .writeDirectory(manifest, spec.dest().orElseThrow());
                case TAR ->
                    new FilesystemExporter(cache).writeTar(manifest, spec.dest().orElseThrow());
                case IMAGE -> {
                    if (!spec.push()) {
                        out.println("#export: type=image without push=true: nothing to do (no local image store)");
                        continue;
                    }
                    try (RegistryClient registry = new RegistryClient(registries, CredentialStore.fromDockerConfig())) {
                        new RegistryPusher(registry).push(cache, manifest, refs);
                    } catch (RegistryException e) {
                        throw new IOException("push " + spec.name().orElse("") + ": " + e.getMessage(), e);
                    }
                }
            }
            out.printf(
                    "#export %s %s done %.1fs%n",
                    spec.type().name().toLowerCase(Locale.ROOT), where, (System.nanoTime() - t0) / 1e9);
        }
    }

    /** {@code --load}: the docker tar, written to a temporary file, sent to the engine at DOCKER_HOST. */
    private String load(ManifestBlob manifest, List<ImageReference> refs) throws IOException {
        DockerEngine engine = DockerEngine.fromEnvironment(System.getenv());
        Path tar = Files.createTempFile("stagefarm-load", ".tar");
        try {
            try (OutputStream o = new BufferedOutputStream(Files.newOutputStream(tar), 1 << 20)) {
                new DockerArchiveWriter().write(cache, manifest, refs, o);
            }
            for (String line : engine.load(tar)) {
                out.println("#export " + line);
            }
        } finally {
            Files.deleteIfExists(tar);
        }
        return "into the Docker engine at " + engine.host();
    }

    private interface TarWriter {
        void write(OutputStream out) throws IOException;
    }

    /** Temp file and rename: a failed export never leaves a half-written archive under the name asked for. */
    private static void writeFile(Path dest, ExportMark mark, TarWriter writer) throws IOException {
        Path parent = dest.toAbsolutePath().getParent();
        Files.createDirectories(parent);
        Path tmp = Files.createTempFile(parent, ".stagefarm-export", ".tmp");
        try (OutputStream o = new BufferedOutputStream(Files.newOutputStream(tmp), 1 << 20)) {
            writer.write(o);
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(tmp);
            throw e;
        }
        mark.mark(tmp); // the attribute moves with the file
        Files.move(tmp, dest, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
}
