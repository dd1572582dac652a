package dev.stagefarm.worker.net;

import java.nio.file.Path;
import java.util.Optional;

/**
 * The network one RUN step runs in; closing it gives the namespace back.
 *
 * @param hostNetwork the step shares the host's network namespace ({@code --network=host})
 * @param namespace a prepared network namespace to join; empty (and not host) means a new one with
 *     only loopback, which runc creates
 * @param resolvConf the resolver configuration for the step; empty means the host's own
 */
public record StepNetwork(boolean hostNetwork, Optional<Path> namespace, Optional<Path> resolvConf, Runnable release)
        implements AutoCloseable {

    static StepNetwork ownEmptyNamespace() {
        return new StepNetwork(false, Optional.empty(), Optional.empty(), () -> {});
    }

    static StepNetwork host() {
        return new StepNetwork(true, Optional.empty(), Optional.empty(), () -> {});
    }

    @Override
    public void close() {
        release.run();
    }
}
