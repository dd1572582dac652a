package dev.stagefarm.worker.baseimage;

import java.io.IOException;

/**
 * A base image's layer over one of the worker's {@link LayerLimits}: one sentence naming the layer,
 * the limit and the flag that raises it. An {@link IOException} so that it can stop a read in the
 * middle of a stream; the job turns it into the step's error.
 */
public final class LayerLimitException extends IOException {

    private LayerLimitException(String message) {
        super(message);
    }

    /**
     * @param claim what is over, e.g. "layer sha256:… of repo unpacks to more than 32.0 GiB"
     * @param flag the worker flag that sets the limit
     */
    static LayerLimitException over(String claim, String flag) {
        return new LayerLimitException(claim + ", this worker's " + flag + ": use another base image, or raise " + flag
                + " on the workers if the image is genuine");
    }
}
