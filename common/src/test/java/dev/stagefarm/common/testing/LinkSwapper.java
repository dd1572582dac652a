package dev.stagefarm.common.testing;

import java.io.IOException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/**
 * A hostile step sharing a tree with the worker: a thread that swaps directories for links to a
 * target outside their root and back, as fast as it can, alternating an absolute link with one
 * that climbs with "..". What the code under test does meanwhile may rightly change what is there
 * (create the name while it is away, fill it); such things are put aside, never an error.
 */
public final class LinkSwapper implements AutoCloseable {

    private static final Path CLIMB = Path.of("../../../../../../../../../../../..");

    private final List<Path> places;
    private final Path target;
    private final AtomicBoolean stop = new AtomicBoolean();
    private final AtomicLong swaps = new AtomicLong();
    private final AtomicLong aside = new AtomicLong();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private final Thread thread;

    /** @param places directories (each root/name) to swap; each must exist */
    public LinkSwapper(List<Path> places, Path target) {
        this.places = List.copyOf(places);
        this.target = target.toAbsolutePath();
        this.thread = Thread.ofPlatform().name("link-swapper").start(this::run);
    }

    /** Completed swaps (to links and back) so far. */
    public long swaps() {
        return swaps.get();
    }

    private void run() {
        try {
            while (!stop.get()) {
                Path link = swaps.get() % 2 == 0
                        ? target
                        : CLIMB.resolve(target.toString().substring(1));
                for (Path p : places) {
                    toLink(p, link);
                }
                LockSupport.parkNanos(20_000); // hold each state long enough to be met
                for (Path p : places) {
                    back(p);
                }
                LockSupport.parkNanos(20_000);
                swaps.incrementAndGet();
            }
        } catch (Throwable t) {
            failure.set(t);
        }
    }

    private void toLink(Path place, Path link) throws IOException {
        moveIfThere(place, sibling(place, ".dir"));
        moveOnto(Files.createSymbolicLink(sibling(place, ".link"), link), place);
    }

    private void back(Path place) throws IOException {
        Path away = sibling(place, ".aside" + aside.incrementAndGet());
        moveIfThere(place, away);
        if (Files.isSymbolicLink(away)) {
            Files.delete(away);
        }
        Path dir = sibling(place, ".dir");
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            Files.deleteIfExists(dir);
            Files.createDirectory(dir);
        }
        moveOnto(dir, place);
    }

    private void moveOnto(Path from, Path place) throws IOException {
        while (true) {
            try {
                Files.move(from, place, StandardCopyOption.ATOMIC_MOVE);
                return;
            } catch (FileSystemException occupied) {
                moveIfThere(place, sibling(place, ".aside" + aside.incrementAndGet()));
            }
        }
    }

    private static void moveIfThere(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
        } catch (NoSuchFileException gone) {
            // nothing there this time
        }
    }

    private static Path sibling(Path place, String suffix) {
        return place.resolveSibling(place.getFileName() + suffix);
    }

    /** Stops the thread and waits for it; a failure of the swapper itself fails the test. */
    @Override
    public void close() throws InterruptedException {
        stop.set(true);
        thread.join();
        if (failure.get() != null) {
            throw new AssertionError("the swapper failed", failure.get());
        }
    }
}
