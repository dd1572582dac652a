package dev.stagefarm.cacheclient;

import dev.stagefarm.common.Digest;
import java.io.InterruptedIOException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;

/**
 * One upload of a blob at a time from this client, per team. The cache-server lets the newer of
 * two writes of one blob take over and tells the older one to resume, so two uploads of the same
 * bytes at once (a stage's layer and its artifact can be the same tar, two jobs can make the
 * same layer) would take the blob from each other until one gives up. The second waits for the
 * first instead, then finds the blob there.
 */
final class UploadsInFlight {

    private record Key(String team, Digest digest) {}

    private final ConcurrentHashMap<Key, CompletableFuture<Void>> running = new ConcurrentHashMap<>();

    /** A held turn: close it when the upload has ended, whichever way. */
    final class Turn implements AutoCloseable {
        private final Key key;
        private final CompletableFuture<Void> done;

        private Turn(Key key, CompletableFuture<Void> done) {
            this.key = key;
            this.done = done;
        }

        @Override
        public void close() {
            running.remove(key, done);
            done.complete(null);
        }
    }

    /** Waits until no other upload of {@code digest} for {@code team} runs, then takes the turn. */
    Turn await(String team, Digest digest) throws InterruptedIOException {
        Key key = new Key(team, digest);
        CompletableFuture<Void> mine = new CompletableFuture<>();
        while (true) {
            CompletableFuture<Void> other = running.putIfAbsent(key, mine);
            if (other == null) {
                return new Turn(key, mine);
            }
            try {
                other.get(); // completes normally however that upload ended
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted while another upload of " + digest + " ran");
            } catch (ExecutionException e) {
                throw new IllegalStateException("an upload turn never fails", e);
            }
        }
    }
}
