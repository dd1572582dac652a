package dev.stagefarm.coordinator.plan;

import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;

/**
 * Resolves each distinct image reference once per build. Without it every stage {@code FROM
 * busybox} asked the registry again (a wide graph of 9 stages: 9 round-trips, finishing at
 * different moments, so its stages started over a quarter of a second). Stages asking while a
 * resolution is in flight wait for that one. A build sees one digest per reference, as it would
 * had the tag not moved during the build; the next build resolves again.
 *
 * <p>{@link #prefetch} starts a resolution early (a stage whose inputs are still running), so that
 * the stage finds it done when it gets there; its failure is reported to the stage that asks.
 */
public final class OncePerBuildResolver implements BaseImageResolver {

    private final BaseImageResolver registry;
    private final Executor background;
    private final Map<String, CompletableFuture<StageBase>> resolutions = new ConcurrentHashMap<>();

    /** @param background where {@link #prefetch} runs a resolution nobody waits for yet */
    public OncePerBuildResolver(BaseImageResolver registry, Executor background) {
        this.registry = registry;
        this.background = background;
    }

    @Override
    public StageBase resolve(String image) throws BaseImageException {
        var mine = new CompletableFuture<StageBase>();
        CompletableFuture<StageBase> shared = resolutions.putIfAbsent(image, mine);
        if (shared == null) {
            complete(image, mine);
            shared = mine;
        }
        try {
            return shared.join();
        } catch (CompletionException e) {
            if (e.getCause() instanceof BaseImageException b) {
                throw b;
            }
            throw e;
        }
    }

    /** Starts resolving {@code image} unless this build already has. */
    public void prefetch(String image) {
        var mine = new CompletableFuture<StageBase>();
        if (resolutions.putIfAbsent(image, mine) == null) {
            background.execute(() -> complete(image, mine));
        }
    }

    private void complete(String image, CompletableFuture<StageBase> future) {
        try {
            future.complete(registry.resolve(image));
        } catch (BaseImageException | RuntimeException e) {
            future.completeExceptionally(e);
        }
    }
}
