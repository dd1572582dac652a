package dev.stagefarm.worker.ops;

/** A COPY or ADD that cannot be carried out as written; the message says which source and why. */
public final class CopyException extends Exception {

    public CopyException(String message) {
        super(message);
    }
}
