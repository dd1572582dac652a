package dev.stagefarm.oci.layer;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

/** Reads back the headers of a gzip layer, for assertions. */
record TarListing(
        String name,
        char type,
        int mode,
        long uid,
        long gid,
        String link,
        long size,
        long mtime,
        Map<String, String> pax) {

    static List<TarListing> of(Path gzLayer) throws IOException {
        List<TarListing> out = new ArrayList<>();
        try (InputStream in = new GZIPInputStream(Files.newInputStream(gzLayer));
                TarArchiveInputStream tar = new TarArchiveInputStream(in, "UTF-8")) {
            for (TarArchiveEntry e; (e = tar.getNextEntry()) != null; ) {
                out.add(new TarListing(
                        e.getName(),
                        (char) e.getLinkFlag(),
                        e.getMode(),
                        e.getLongUserId(),
                        e.getLongGroupId(),
                        e.getLinkName(),
                        e.getSize(),
                        e.getLastModifiedTime().toMillis() / 1000,
                        Map.copyOf(e.getExtraPaxHeaders())));
            }
        }
        return out;
    }

    static List<String> names(Path gzLayer) throws IOException {
        return of(gzLayer).stream().map(TarListing::name).toList();
    }

    static TarListing find(List<TarListing> all, String name) {
        return all.stream()
                .filter(t -> t.name().equals(name))
                .findFirst()
                .orElseThrow(() -> new AssertionError(
                        name + " not in " + all.stream().map(TarListing::name).toList()));
    }
}
