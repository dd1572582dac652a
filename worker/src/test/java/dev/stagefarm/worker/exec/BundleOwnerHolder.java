package dev.stagefarm.worker.exec;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A worker process as far as its bundle directory goes, for {@link BundleOwnerTest}: claims
 * {@code args[0]} for runc state {@code args[1]}, writes a bundle whose config.json holds {@code
 * args[2]}, says {@value #CLAIMED}, and lives until its standard input closes (or it is killed).
 */
public final class BundleOwnerHolder {

    static final String CLAIMED = "claimed";

    private BundleOwnerHolder() {}

    public static void main(String[] args) throws IOException {
        Path dir = Path.of(args[0]);
        BundleOwner.claim(dir, Path.of(args[1]));
        Path bundle = Files.createDirectories(dir.resolve("sf-step"));
        Files.writeString(bundle.resolve("config.json"), "{\"process\":{\"env\":[\"TOKEN=" + args[2] + "\"]}}");
        System.out.println(CLAIMED);
        System.out.flush();
        while (System.in.read() >= 0) {
            // lives until the test closes our input
        }
    }
}
