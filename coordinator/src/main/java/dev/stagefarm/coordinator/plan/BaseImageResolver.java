package dev.stagefarm.coordinator.plan;

/** Turns a FROM image reference into the base a stage starts from. */
public interface BaseImageResolver {

    /**
     * @param image the expanded FROM value, e.g. {@code golang:latest}
     * @throws BaseImageException when the image cannot be resolved; the message says what to do
     */
    StageBase resolve(String image) throws BaseImageException;

    final class BaseImageException extends Exception {
        BaseImageException(String message, Throwable cause) {
            super(message, cause);
        }
    }
}
