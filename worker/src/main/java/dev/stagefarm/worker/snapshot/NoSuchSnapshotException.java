package dev.stagefarm.worker.snapshot;

import java.io.IOException;

/** A parent key that was never committed on this worker (or was committed under another root). */
public final class NoSuchSnapshotException extends IOException {

    private final String key;

    public NoSuchSnapshotException(String key) {
        super("no committed snapshot with key " + key + " on this worker");
        this.key = key;
    }

    public String key() {
        return key;
    }
}
